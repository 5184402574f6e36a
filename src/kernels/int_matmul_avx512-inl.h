// Tiled Q8_0 matmul for the AVX3 targets. A tile of up to 4 weight rows by 4
// tokens loads each weight block once for all its tokens and each activation
// block once for all its rows. Every (row, token) output is summed in the same
// order (block pairs into one accumulator) whatever the tile size, so matvec
// and matmul give the same floats.

// Per-target include guard.
#if defined(EDGELM_KERNELS_INT_MATMUL_AVX512_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EDGELM_KERNELS_INT_MATMUL_AVX512_INL_H_
#undef EDGELM_KERNELS_INT_MATMUL_AVX512_INL_H_
#else
#define EDGELM_KERNELS_INT_MATMUL_AVX512_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/int_dot-inl.h"
#include "kernels/int_dot_avx512-inl.h"
#include "tensor/quant_blocks.h"

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3

// Scales of blocks b (low 8 lanes) and b + 1 (high 8 lanes) of a Q8_0 row.
HWY_INLINE __m512 PairScales(const uint8_t* block, bool has_high) {
  const float high = has_high ? HalfAt(block + quant::q8_0::kBytes + quant::q8_0::kD) : 0.0f;
  return _mm512_insertf32x8(_mm512_set1_ps(HalfAt(block + quant::q8_0::kD)), _mm256_set1_ps(high), 1);
}

// Quants of blocks b and b + 1 (zero past the row).
HWY_INLINE __m512i PairQuants(const uint8_t* block, bool has_high) {
  if (!has_high) return _mm512_zextsi256_si512(Load256(block + quant::q8_0::kQs));
  return LoadTwo256(block + quant::q8_0::kQs, block + quant::q8_0::kBytes + quant::q8_0::kQs);
}

// out[r * kTokens + t] = row r . activations t, for Q8_0 rows and Q8_0 activations.
template <size_t kRows, size_t kTokens>
HWY_INLINE void TileQ8_0(const uint8_t* const* rows, const uint8_t* const* xs, size_t n_blocks, float* out) {
  const __m512i ones = _mm512_set1_epi16(1);
  __m512 acc[kRows][kTokens];
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t t = 0; t < kTokens; ++t) acc[r][t] = _mm512_setzero_ps();
  }

  for (size_t b = 0; b < n_blocks; b += 2) {
    const bool has_high = b + 1 < n_blocks;
    const size_t offset = b * quant::q8_0::kBytes;

    // |w| and w's sign once per row: maddubs multiplies unsigned by signed bytes.
    __m512i abs_w[kRows];
    __mmask64 negative[kRows];
    __m512 w_scales[kRows];
    for (size_t r = 0; r < kRows; ++r) {
      const __m512i w = PairQuants(rows[r] + offset, has_high);
      abs_w[r] = _mm512_abs_epi8(w);
      negative[r] = _mm512_movepi8_mask(w);
      w_scales[r] = PairScales(rows[r] + offset, has_high);
    }

    for (size_t t = 0; t < kTokens; ++t) {
      const __m512i x = PairQuants(xs[t] + offset, has_high);
      const __m512 x_scales = PairScales(xs[t] + offset, has_high);
      for (size_t r = 0; r < kRows; ++r) {
        const __m512i signed_x = _mm512_mask_sub_epi8(x, negative[r], _mm512_setzero_si512(), x);
        const __m512i sum = _mm512_madd_epi16(_mm512_maddubs_epi16(abs_w[r], signed_x), ones);
        acc[r][t] = _mm512_fmadd_ps(_mm512_mul_ps(w_scales[r], x_scales), _mm512_cvtepi32_ps(sum), acc[r][t]);
      }
    }
  }

  for (size_t r = 0; r < kRows; ++r) {
    for (size_t t = 0; t < kTokens; ++t) out[r * kTokens + t] = HorizontalSum(acc[r][t]);
  }
}

// TileQ8_0 with run-time tile sizes from 1 to 4.
template <size_t kRows>
HWY_INLINE void TileQ8_0Tokens(size_t n_tokens, const uint8_t* const* rows, const uint8_t* const* xs,
                               size_t n_blocks, float* out) {
  switch (n_tokens) {
    case 1: return TileQ8_0<kRows, 1>(rows, xs, n_blocks, out);
    case 2: return TileQ8_0<kRows, 2>(rows, xs, n_blocks, out);
    case 3: return TileQ8_0<kRows, 3>(rows, xs, n_blocks, out);
    default: return TileQ8_0<kRows, 4>(rows, xs, n_blocks, out);
  }
}

HWY_INLINE void TileQ8_0Any(size_t n_rows, size_t n_tokens, const uint8_t* const* rows, const uint8_t* const* xs,
                            size_t n_blocks, float* out) {
  switch (n_rows) {
    case 1: return TileQ8_0Tokens<1>(n_tokens, rows, xs, n_blocks, out);
    case 2: return TileQ8_0Tokens<2>(n_tokens, rows, xs, n_blocks, out);
    case 3: return TileQ8_0Tokens<3>(n_tokens, rows, xs, n_blocks, out);
    default: return TileQ8_0Tokens<4>(n_tokens, rows, xs, n_blocks, out);
  }
}

// Rows [row_begin, row_end) of y = W x for every token, in tiles of 4 x 4.
HWY_INLINE void MatmulQ8_0Avx512(const WeightMatrix& w, const uint8_t* xq, size_t xq_stride, size_t n_tokens,
                                 float* y, size_t row_begin, size_t row_end) {
  const size_t n_blocks = w.cols / quant::kBlock32;
  for (size_t r0 = row_begin; r0 < row_end; r0 += 4) {
    const size_t n_rows = std::min<size_t>(4, row_end - r0);
    const uint8_t* rows[4];
    for (size_t r = 0; r < n_rows; ++r) rows[r] = w.row(r0 + r);

    for (size_t t0 = 0; t0 < n_tokens; t0 += 4) {
      const size_t n_tile = std::min<size_t>(4, n_tokens - t0);
      const uint8_t* xs[4];
      for (size_t t = 0; t < n_tile; ++t) xs[t] = xq + (t0 + t) * xq_stride;

      float out[16];
      TileQ8_0Any(n_rows, n_tile, rows, xs, n_blocks, out);
      for (size_t r = 0; r < n_rows; ++r) {
        for (size_t t = 0; t < n_tile; ++t) y[(t0 + t) * w.rows + r0 + r] = out[r * n_tile + t];
      }
    }
  }
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#endif  // EDGELM_KERNELS_INT_MATMUL_AVX512_INL_H_
