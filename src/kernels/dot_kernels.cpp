// SIMD kernels for weight rows times float32 activations. Highway compiles
// this file once per target (foreach_target) and picks one at run time.
//
// Sum order: vector k of a row (elements [k*L, k*L + L), L lanes) is added by
// FMA into accumulator k % 4; a partial last vector is zero-padded. The four
// accumulators are added as (0 + 1) + (2 + 3) and reduced across lanes. This
// order depends only on the row length and the target, never on the number of
// tokens or threads, so matmul and matvec give bit-identical results.

#include <bit>
#include <cstring>
#include <type_traits>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/dot_kernels.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "kernels/dot_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// At most 32 lanes, so a Q8_0 block of 32 values holds a whole number of vectors.
using DF = hn::CappedTag<float, 32>;
using VF = hn::Vec<DF>;

constexpr size_t kAccumulators = 4;
constexpr size_t kMaxLanes = hn::MaxLanes(DF());
constexpr size_t kQ8Block = 32;
constexpr size_t kQ8BlockBytes = 34;  // fp16 scale + 32 int8 quants

// Tokens that share one pass over a weight row in matmul. Each token needs
// four accumulators plus the four decoded weight vectors in registers.
#if HWY_ARCH_X86 && (HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL)
constexpr size_t kTokenTile = 4;  // 32 vector registers
#else
constexpr size_t kTokenTile = 2;  // 16 vector registers
#endif

// Exact fp16 to f32 for one Q8_0 scale.
HWY_INLINE float LoadHalf(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  const uint32_t magnitude = h & 0x7fffu;
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;

  uint32_t bits;
  if (magnitude >= 0x7c00u) {
    bits = 0x7f800000u | ((magnitude & 0x3ffu) << 13);  // infinity, NaN
  } else if (magnitude >= 0x400u) {
    bits = (magnitude << 13) + (112u << 23);  // normal: rebias 15 -> 127
  } else {
    // Subnormal: mantissa * 2^-24, exact and normal in f32.
    bits = std::bit_cast<uint32_t>(static_cast<float>(magnitude) * 0x1p-24f);
  }
  return std::bit_cast<float>(bits | sign);
}

// A Q8_0 block's scale in every lane. F16C (AVX2 and AVX-512) converts it in
// one instruction; other targets use the integer conversion above.
HWY_INLINE VF LoadScale(DF df, const uint8_t* block) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  const hn::CappedTag<float, 1> d1;
  const hn::Rebind<hwy::float16_t, decltype(d1)> dh1;
  const hn::Rebind<uint16_t, decltype(d1)> du1;
  uint16_t h;
  std::memcpy(&h, block, sizeof(h));
  return hn::Set(df, hn::GetLane(hn::PromoteTo(d1, hn::BitCast(dh1, hn::Set(du1, h)))));
#else
  return hn::Set(df, LoadHalf(block));
#endif
}

// Exact fp16 to f32 for a vector, including subnormals, infinity and NaN.
// AVX2 and AVX-512 convert in hardware (F16C); Highway 1.0.3 emulates the
// conversion elsewhere without infinity and NaN, so those targets use integer ops.
HWY_INLINE VF LoadHalfVector(DF df, const uint16_t* p) {
  const hn::Rebind<uint16_t, DF> du16;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  const hn::Rebind<hwy::float16_t, DF> df16;
  return hn::PromoteTo(df, hn::BitCast(df16, hn::LoadU(du16, p)));
#else
  const hn::RebindToSigned<DF> di;
  const hn::RebindToUnsigned<DF> du;
  const auto bits = hn::BitCast(di, hn::PromoteTo(du, hn::LoadU(du16, p)));
  const auto sign = hn::ShiftLeft<16>(hn::And(bits, hn::Set(di, 0x8000)));
  const auto magnitude = hn::And(bits, hn::Set(di, 0x7fff));

  // Normal: rebias the exponent from 15 to 127; infinity and NaN once more to reach 255.
  const auto rebias = hn::Set(di, 112 << 23);
  auto normal = hn::Add(hn::ShiftLeft<13>(magnitude), rebias);
  normal = hn::IfThenElse(magnitude > hn::Set(di, 0x7bff), hn::Add(normal, rebias), normal);

  // Subnormal: mantissa * 2^-24.
  const auto subnormal = hn::BitCast(di, hn::Mul(hn::ConvertTo(df, magnitude), hn::Set(df, 0x1p-24f)));

  const auto result = hn::IfThenElse(magnitude < hn::Set(di, 0x400), subnormal, normal);
  return hn::BitCast(df, hn::Or(result, sign));
#endif
}

// Weight decoders: Load returns weights [i, i + Lanes) of a row as floats and
// Load4 the four vectors from i, a multiple of 4 * Lanes.
template <class Row>
struct LoadFourVectors {
  static HWY_INLINE void Load4(DF df, const uint8_t* row, size_t i, VF (&w)[kAccumulators]) {
    const size_t lanes = hn::Lanes(df);
    for (size_t j = 0; j < kAccumulators; ++j) w[j] = Row::Load(df, row, i + j * lanes);
  }
};

struct F32Row : LoadFourVectors<F32Row> {
  static constexpr size_t kElementBytes = 4;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    return hn::LoadU(df, reinterpret_cast<const float*>(row) + i);
  }
};

struct F16Row : LoadFourVectors<F16Row> {
  static constexpr size_t kElementBytes = 2;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    return LoadHalfVector(df, reinterpret_cast<const uint16_t*>(row) + i);
  }
};

// bfloat16 is the top half of a float32.
struct BF16Row : LoadFourVectors<BF16Row> {
  static constexpr size_t kElementBytes = 2;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const hn::Rebind<uint16_t, DF> du16;
    const hn::RebindToUnsigned<DF> du32;
    const auto bits = hn::PromoteTo(du32, hn::LoadU(du16, reinterpret_cast<const uint16_t*>(row) + i));
    return hn::BitCast(df, hn::ShiftLeft<16>(bits));
  }
};

// Q8_0: d * q. The product is exact in f32 (8-bit times 11-bit significands).
struct Q8Row {
  static HWY_INLINE VF Quants(DF df, const uint8_t* block, size_t offset) {
    const hn::Rebind<int8_t, DF> di8;
    const hn::Rebind<int32_t, DF> di32;
    const auto q = hn::LoadU(di8, reinterpret_cast<const int8_t*>(block + 2 + offset));
    return hn::ConvertTo(df, hn::PromoteTo(di32, q));
  }

  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kQ8Block) * kQ8BlockBytes;
    return hn::Mul(Quants(df, block, i % kQ8Block), LoadScale(df, block));
  }

  // Decodes each block's scale once: vectors that share a block share it.
  static HWY_INLINE void Load4(DF df, const uint8_t* row, size_t i, VF (&w)[kAccumulators]) {
    const size_t lanes = hn::Lanes(df);
    const size_t vectors_per_block = kQ8Block / lanes;
    VF scale = hn::Zero(df);
    for (size_t j = 0; j < kAccumulators; ++j) {
      const size_t e = i + j * lanes;
      const uint8_t* block = row + (e / kQ8Block) * kQ8BlockBytes;
      if (j % vectors_per_block == 0) scale = LoadScale(df, block);
      w[j] = hn::Mul(Quants(df, block, e % kQ8Block), scale);
    }
  }
};

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
  if constexpr (!std::is_same_v<Row, Q8Row>) {  // Q8_0 rows are whole blocks
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

void MatmulRows(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, size_t row_begin,
                size_t row_end) {
  switch (w.type) {
    case DType::F32:
      return MatmulRowsOf<F32Row>(w, x, n_tokens, y, row_begin, row_end);
    case DType::F16:
      return MatmulRowsOf<F16Row>(w, x, n_tokens, y, row_begin, row_end);
    case DType::BF16:
      return MatmulRowsOf<BF16Row>(w, x, n_tokens, y, row_begin, row_end);
    case DType::Q8_0:
      return MatmulRowsOf<Q8Row>(w, x, n_tokens, y, row_begin, row_end);
    default:
      return;  // rejected by the caller
  }
}

template <class Row>
float DotRowOf(const uint8_t* row, const float* x, size_t n) {
  float out = 0.0f;
  DotTokens<Row, 1>(row, x, 0, n, &out, 0);
  return out;
}

float DotRow(DType type, const uint8_t* row, const float* x, size_t n) {
  switch (type) {
    case DType::F32:
      return DotRowOf<F32Row>(row, x, n);
    case DType::F16:
      return DotRowOf<F16Row>(row, x, n);
    case DType::BF16:
      return DotRowOf<BF16Row>(row, x, n);
    case DType::Q8_0:
      return DotRowOf<Q8Row>(row, x, n);
    default:
      return 0.0f;  // rejected by the caller
  }
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

  if constexpr (!std::is_same_v<Row, Q8Row>) {
    if (i < n) {
      HWY_ALIGN float result[kMaxLanes];
      hn::Store(LoadPartial<Row>(df, src, i, n - i), df, result);
      std::memcpy(dst + i, result, (n - i) * sizeof(float));
    }
  }
}

void DequantizeRow(DType type, const uint8_t* src, float* dst, size_t n) {
  switch (type) {
    case DType::F32:
      return DequantizeRowOf<F32Row>(src, dst, n);
    case DType::F16:
      return DequantizeRowOf<F16Row>(src, dst, n);
    case DType::BF16:
      return DequantizeRowOf<BF16Row>(src, dst, n);
    case DType::Q8_0:
      return DequantizeRowOf<Q8Row>(src, dst, n);
    default:
      return;  // rejected by the caller
  }
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

int64_t dispatched_target() { return HWY_DYNAMIC_DISPATCH(DispatchedTarget)(); }

}  // namespace edgelm::kernels
#endif  // HWY_ONCE
