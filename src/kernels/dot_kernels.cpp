// SIMD kernels for weight rows times float32 activations. Highway compiles
// this file once per target (foreach_target) and picks one at run time.
//
// Sum order: vector k of a row (elements [k*L, k*L + L), L lanes) is added by
// FMA into accumulator k % 4; a partial last vector is zero-padded. The four
// accumulators are added as (0 + 1) + (2 + 3) and reduced across lanes. This
// order depends only on the row length and the target, never on the number of
// tokens or threads, so matmul and matvec give bit-identical results.
//
// Types with integer kernels on the target (ActivationType is not F32) take
// the integer path of int_dot-inl.h instead, whose sum order is fixed as well.

#include <bit>
#include <cstring>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/dot_kernels.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/activation_quant-inl.h"
#include "kernels/dot_kernels.h"
#include "kernels/int_dot-inl.h"
#include "kernels/int_dot_avx512-inl.h"
#include "kernels/int_dot_block32-inl.h"
#include "kernels/int_matmul_avx2-inl.h"
#include "kernels/int_matmul_avx512-inl.h"
#include "kernels/quant_rows-inl.h"
#include "tensor/quantize_activations.h"

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Tokens that share one pass over a weight row in matmul. Each token needs
// four accumulators plus the four decoded weight vectors in registers.
#if HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL)
constexpr size_t kTokenTile = 4;  // 32 vector registers
#else
constexpr size_t kTokenTile = 2;  // 16 vector registers
#endif

// Weights [i, i + count) with count < Lanes, zero-padded to a full vector.
template <class Row>
HWY_INLINE VF LoadPartial(DF df, const uint8_t* row, size_t i, size_t count) {
  HWY_ALIGN uint8_t buffer[kMaxLanes * sizeof(float)] = {};
  std::memcpy(buffer, row + i * Row::kElementBytes, count * Row::kElementBytes);
  return Row::Load(df, buffer, 0);
}

HWY_INLINE VF LoadPartialF32(DF df, const float* x, size_t count) {
  HWY_ALIGN float buffer[kMaxLanes] = {};
  std::memcpy(buffer, x, count * sizeof(float));
  return hn::Load(df, buffer);
}

// out[t * out_stride] = dot(row, x + t * x_stride) for t < kTokens, in the
// sum order given at the top of this file. Each weight vector is decoded once
// for all tokens.
template <class Row, size_t kTokens>
HWY_INLINE void DotTokens(const uint8_t* HWY_RESTRICT row, const float* HWY_RESTRICT x, size_t x_stride,
                          size_t n, float* HWY_RESTRICT out, size_t out_stride) {
  const DF df;
  const size_t lanes = hn::Lanes(df);

  // NOTE: arrays of vectors do not compile for sizeless SVE/RVV vector types;
  // only the x86 targets have been built and tested.
  VF acc[kTokens][kAccumulators];
  for (size_t t = 0; t < kTokens; ++t) {
    for (size_t j = 0; j < kAccumulators; ++j) acc[t][j] = hn::Zero(df);
  }

  // Four vectors per step, one per accumulator.
  size_t i = 0;
  for (; i + kAccumulators * lanes <= n; i += kAccumulators * lanes) {
    VF w[kAccumulators];
    Row::Load4(df, row, i, w);
    for (size_t t = 0; t < kTokens; ++t) {
      const float* xt = x + t * x_stride + i;
      for (size_t j = 0; j < kAccumulators; ++j) {
        acc[t][j] = hn::MulAdd(w[j], hn::LoadU(df, xt + j * lanes), acc[t][j]);
      }
    }
  }

  // Up to three whole vectors, then a partial one, continuing the accumulator rotation.
  size_t k = 0;
  for (; i + lanes <= n; i += lanes, ++k) {
    const VF w = Row::Load(df, row, i);
    for (size_t t = 0; t < kTokens; ++t) {
      acc[t][k] = hn::MulAdd(w, hn::LoadU(df, x + t * x_stride + i), acc[t][k]);
    }
  }
  if constexpr (Row::kBlockSize == 1) {  // rows of block types are whole blocks
    if (i < n) {
      const VF w = LoadPartial<Row>(df, row, i, n - i);
      for (size_t t = 0; t < kTokens; ++t) {
        const VF xt = LoadPartialF32(df, x + t * x_stride + i, n - i);
        acc[t][k] = hn::MulAdd(w, xt, acc[t][k]);
      }
    }
  }

  for (size_t t = 0; t < kTokens; ++t) {
    const VF sum = hn::Add(hn::Add(acc[t][0], acc[t][1]), hn::Add(acc[t][2], acc[t][3]));
    out[t * out_stride] = hn::GetLane(hn::SumOfLanes(df, sum));
  }
}

// Rows [row_begin, row_end) times kTokens tokens.
template <class Row, size_t kTokens>
HWY_NOINLINE void RowsTimesTokens(const WeightMatrix& w, const float* x, float* y, size_t row_begin,
                                  size_t row_end) {
  for (size_t r = row_begin; r < row_end; ++r) {
    DotTokens<Row, kTokens>(w.row(r), x, w.cols, w.cols, y + r, w.rows);
  }
}

// Token tiles in the outer loop, so the chunk's weight rows stay in cache
// while the activations of one tile are reused across all of them.
template <class Row>
void MatmulRowsOf(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, size_t row_begin,
                  size_t row_end) {
  size_t t = 0;
  for (; t + kTokenTile <= n_tokens; t += kTokenTile) {
    RowsTimesTokens<Row, kTokenTile>(w, x + t * w.cols, y + t * w.rows, row_begin, row_end);
  }
  for (; t < n_tokens; ++t) {
    RowsTimesTokens<Row, 1>(w, x + t * w.cols, y + t * w.rows, row_begin, row_end);
  }
}

// Calls visit(Row()) with the decoder of `type`. Types without a decoder do
// nothing, because the public functions reject them first.
template <class Visitor>
HWY_INLINE void VisitRow(DType type, Visitor&& visit) {
  switch (type) {
    case DType::F32:
      return visit(F32Row());
    case DType::F16:
      return visit(F16Row());
    case DType::BF16:
      return visit(BF16Row());
    case DType::Q8_0:
      return visit(Q8Row());
    case DType::Q4_0:
      return visit(Q4_0Row());
    case DType::Q4_1:
      return visit(Q4_1Row());
    case DType::Q5_0:
      return visit(Q5_0Row());
    case DType::Q5_1:
      return visit(Q5_1Row());
    case DType::Q2_K:
      return visit(Q2_KRow());
    case DType::Q3_K:
      return visit(Q3_KRow());
    case DType::Q4_K:
      return visit(Q4_KRow());
    case DType::Q5_K:
      return visit(Q5_KRow());
    case DType::Q6_K:
      return visit(Q6_KRow());
    default:
      return;
  }
}

void MatmulRows(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, size_t row_begin,
                size_t row_end) {
  VisitRow(w.type, [&](auto row) { MatmulRowsOf<decltype(row)>(w, x, n_tokens, y, row_begin, row_end); });
}

template <class Row>
float DotRowOf(const uint8_t* row, const float* x, size_t n) {
  float out = 0.0f;
  DotTokens<Row, 1>(row, x, 0, n, &out, 0);
  return out;
}

float DotRow(DType type, const uint8_t* row, const float* x, size_t n) {
  float out = 0.0f;
  VisitRow(type, [&](auto decoder) { out = DotRowOf<decltype(decoder)>(row, x, n); });
  return out;
}

float DotF32(const float* a, const float* b, size_t n) {
  return DotRowOf<F32Row>(reinterpret_cast<const uint8_t*>(a), b, n);
}

void AxpyF32(float a, const float* x, float* y, size_t n) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  const VF va = hn::Set(df, a);

  size_t i = 0;
  for (; i + lanes <= n; i += lanes) {
    hn::StoreU(hn::MulAdd(va, hn::LoadU(df, x + i), hn::LoadU(df, y + i)), df, y + i);
  }

  // The tail goes through the same FMA so every element rounds alike.
  if (i < n) {
    HWY_ALIGN float result[kMaxLanes];
    const VF xt = LoadPartialF32(df, x + i, n - i);
    const VF yt = LoadPartialF32(df, y + i, n - i);
    hn::Store(hn::MulAdd(va, xt, yt), df, result);
    std::memcpy(y + i, result, (n - i) * sizeof(float));
  }
}

template <class Row>
void DequantizeRowOf(const uint8_t* src, float* dst, size_t n) {
  const DF df;
  const size_t lanes = hn::Lanes(df);

  size_t i = 0;
  for (; i + lanes <= n; i += lanes) hn::StoreU(Row::Load(df, src, i), df, dst + i);

  if constexpr (Row::kBlockSize == 1) {
    if (i < n) {
      HWY_ALIGN float result[kMaxLanes];
      hn::Store(LoadPartial<Row>(df, src, i, n - i), df, result);
      std::memcpy(dst + i, result, (n - i) * sizeof(float));
    }
  }
}

void DequantizeRow(DType type, const uint8_t* src, float* dst, size_t n) {
  VisitRow(type, [&](auto row) { DequantizeRowOf<decltype(row)>(src, dst, n); });
}

// The integer kernels: AVX2 intrinsics from AVX2 up, AVX-512 on the AVX3 targets.
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
constexpr bool kIntegerKernels = true;
#else
constexpr bool kIntegerKernels = false;
#endif

DType ActivationType(DType type) {
  if (!kIntegerKernels) return DType::F32;
  switch (type) {
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q8_0:
      return DType::Q8_0;
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
      return DType::Q8_K;
    default:
      return DType::F32;
  }
}

// Dot product of a row of n values of `type` with its quantized activations,
// for a type whose ActivationType is not F32.
HWY_INLINE float DotQuantized(DType type, const uint8_t* row, const uint8_t* xq, size_t n) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  const bool super_block = type == DType::Q2_K || type == DType::Q3_K || type == DType::Q4_K ||
                           type == DType::Q5_K || type == DType::Q6_K;
  const size_t n_blocks = n / (super_block ? quant::kSuperBlock : quant::kBlock32);
#endif

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  // 512-bit versions of the most used types; the rest use the AVX2 kernels below.
  switch (type) {
    case DType::Q8_0: {
      // The matmul tile's order, so that matvec and matmul agree.
      float out;
      TileQ8_0<1, 1>(&row, &xq, n_blocks, &out);
      return out;
    }
    case DType::Q4_0:
      return DotQ4_0Avx512(row, xq, n_blocks);
    case DType::Q4_K:
      return DotK4Avx512<quant::q4_k::kBytes, quant::q4_k::kQs, 0>(row, xq, n_blocks);
    case DType::Q5_K:
      return DotK4Avx512<quant::q5_k::kBytes, quant::q5_k::kQs, quant::q5_k::kQh>(row, xq, n_blocks);
    case DType::Q6_K:
      return DotQ6_KAvx512(row, xq, n_blocks);
    default:
      break;
  }
#endif

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  switch (type) {
    case DType::Q8_0:
      return DotQ8_0Row(row, xq, n_blocks);
    case DType::Q4_0:
      return DotQ4_0(row, xq, n_blocks);
    case DType::Q4_K:
      return DotK<Q4_KDecoder>(row, xq, n_blocks);
    case DType::Q5_K:
      return DotK<Q5_KDecoder>(row, xq, n_blocks);
    case DType::Q6_K:
      return DotK<Q6_KDecoder>(row, xq, n_blocks);
    case DType::Q2_K:
      return DotQ2_K(row, xq, n_blocks);
    case DType::Q3_K:
      return DotQ3_K(row, xq, n_blocks);
    case DType::Q4_1:
      return DotQ4_1(row, xq, n_blocks);
    case DType::Q5_0:
      return DotQ5_0(row, xq, n_blocks);
    case DType::Q5_1:
      return DotQ5_1(row, xq, n_blocks);
    default:
      return 0.0f;
  }
#else
  return 0.0f;
#endif
}

// matvec never quantizes activations on targets without integer kernels,
// where this falls back to the scalar reference.
void QuantizeActivations(DType type, const float* x, uint8_t* dst, size_t n) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  QuantizeActivationRow(type, x, dst, n);
#else
  quantize_activations_ref(type, x, dst, n);
#endif
}

// Rows in the outer loop: each weight row is read once for all tokens.
void MatmulRowsQuantized(const WeightMatrix& w, const uint8_t* xq, size_t xq_stride, size_t n_tokens, float* y,
                         size_t row_begin, size_t row_end) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3
  if (w.type == DType::Q8_0) return MatmulQ8_0Avx512(w, xq, xq_stride, n_tokens, y, row_begin, row_end);
#elif HWY_ARCH_X86 && HWY_TARGET == HWY_AVX2
  switch (w.type) {
    case DType::Q8_0:
      return MatmulQ8_0Avx2(w, xq, xq_stride, n_tokens, y, row_begin, row_end);
    case DType::Q4_K:
      return MatmulK<Q4_KDecoder>(w, xq, xq_stride, n_tokens, y, row_begin, row_end);
    case DType::Q5_K:
      return MatmulK<Q5_KDecoder>(w, xq, xq_stride, n_tokens, y, row_begin, row_end);
    case DType::Q6_K:
      return MatmulK<Q6_KDecoder>(w, xq, xq_stride, n_tokens, y, row_begin, row_end);
    default:
      break;
  }
#endif
  for (size_t r = row_begin; r < row_end; ++r) {
    for (size_t t = 0; t < n_tokens; ++t) {
      y[t * w.rows + r] = DotQuantized(w.type, w.row(r), xq + t * xq_stride, w.cols);
    }
  }
}

float DotRowQuantized(DType type, const uint8_t* row, const uint8_t* xq, size_t n) {
  return DotQuantized(type, row, xq, n);
}

int64_t DispatchedTarget() { return HWY_TARGET; }

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgelm::kernels {

HWY_EXPORT(MatmulRows);
HWY_EXPORT(DotRow);
HWY_EXPORT(DotF32);
HWY_EXPORT(AxpyF32);
HWY_EXPORT(DequantizeRow);
HWY_EXPORT(ActivationType);
HWY_EXPORT(QuantizeActivations);
HWY_EXPORT(MatmulRowsQuantized);
HWY_EXPORT(DotRowQuantized);
HWY_EXPORT(DispatchedTarget);

void matmul_rows(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, size_t row_begin,
                 size_t row_end) {
  HWY_DYNAMIC_DISPATCH(MatmulRows)(w, x, n_tokens, y, row_begin, row_end);
}

float dot_row(DType type, const uint8_t* row, const float* x, size_t n) {
  return HWY_DYNAMIC_DISPATCH(DotRow)(type, row, x, n);
}

float dot_f32(const float* a, const float* b, size_t n) { return HWY_DYNAMIC_DISPATCH(DotF32)(a, b, n); }

void axpy_f32(float a, const float* x, float* y, size_t n) { HWY_DYNAMIC_DISPATCH(AxpyF32)(a, x, y, n); }

void dequantize_row(DType type, const uint8_t* src, float* dst, size_t n) {
  HWY_DYNAMIC_DISPATCH(DequantizeRow)(type, src, dst, n);
}

DType activation_type(DType type) { return HWY_DYNAMIC_DISPATCH(ActivationType)(type); }

void quantize_activations(DType type, const float* x, uint8_t* dst, size_t n) {
  HWY_DYNAMIC_DISPATCH(QuantizeActivations)(type, x, dst, n);
}

void matmul_rows_quantized(const WeightMatrix& w, const uint8_t* xq, size_t xq_stride, size_t n_tokens, float* y,
                           size_t row_begin, size_t row_end) {
  HWY_DYNAMIC_DISPATCH(MatmulRowsQuantized)(w, xq, xq_stride, n_tokens, y, row_begin, row_end);
}

float dot_row_quantized(DType type, const uint8_t* row, const uint8_t* xq, size_t n) {
  return HWY_DYNAMIC_DISPATCH(DotRowQuantized)(type, row, xq, n);
}

int64_t dispatched_target() { return HWY_DYNAMIC_DISPATCH(DispatchedTarget)(); }

}  // namespace edgelm::kernels
#endif  // HWY_ONCE
