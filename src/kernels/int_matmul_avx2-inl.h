// Tiled integer kernels for the AVX2 targets: Q8_0 rows against Q8_0
// activations, and Q4_K, Q5_K and Q6_K rows against Q8_K activations.
// matvec runs them with one token and matmul (prefill) with tiles of tokens,
// so every weight block is decoded once for several tokens.
//
// Sum order, which every tile size keeps, so matvec and matmul agree bit for bit:
// - Q8_0: for each block in row order, acc = fma(d_w * d_x, float(int sums
//   of 8 lanes), acc); the 8 lanes are reduced at the end of the row.
// - Q4_K and Q5_K: for each super-block, the 8 int32 lanes of the sum over
//   chunks of scale * (q . x) become float and acc = fma(d_w * d_x, them,
//   acc); then the 8 lanes of the correction (mins times activation sums)
//   are subtracted as acc = fnmadd(dmin_w * d_x, them, acc).
// - Q6_K: the correction (the offset 32 times scale times activation sums)
//   is subtracted from the int32 lanes, then acc = fma(d_w * d_x, them, acc).
// Integer sums are exact, so how a kernel computes them does not matter, only
// which lane contains what.

// Per-target include guard.
#if defined(EDGELM_KERNELS_INT_MATMUL_AVX2_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EDGELM_KERNELS_INT_MATMUL_AVX2_INL_H_
#undef EDGELM_KERNELS_INT_MATMUL_AVX2_INL_H_
#else
#define EDGELM_KERNELS_INT_MATMUL_AVX2_INL_H_
#endif

#include <algorithm>
#include <cstring>
#include <vector>

#include "hwy/highway.h"
#include "kernels/int_dot-inl.h"
#include "tensor/quant_blocks.h"
#include "tensor/weight_matrix.h"

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2

// ---- Q8_0 ----

// Bytes ahead of the current block that matvec prefetches in its row. On a
// 2-core AMD EPYC (Zen 3), Q8_0 rows read one at a time reached 97-99 % of a
// plain load loop's rate with 2048 bytes, 87 % with 768 and 91 % with 1024.
// The likely reason is that the hardware prefetcher stops at each 4 KiB page,
// so the software one must run a whole memory latency ahead. Four interleaved
// rows reached 67 %, because the hardware prefetcher follows one stream per
// core best.
constexpr size_t kMatvecPrefetchBytes = 2048;

// The 8 int32 sums of 32 products of Q8_0 weight quants w (|w| in abs_w) and
// activation quants x. maddubs multiplies unsigned by signed bytes, so |w|
// meets x with w's sign.
HWY_INLINE __m256i DotQ8Quants(__m256i abs_w, __m256i w, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(abs_w, _mm256_sign_epi8(x, w)), _mm256_set1_epi16(1));
}

// row . activations for one Q8_0 row and Q8_0 activations.
HWY_INLINE float DotQ8_0Row(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (size_t b = 0; b < n_blocks; ++b) {
    const uint8_t* w_block = row + b * quant::q8_0::kBytes;
    const uint8_t* x_block = xq + b * quant::q8_0::kBytes;
    if ((b & 1) == 0) _mm_prefetch(reinterpret_cast<const char*>(w_block + kMatvecPrefetchBytes), _MM_HINT_T0);

    const __m256i w = Load256(w_block + quant::q8_0::kQs);
    const __m256i sum = DotQ8Quants(_mm256_abs_epi8(w), w, Load256(x_block + quant::q8_0::kQs));
    const float scale = HalfAt(w_block + quant::q8_0::kD) * HalfAt(x_block + quant::q8_0::kD);
    acc = _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(sum), acc);
  }
  return HorizontalSum(acc);
}

// Rows and tokens of one Q8_0 tile, and the scale products it reads per block.
constexpr size_t kQ8TileRows = 2, kQ8TileTokens = 4;
constexpr size_t kQ8TileProducts = kQ8TileRows * kQ8TileTokens;

// out[r * kTokens + t] = row r . activations t, in DotQ8_0Row's order.
// products[b * 8 + r * 4 + t] is d_w * d_x of block b for row r and token t.
// Broadcast loads of them leave the vector ALUs to the dot products. They are
// stored a tile early, because a load right after its store stalls.
template <size_t kRows, size_t kTokens>
HWY_INLINE void TileQ8_0Avx2(const uint8_t* const* rows, const uint8_t* const* xs, const float* products,
                             size_t n_blocks, float* out) {
  static_assert(kRows <= kQ8TileRows && kTokens <= kQ8TileTokens);
  __m256 acc[kRows][kTokens];
  for (size_t r = 0; r < kRows; ++r) {
    for (size_t t = 0; t < kTokens; ++t) acc[r][t] = _mm256_setzero_ps();
  }

  for (size_t b = 0; b < n_blocks; ++b) {
    const size_t offset = b * quant::q8_0::kBytes + quant::q8_0::kQs;
    const float* block_products = products + b * kQ8TileProducts;
    __m256i w[kRows], abs_w[kRows];
    for (size_t r = 0; r < kRows; ++r) {
      w[r] = Load256(rows[r] + offset);
      abs_w[r] = _mm256_abs_epi8(w[r]);
    }
    for (size_t t = 0; t < kTokens; ++t) {
      const __m256i x = Load256(xs[t] + offset);
      for (size_t r = 0; r < kRows; ++r) {
        const __m256 scale = _mm256_broadcast_ss(block_products + r * kQ8TileTokens + t);
        acc[r][t] = _mm256_fmadd_ps(scale, _mm256_cvtepi32_ps(DotQ8Quants(abs_w[r], w[r], x)), acc[r][t]);
      }
    }
  }

  for (size_t r = 0; r < kRows; ++r) {
    for (size_t t = 0; t < kTokens; ++t) out[r * kTokens + t] = HorizontalSum(acc[r][t]);
  }
}

// products[b * 8 + r * 4 + t] = row_scales[b * 8 + r * 4] * token_scales[b * 4 + t]:
// row_scales contains each row's block scale 4 times, token_scales 4 tokens'.
HWY_INLINE void ScaleProductsQ8_0(const float* row_scales, const float* token_scales, size_t n_blocks,
                                  float* products) {
  for (size_t b = 0; b < n_blocks; ++b) {
    const __m256 tokens = _mm256_broadcast_ps(reinterpret_cast<const __m128*>(token_scales + b * kQ8TileTokens));
    _mm256_storeu_ps(products + b * kQ8TileProducts,
                     _mm256_mul_ps(_mm256_loadu_ps(row_scales + b * kQ8TileProducts), tokens));
  }
}

// Rows [row_begin, row_end) of Y = W X. One token (matvec) goes row by row.
// A prompt goes in blocks of 64 tokens, whose activations stay in L2 while
// every row passes. Within a block it goes in tiles of 2 rows by 4 tokens.
// Block scales become float once per row pair and token block, and their
// products one tile ahead of the tile that reads them.
HWY_INLINE void MatmulQ8_0Avx2(const WeightMatrix& w, const uint8_t* xq, size_t xq_stride, size_t n_tokens, float* y,
                               size_t row_begin, size_t row_end) {
  const size_t n_blocks = w.cols / quant::kBlock32;
  if (n_tokens == 1) {
    for (size_t r = row_begin; r < row_end; ++r) y[r] = DotQ8_0Row(w.row(r), xq, n_blocks);
    return;
  }

  constexpr size_t kRows = kQ8TileRows, kTokens = kQ8TileTokens, kTokenBlock = 64;
  constexpr size_t kTiles = kTokenBlock / kTokens;
  static_assert(kTokenBlock % kTokens == 0 && kTiles > 0);
  // Per block, three arrays: the row pair's scales (4 copies of each), the
  // scales of every tile's 4 tokens, and the scale products of two tiles.
  // Entries of missing rows and tokens in edge tiles keep stale values, which
  // only reach outputs that are not written.
  thread_local std::vector<float> scales;
  scales.resize((kQ8TileProducts + kTokenBlock + 2 * kQ8TileProducts) * n_blocks);
  float* const row_scales = scales.data();
  float* const tile_scales = row_scales + kQ8TileProducts * n_blocks;  // tile i at i * 4 * n_blocks
  float* const products[2] = {tile_scales + kTokenBlock * n_blocks,
                              tile_scales + (kTokenBlock + kQ8TileProducts) * n_blocks};

  for (size_t t_block = 0; t_block < n_tokens; t_block += kTokenBlock) {
    const size_t n_block_tokens = std::min(kTokenBlock, n_tokens - t_block);
    const size_t n_block_tiles = (n_block_tokens + kTokens - 1) / kTokens;
    for (size_t t = 0; t < n_block_tokens; ++t) {
      const uint8_t* x = xq + (t_block + t) * xq_stride;
      float* scales_of_tile = tile_scales + (t / kTokens) * kTokens * n_blocks;
      for (size_t b = 0; b < n_blocks; ++b) {
        scales_of_tile[b * kTokens + t % kTokens] = HalfAt(x + b * quant::q8_0::kBytes + quant::q8_0::kD);
      }
    }

    for (size_t r0 = row_begin; r0 < row_end; r0 += kRows) {
      const size_t n_rows = std::min(kRows, row_end - r0);
      const uint8_t* rows[kRows];
      for (size_t r = 0; r < n_rows; ++r) {
        rows[r] = w.row(r0 + r);
        for (size_t b = 0; b < n_blocks; ++b) {
          const float d = HalfAt(rows[r] + b * quant::q8_0::kBytes + quant::q8_0::kD);
          for (size_t t = 0; t < kTokens; ++t) row_scales[b * kQ8TileProducts + r * kTokens + t] = d;
        }
      }

      ScaleProductsQ8_0(row_scales, tile_scales, n_blocks, products[0]);
      for (size_t tile = 0; tile < n_block_tiles; ++tile) {
        if (tile + 1 < n_block_tiles) {
          ScaleProductsQ8_0(row_scales, tile_scales + (tile + 1) * kTokens * n_blocks, n_blocks,
                            products[(tile + 1) % 2]);
        }
        const float* tile_products = products[tile % 2];
        const size_t t0 = t_block + tile * kTokens;
        const size_t n_tile = std::min(kTokens, t_block + n_block_tokens - t0);
        const uint8_t* xs[kTokens];
        for (size_t t = 0; t < n_tile; ++t) xs[t] = xq + (t0 + t) * xq_stride;

        float out[kRows * kTokens] = {};
        if (n_rows == kRows && n_tile == kTokens) {
          TileQ8_0Avx2<kRows, kTokens>(rows, xs, tile_products, n_blocks, out);
        } else {
          // Edges one output at a time; the sum order is the same.
          for (size_t r = 0; r < n_rows; ++r) {
            for (size_t t = 0; t < n_tile; ++t) {
              TileQ8_0Avx2<1, 1>(&rows[r], &xs[t], tile_products + r * kTokens + t, n_blocks, &out[r * kTokens + t]);
            }
          }
        }
        for (size_t r = 0; r < n_rows; ++r) {
          for (size_t t = 0; t < n_tile; ++t) y[(t0 + t) * w.rows + r0 + r] = out[r * kTokens + t];
        }
      }
    }
  }
}

// ---- K-quants ----

// One super-block of a Q4_K, Q5_K or Q6_K row, decoded for the integer dot.
// It has 256 unsigned quants in 8 chunks of 32 and each chunk's 16-bit scales
// (lanes 0-7 scale elements 0-15 of the chunk, lanes 8-15 elements 16-31).
// Its 16 correction weights, one per group of 16 elements, meet the Q8_K
// activation sums.
struct DecodedSuperBlock {
  __m256i q[8];
  __m256i scales[8];
  __m256i correction;
  float d;  // scale of the quant sums
  float c;  // scale of the correction
};

// A decoder gives a super-block's correction weights and scales through
// Header(), and its chunks in order through ForEachChunk(visit), which calls
// visit(k, quants, scales) for k = 0..7. The tile stores them; matvec uses
// each chunk as it comes.

// Q4_K and Q5_K: chunk 2j contains the low nibbles of packed bytes 32j..,
// and chunk 2j + 1 the high ones. Chunk k is group k of 32 elements, with a
// 6-bit scale and min. kQh is 0 for Q4_K.
template <size_t kBytes, size_t kQs, size_t kQh>
struct K4Decoder {
  static constexpr size_t kBlockBytes = kBytes;
  static constexpr bool kCorrectionScaleIsD = false;  // the mins have their own scale dmin

  // The scales as int16, each in both 128-bit halves, for ForEachChunk.
  struct Header {
    __m256i scales16;
    __m256i correction;
    float d, c;
  };

  static HWY_INLINE Header ReadHeader(const uint8_t* w) {
    const __m128i scales_mins = UnpackScalesMins(w + quant::q4_k::kScales);
    // Each min weighs two groups of 16: mins m0..m7 become m0 m0 m1 m1 ...
    const __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(scales_mins, 8));
    return {_mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(scales_mins)),
            _mm256_set_m128i(_mm_unpackhi_epi16(mins, mins), _mm_unpacklo_epi16(mins, mins)),
            HalfAt(w + quant::q4_k::kD), HalfAt(w + quant::q4_k::kDmin)};
  }

  template <class Visit>
  static HWY_INLINE void ForEachChunk(const uint8_t* w, const Header& header, const Visit& visit) {
    const __m256i low_mask = _mm256_set1_epi8(0x0f);
    const __m256i one = _mm256_set1_epi8(1);
    __m256i high_bits = kQh != 0 ? Load256(w + kQh) : _mm256_setzero_si256();
    for (int j = 0; j < 4; ++j) {
      const __m256i packed = Load256(w + kQs + 32 * j);
      __m256i q_low = _mm256_and_si256(packed, low_mask);
      __m256i q_high = _mm256_and_si256(_mm256_srli_epi16(packed, 4), low_mask);
      if constexpr (kQh != 0) {
        q_low = _mm256_or_si256(q_low, _mm256_slli_epi16(_mm256_and_si256(high_bits, one), 4));
        q_high = _mm256_or_si256(q_high, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high_bits, 1), one), 4));
        high_bits = _mm256_srli_epi16(high_bits, 2);
      }
      visit(2 * j, q_low, SelectScales(header.scales16, 2 * j, 2 * j));
      visit(2 * j + 1, q_high, SelectScales(header.scales16, 2 * j + 1, 2 * j + 1));
    }
  }
};

using Q4_KDecoder = K4Decoder<quant::q4_k::kBytes, quant::q4_k::kQs, 0>;
using Q5_KDecoder = K4Decoder<quant::q5_k::kBytes, quant::q5_k::kQs, quant::q5_k::kQh>;

// Q6_K: chunk 4h + s contains elements 128h + 32s onward. Quants are stored
// as q + 32, so the correction weight of group g is 32 * scale g, with scale d.
struct Q6_KDecoder {
  static constexpr size_t kBlockBytes = quant::q6_k::kBytes;
  static constexpr bool kCorrectionScaleIsD = true;

  struct Header {
    __m256i scales16;  // groups 0-7 in the low half, 8-15 in the high half
    __m256i correction;
    float d, c;
  };

  static HWY_INLINE Header ReadHeader(const uint8_t* w) {
    const __m128i scale_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + quant::q6_k::kScales));
    const __m256i scales16 = _mm256_cvtepi8_epi16(scale_bytes);
    const float d = HalfAt(w + quant::q6_k::kD);
    return {scales16, _mm256_slli_epi16(scales16, 5), d, d};
  }

  template <class Visit>
  static HWY_INLINE void ForEachChunk(const uint8_t* w, const Header& header, const Visit& visit) {
    const __m256i low_mask = _mm256_set1_epi8(0x0f);
    const __m256i two_bits = _mm256_set1_epi8(3);
    for (int h = 0; h < 2; ++h) {
      const __m256i low0 = Load256(w + quant::q6_k::kQl + 64 * h);
      const __m256i low1 = Load256(w + quant::q6_k::kQl + 64 * h + 32);
      const __m256i high = Load256(w + quant::q6_k::kQh + 32 * h);
      // Groups 8h .. 8h + 7 of 16 elements; chunk 4h + s spans groups 8h + 2s and 8h + 2s + 1.
      const __m256i half_scales = _mm256_permute2x128_si256(header.scales16, header.scales16, h == 0 ? 0x00 : 0x11);
      visit(4 * h + 0,
            _mm256_or_si256(_mm256_and_si256(low0, low_mask), _mm256_slli_epi16(_mm256_and_si256(high, two_bits), 4)),
            SelectScales(half_scales, 0, 1));
      visit(4 * h + 1,
            _mm256_or_si256(_mm256_and_si256(low1, low_mask),
                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high, 2), two_bits), 4)),
            SelectScales(half_scales, 2, 3));
      visit(4 * h + 2,
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low0, 4), low_mask),
                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high, 4), two_bits), 4)),
            SelectScales(half_scales, 4, 5));
      visit(4 * h + 3,
            _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(low1, 4), low_mask),
                            _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(high, 6), two_bits), 4)),
            SelectScales(half_scales, 6, 7));
    }
  }
};

template <class Decoder>
HWY_INLINE void Decode(const uint8_t* w, DecodedSuperBlock& out) {
  const typename Decoder::Header header = Decoder::ReadHeader(w);
  Decoder::ForEachChunk(w, header, [&out](int k, __m256i q, __m256i scales) HWY_ATTR {
    out.q[k] = q;
    out.scales[k] = scales;
  });
  out.correction = header.correction;
  out.d = header.d;
  out.c = header.c;
}

// Adds a super-block's terms for one token to acc: its quant sums `sum`, and
// the correction of the activation sums bsums, given d_w * d_x and c_w * d_x
// as vectors. Where the correction's scale is the sums' scale (Q6_K), the
// correction is subtracted exactly in int32 and one conversion remains.
template <class Decoder>
HWY_INLINE __m256 AddSuperBlock(__m256 acc, __m256 d_scale, __m256 c_scale, __m256i sum, __m256i correction,
                                const uint8_t* bsums) {
  const __m256i correction_sums = _mm256_madd_epi16(correction, Load256(bsums));
  if constexpr (Decoder::kCorrectionScaleIsD) {
    return _mm256_fmadd_ps(d_scale, _mm256_cvtepi32_ps(_mm256_sub_epi32(sum, correction_sums)), acc);
  } else {
    acc = _mm256_fmadd_ps(d_scale, _mm256_cvtepi32_ps(sum), acc);
    return _mm256_fnmadd_ps(c_scale, _mm256_cvtepi32_ps(correction_sums), acc);
  }
}

// row . activations for one token, decoding each chunk as it is used: the
// order of TileK with one token, without storing the decoded block.
template <class Decoder>
HWY_INLINE float DotK(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (size_t b = 0; b < n_blocks; ++b) {
    const uint8_t* w = row + b * Decoder::kBlockBytes;
    const uint8_t* x = xq + b * quant::q8_k::kBytes;
    for (size_t line = 0; line < Decoder::kBlockBytes; line += 64) {
      _mm_prefetch(reinterpret_cast<const char*>(w + kMatvecPrefetchBytes + line), _MM_HINT_T0);
    }

    const typename Decoder::Header header = Decoder::ReadHeader(w);
    __m256i sum = _mm256_setzero_si256();
    Decoder::ForEachChunk(w, header, [&sum, x](int k, __m256i q, __m256i scales) HWY_ATTR {
      const __m256i products = _mm256_maddubs_epi16(q, Load256(x + quant::q8_k::kQs + 32 * k));
      sum = _mm256_add_epi32(sum, _mm256_madd_epi16(products, scales));
    });
    const float d_x = FloatAt(x + quant::q8_k::kD);
    acc = AddSuperBlock<Decoder>(acc, _mm256_set1_ps(header.d * d_x), _mm256_set1_ps(header.c * d_x), sum,
                                 header.correction, x + quant::q8_k::kBsums);
  }
  return HorizontalSum(acc);
}

// acc[t] += the super-block's dot with Q8_K activations of token t, in the order at the top.
template <class Decoder, size_t kTokens>
HWY_INLINE void AccumulateSuperBlock(const DecodedSuperBlock& w, const uint8_t* const* xs, size_t x_offset,
                                     __m256* acc) {
  for (size_t t = 0; t < kTokens; ++t) {
    const uint8_t* x = xs[t] + x_offset;
    __m256i sum = _mm256_setzero_si256();
    for (int k = 0; k < 8; ++k) {
      const __m256i products = _mm256_maddubs_epi16(w.q[k], Load256(x + quant::q8_k::kQs + 32 * k));
      sum = _mm256_add_epi32(sum, _mm256_madd_epi16(products, w.scales[k]));
    }
    const float d_x = FloatAt(x + quant::q8_k::kD);
    acc[t] = AddSuperBlock<Decoder>(acc[t], _mm256_set1_ps(w.d * d_x), _mm256_set1_ps(w.c * d_x), sum, w.correction,
                                    x + quant::q8_k::kBsums);
  }
}

// out[t] = row . activations t for kTokens tokens.
template <class Decoder, size_t kTokens>
HWY_INLINE void TileK(const uint8_t* row, const uint8_t* const* xs, size_t n_blocks, float* out) {
  __m256 acc[kTokens];
  for (size_t t = 0; t < kTokens; ++t) acc[t] = _mm256_setzero_ps();
  for (size_t b = 0; b < n_blocks; ++b) {
    DecodedSuperBlock block;
    Decode<Decoder>(row + b * Decoder::kBlockBytes, block);
    AccumulateSuperBlock<Decoder, kTokens>(block, xs, b * quant::q8_k::kBytes, acc);
  }
  for (size_t t = 0; t < kTokens; ++t) out[t] = HorizontalSum(acc[t]);
}

// Rows [row_begin, row_end) of Y = W X, in tiles of 8 tokens by one row.
// One token (matvec) goes through DotK, which uses each chunk as it is
// decoded instead of storing the decoded super-block.
template <class Decoder>
HWY_INLINE void MatmulK(const WeightMatrix& w, const uint8_t* xq, size_t xq_stride, size_t n_tokens, float* y,
                        size_t row_begin, size_t row_end) {
  constexpr size_t kTile = 8;
  const size_t n_blocks = w.cols / quant::kSuperBlock;
  if (n_tokens == 1) {
    for (size_t r = row_begin; r < row_end; ++r) y[r] = DotK<Decoder>(w.row(r), xq, n_blocks);
    return;
  }
  for (size_t t0 = 0; t0 < n_tokens; t0 += kTile) {
    const size_t n_tile = std::min(kTile, n_tokens - t0);
    const uint8_t* xs[kTile];
    for (size_t t = 0; t < n_tile; ++t) xs[t] = xq + (t0 + t) * xq_stride;

    for (size_t r = row_begin; r < row_end; ++r) {
      float out[kTile] = {};
      if (n_tile == kTile) {
        TileK<Decoder, kTile>(w.row(r), xs, n_blocks, out);
      } else {
        for (size_t t = 0; t < n_tile; ++t) TileK<Decoder, 1>(w.row(r), &xs[t], n_blocks, &out[t]);
      }
      for (size_t t = 0; t < n_tile; ++t) y[(t0 + t) * w.rows + r] = out[t];
    }
  }
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#endif  // EDGELM_KERNELS_INT_MATMUL_AVX2_INL_H_
