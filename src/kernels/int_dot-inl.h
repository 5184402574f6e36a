// Integer dot products of Q2_K and Q3_K weight rows with 8-bit quantized
// activations, for the kernels of dot_kernels.cpp, with AVX2 intrinsics, and
// the helpers of all integer kernels. int_dot_block32-inl.h has the
// 32-element types, int_matmul_avx2-inl.h the tiled Q8_0, Q4_K, Q5_K and Q6_K
// kernels, and int_dot_avx512-inl.h the AVX-512 versions.
// Included once per Highway target.
//
// Highway 1.0.3 has no op for sums of int8 products, so the x86 targets from
// AVX2 up use raw AVX2 intrinsics. _mm256_maddubs_epi16 multiplies unsigned
// by signed bytes and adds adjacent pairs to int16. _mm256_madd_epi16
// multiplies those by 16-bit scales and adds pairs to int32. Activations are
// quantized to [-127, 127], so no int16 pair sum saturates: the largest is
// 2 * 128 * 127 (Q8_0 weights, sign moved to the activation).
//
// Sum order: each block's integer sum becomes float once, is scaled by
// d_weight * d_activation and FMA-added into an accumulator of 8 lanes. The
// terms of the mins (Q2_K) and of the offsets (Q3_K) go to an accumulator of
// 4 lanes. The accumulators are reduced at the end of the
// row. The order depends only on the row length, so matmul and matvec give
// bit-identical results.
//
// NOTE: VNNI (_mm512_dpbusd_epi32, _mm256_dpbusd_avx_epi32) would fuse the
// two multiplies, but Highway 1.0.3 compiles the AVX3_DL target only when
// HWY_WANT_AVX3_DL is defined for every file, and AVX2 and AVX3 do not imply VNNI.

// Per-target include guard.
#if defined(EDGELM_KERNELS_INT_DOT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EDGELM_KERNELS_INT_DOT_INL_H_
#undef EDGELM_KERNELS_INT_DOT_INL_H_
#else
#define EDGELM_KERNELS_INT_DOT_INL_H_
#endif

#include <cstring>

#include "hwy/highway.h"
#include "tensor/dtype.h"
#include "tensor/quant_blocks.h"

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
#include <immintrin.h>
#endif

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2

// Through a 32-bit move, which unlike _cvtsh_ss does not merge into (and so
// wait for) an older register.
HWY_INLINE float HalfAt(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}

HWY_INLINE float FloatAt(const uint8_t* p) {
  float f;
  std::memcpy(&f, p, sizeof(f));
  return f;
}

HWY_INLINE __m256i Load256(const uint8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

// Sum of the 8 lanes, in a fixed order.
HWY_INLINE float HorizontalSum(__m256 v) {
  __m128 sum = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  sum = _mm_add_ps(sum, _mm_movehl_ps(sum, sum));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// 32 products of signed bytes w and x, summed to 8 int32 lanes. maddubs
// needs an unsigned first operand, so |w| meets x with w's sign.
HWY_INLINE __m256i DotSignedBytes(__m256i w, __m256i x) {
  const __m256i products = _mm256_maddubs_epi16(_mm256_abs_epi8(w), _mm256_sign_epi8(x, w));
  return _mm256_madd_epi16(products, _mm256_set1_epi16(1));
}

// 32 products of unsigned bytes q and signed bytes x, each adjacent pair
// weighted by the 16-bit lane of `scales` at its position, summed to 8 int32 lanes.
HWY_INLINE __m256i DotScaledBytes(__m256i q, __m256i x, __m256i scales) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(q, x), scales);
}

// Broadcasts int16 lane `low` of the low 128-bit half of `scales` over that
// half, and lane `high` of the high half over the high half. The indices are
// constants once the callers' loops are unrolled.
HWY_INLINE __m256i SelectScales(__m256i scales, int low, int high) {
  // Byte pair (2k, 2k + 1) of a 16-bit lane k, as one int16 shuffle index.
  const auto pair = [](int k) { return static_cast<int16_t>(0x0100 + 0x0202 * k); };
  return _mm256_shuffle_epi8(scales, _mm256_set_m128i(_mm_set1_epi16(pair(high)), _mm_set1_epi16(pair(low))));
}

// Sum of the 4 lanes, in a fixed order.
HWY_INLINE float HorizontalSum(__m128 v) {
  __m128 sum = _mm_add_ps(v, _mm_movehl_ps(v, v));
  sum = _mm_add_ss(sum, _mm_movehdup_ps(sum));
  return _mm_cvtss_f32(sum);
}

// The 6-bit scales (bytes 0-7) and mins (bytes 8-15) of the 8 groups of a
// Q4_K or Q5_K block, unpacked four at a time as k4_scale_min describes.
HWY_INLINE __m128i UnpackScalesMins(const uint8_t* packed) {
  uint32_t words[3];
  std::memcpy(words, packed, sizeof(words));
  const uint32_t low6 = 0x3f3f3f3f, low4 = 0x0f0f0f0f, bits45 = 0x30303030;
  return _mm_setr_epi32(static_cast<int>(words[0] & low6),                                 // scales 0-3
                        static_cast<int>((words[2] & low4) | ((words[0] >> 2) & bits45)),  // scales 4-7
                        static_cast<int>(words[1] & low6),                                 // mins 0-3
                        static_cast<int>(((words[2] >> 4) & low4) | ((words[1] >> 2) & bits45)));  // mins 4-7
}

// The 16 int16 sums of 16 activation quants of a Q8_K block.
HWY_INLINE __m256i LoadBlockSums(const uint8_t* x) { return Load256(x + quant::q8_k::kBsums); }

// Adds dmin times the sum over groups of min * (sum of the group's 32
// activation quants, two runs of 16) to the 4 lanes of min_acc.
HWY_INLINE __m128 AddMinTerm(__m128i scales_mins, const uint8_t* x, float dmin, __m128 min_acc) {
  const __m128i mins = _mm_cvtepu8_epi16(_mm_srli_si128(scales_mins, 8));
  const __m256i bsums = LoadBlockSums(x);
  const __m128i group_sums = _mm_hadd_epi16(_mm256_castsi256_si128(bsums), _mm256_extracti128_si256(bsums, 1));
  const __m128i min_products = _mm_madd_epi16(mins, group_sums);
  return _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(min_products), min_acc);
}

// Adds d times 2^kShift * sum(scale * bsum) over the 16 groups of a block to
// the 4 lanes of offset_acc, for quants stored as q + 2^kShift (Q3_K, Q6_K).
// Returns the int8 scales of groups 0-7 and 8-15 as int16 in scales_low and scales_high.
template <int kShift>
HWY_INLINE __m128 AddOffsetTerm(__m128i scale_bytes, const uint8_t* x, float d, __m128 offset_acc,
                                __m128i& scales_low, __m128i& scales_high) {
  scales_low = _mm_cvtepi8_epi16(scale_bytes);
  scales_high = _mm_cvtepi8_epi16(_mm_srli_si128(scale_bytes, 8));
  const __m256i bsums = LoadBlockSums(x);
  const __m128i offsets = _mm_add_epi32(_mm_madd_epi16(scales_low, _mm256_castsi256_si128(bsums)),
                                        _mm_madd_epi16(scales_high, _mm256_extracti128_si256(bsums, 1)));
  return _mm_fmadd_ps(_mm_set1_ps(d), _mm_cvtepi32_ps(_mm_slli_epi32(offsets, kShift)), offset_acc);
}

// Q2_K: sum over groups of d * scale * (q . x) - dmin * min * sum(x), with
// 4-bit scales and mins and q in [0, 3].
HWY_INLINE float DotQ2_K(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  const __m128i nibble = _mm_set1_epi8(0x0f);
  const __m256i two_bits = _mm256_set1_epi8(3);
  __m256 acc = _mm256_setzero_ps();
  __m128 min_acc = _mm_setzero_ps();

  for (size_t b = 0; b < n_blocks; ++b) {
    const uint8_t* w = row + b * quant::q2_k::kBytes;
    const uint8_t* x = xq + b * quant::q8_k::kBytes;
    const float dx = FloatAt(x + quant::q8_k::kD);
    const float d = HalfAt(w + quant::q2_k::kD) * dx;
    const float dmin = HalfAt(w + quant::q2_k::kDmin) * dx;

    // Byte g of the scales: scale in the low nibble, min in the high one.
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + quant::q2_k::kScales));
    const __m128i scale_bytes = _mm_and_si128(packed, nibble);
    const __m128i min_bytes = _mm_and_si128(_mm_srli_epi16(packed, 4), nibble);
    const __m256i bsums = LoadBlockSums(x);
    const __m128i min_products =
        _mm_add_epi32(_mm_madd_epi16(_mm_cvtepu8_epi16(min_bytes), _mm256_castsi256_si128(bsums)),
                      _mm_madd_epi16(_mm_cvtepu8_epi16(_mm_srli_si128(min_bytes, 8)), _mm256_extracti128_si256(bsums, 1)));
    min_acc = _mm_fmadd_ps(_mm_set1_ps(dmin), _mm_cvtepi32_ps(min_products), min_acc);

    __m256i sum = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i bytes = Load256(w + quant::q2_k::kQs + 32 * h);
      const __m256i scales = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(_mm_srli_si128(scale_bytes, 8 * h)));
      for (int s = 0; s < 4; ++s) {
        const __m256i q = _mm256_and_si256(_mm256_srli_epi16(bytes, 2 * s), two_bits);
        const __m256i xs = Load256(x + quant::q8_k::kQs + 128 * h + 32 * s);
        sum = _mm256_add_epi32(sum, DotScaledBytes(q, xs, SelectScales(scales, 2 * s, 2 * s + 1)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
  }
  return HorizontalSum(acc) - HorizontalSum(min_acc);
}

// The 16 scales of a Q3_K block minus 32, as int8, unpacked four at a time as
// q3_k_scale describes.
HWY_INLINE __m128i UnpackQ3_KScales(const uint8_t* packed) {
  uint32_t words[3];
  std::memcpy(words, packed, sizeof(words));
  const uint32_t low4 = 0x0f0f0f0f, low2 = 0x03030303;
  const __m128i scales = _mm_setr_epi32(static_cast<int>((words[0] & low4) | ((words[2] & low2) << 4)),
                                        static_cast<int>((words[1] & low4) | (((words[2] >> 2) & low2) << 4)),
                                        static_cast<int>(((words[0] >> 4) & low4) | (((words[2] >> 4) & low2) << 4)),
                                        static_cast<int>(((words[1] >> 4) & low4) | (((words[2] >> 6) & low2) << 4)));
  return _mm_sub_epi8(scales, _mm_set1_epi8(32));
}

// Q3_K: with u = q + 4 in [0, 7] (low bits | hmask bit << 2), the sum over
// groups of d * scale * (u . x - 4 * sum(x)).
HWY_INLINE float DotQ3_K(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  const __m256i two_bits = _mm256_set1_epi8(3);
  const __m256i one = _mm256_set1_epi8(1);
  __m256 acc = _mm256_setzero_ps();
  __m128 offset_acc = _mm_setzero_ps();

  for (size_t b = 0; b < n_blocks; ++b) {
    const uint8_t* w = row + b * quant::q3_k::kBytes;
    const uint8_t* x = xq + b * quant::q8_k::kBytes;
    const float d = HalfAt(w + quant::q3_k::kD) * FloatAt(x + quant::q8_k::kD);

    __m128i scales_low, scales_high;
    offset_acc = AddOffsetTerm<2>(UnpackQ3_KScales(w + quant::q3_k::kScales), x, d, offset_acc, scales_low,
                                  scales_high);

    const __m256i hmask = Load256(w + quant::q3_k::kHmask);
    __m256i sum = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i bytes = Load256(w + quant::q3_k::kQs + 32 * h);
      const __m256i scales = _mm256_broadcastsi128_si256(h == 0 ? scales_low : scales_high);
      for (int s = 0; s < 4; ++s) {
        // Bit 4h + s of each hmask byte becomes bit 2 of u.
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(hmask, 4 * h + s), one);
        const __m256i u = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(bytes, 2 * s), two_bits),
                                          _mm256_slli_epi16(high, 2));
        const __m256i xs = Load256(x + quant::q8_k::kQs + 128 * h + 32 * s);
        sum = _mm256_add_epi32(sum, DotScaledBytes(u, xs, SelectScales(scales, 2 * s, 2 * s + 1)));
      }
    }
    acc = _mm256_fmadd_ps(_mm256_set1_ps(d), _mm256_cvtepi32_ps(sum), acc);
  }
  return HorizontalSum(acc) - HorizontalSum(offset_acc);
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#endif  // EDGELM_KERNELS_INT_DOT_INL_H_
