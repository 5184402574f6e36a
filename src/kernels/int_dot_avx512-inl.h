// AVX-512 versions of the integer kernels of int_dot-inl.h, for the AVX3
// targets: the same arithmetic on 64 bytes per instruction, with two 32-byte
// runs of quants (two chunks, shifts or blocks) side by side. Each kernel's
// sum order is fixed by the row length, as in int_dot-inl.h. Included once per
// Highway target; only the x86 targets from AVX3 up define anything.

// Per-target include guard.
#if defined(EDGELM_KERNELS_INT_DOT_AVX512_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EDGELM_KERNELS_INT_DOT_AVX512_INL_H_
#undef EDGELM_KERNELS_INT_DOT_AVX512_INL_H_
#else
#define EDGELM_KERNELS_INT_DOT_AVX512_INL_H_
#endif

#include "hwy/highway.h"
#include "kernels/int_dot-inl.h"
#include "kernels/int_dot_block32-inl.h"
#include "tensor/quant_blocks.h"

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX3

// 32 bytes at `low` in the low half and 32 bytes at `high` in the high half.
HWY_INLINE __m512i LoadTwo256(const uint8_t* low, const uint8_t* high) {
  return _mm512_inserti64x4(_mm512_castsi256_si512(Load256(low)), Load256(high), 1);
}

HWY_INLINE __m512i Load512(const uint8_t* p) { return _mm512_loadu_si512(p); }

// Broadcasts int16 lane k_i of 128-bit quarter i of `scales` over that quarter.
HWY_INLINE __m512i SelectScales4(__m512i scales, int k0, int k1, int k2, int k3) {
  const auto pair = [](int k) { return _mm_set1_epi16(static_cast<int16_t>(0x0100 + 0x0202 * k)); };
  const __m256i low = _mm256_set_m128i(pair(k1), pair(k0));
  const __m256i high = _mm256_set_m128i(pair(k3), pair(k2));
  return _mm512_shuffle_epi8(scales, _mm512_inserti64x4(_mm512_castsi256_si512(low), high, 1));
}

HWY_INLINE __m512i DotScaledBytes512(__m512i q, __m512i x, __m512i scales) {
  return _mm512_madd_epi16(_mm512_maddubs_epi16(q, x), scales);
}

// 64 products of signed bytes w and x summed to 16 int32 lanes: |w| times x
// with w's sign (AVX-512 has no sign_epi8, so x is negated under a mask).
HWY_INLINE __m512i DotSignedBytes512(__m512i w, __m512i x) {
  const __m512i signed_x = _mm512_mask_sub_epi8(x, _mm512_movepi8_mask(w), _mm512_setzero_si512(), x);
  return _mm512_madd_epi16(_mm512_maddubs_epi16(_mm512_abs_epi8(w), signed_x), _mm512_set1_epi16(1));
}

HWY_INLINE float HorizontalSum(__m512 v) {
  return HorizontalSum(_mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1)));
}

// Q4_K and Q5_K, chunks c0 = 2p and c1 = 2p + 1 side by side.
template <size_t kBytes, size_t kQs, size_t kQh>
HWY_INLINE float DotK4Avx512(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  const __m512i low_mask = _mm512_set1_epi8(0x0f);
  const __m512i one = _mm512_set1_epi8(1);
  __m512 acc = _mm512_setzero_ps();
  __m128 min_acc = _mm_setzero_ps();

  for (size_t b = 0; b < n_blocks; ++b) {
    const uint8_t* w = row + b * kBytes;
    const uint8_t* x = xq + b * quant::q8_k::kBytes;
    const float dx = FloatAt(x + quant::q8_k::kD);
    const float d = HalfAt(w + quant::q4_k::kD) * dx;
    const float dmin = HalfAt(w + quant::q4_k::kDmin) * dx;

    const __m128i scales_mins = UnpackScalesMins(w + quant::q4_k::kScales);
    min_acc = AddMinTerm(scales_mins, x, dmin, min_acc);

    const __m512i scales = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(scales_mins));
    const __m256i high_bits = kQh != 0 ? Load256(w + kQh) : _mm256_setzero_si256();
    __m512i sum = _mm512_setzero_si512();
    for (int p = 0; p < 2; ++p) {
      const int c0 = 2 * p, c1 = 2 * p + 1;
      const __m512i packed = Load512(w + kQs + 64 * p);
      __m512i q_low = _mm512_and_si512(packed, low_mask);
      __m512i q_high = _mm512_and_si512(_mm512_srli_epi16(packed, 4), low_mask);
      if constexpr (kQh != 0) {
        // Bits 2c and 2c + 1 of qh for chunk c of each half.
        const __m512i bits = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(high_bits, 2 * c0)),
                                                _mm256_srli_epi16(high_bits, 2 * c1), 1);
        q_low = _mm512_or_si512(q_low, _mm512_slli_epi16(_mm512_and_si512(bits, one), 4));
        q_high = _mm512_or_si512(q_high, _mm512_slli_epi16(_mm512_and_si512(_mm512_srli_epi16(bits, 1), one), 4));
      }

      const uint8_t* xp = x + quant::q8_k::kQs + 128 * p;
      const __m512i x_low = LoadTwo256(xp, xp + 64);
      const __m512i x_high = LoadTwo256(xp + 32, xp + 96);
      const __m512i dot_low = DotScaledBytes512(q_low, x_low, SelectScales4(scales, 2 * c0, 2 * c0, 2 * c1, 2 * c1));
      const __m512i dot_high =
          DotScaledBytes512(q_high, x_high, SelectScales4(scales, 2 * c0 + 1, 2 * c0 + 1, 2 * c1 + 1, 2 * c1 + 1));
      sum = _mm512_add_epi32(sum, _mm512_add_epi32(dot_low, dot_high));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sum), acc);
  }
  return HorizontalSum(acc) - HorizontalSum(min_acc);
}

// Q6_K, shifts s and s + 1 side by side.
HWY_INLINE float DotQ6_KAvx512(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  const __m512i low_mask = _mm512_set1_epi8(0x0f);
  const __m512i two_bits = _mm512_set1_epi8(3);
  __m512 acc = _mm512_setzero_ps();
  __m128 offset_acc = _mm_setzero_ps();

  for (size_t b = 0; b < n_blocks; ++b) {
    const uint8_t* w = row + b * quant::q6_k::kBytes;
    const uint8_t* x = xq + b * quant::q8_k::kBytes;
    const float d = HalfAt(w + quant::q6_k::kD) * FloatAt(x + quant::q8_k::kD);

    const __m128i scale_bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w + quant::q6_k::kScales));
    __m128i scales_low, scales_high;
    offset_acc = AddOffsetTerm<5>(scale_bytes, x, d, offset_acc, scales_low, scales_high);

    __m512i sum = _mm512_setzero_si512();
    for (int h = 0; h < 2; ++h) {
      // Shifts 0 and 1 take the low nibbles of ql[64h..64h+63], shifts 2 and 3 the high ones.
      const __m512i low = Load512(w + quant::q6_k::kQl + 64 * h);
      const __m256i high = Load256(w + quant::q6_k::kQh + 32 * h);
      const __m512i high01 = _mm512_inserti64x4(_mm512_castsi256_si512(high), _mm256_srli_epi16(high, 2), 1);
      const __m512i high23 = _mm512_srli_epi16(high01, 4);
      const __m512i q01 = _mm512_or_si512(_mm512_and_si512(low, low_mask),
                                          _mm512_slli_epi16(_mm512_and_si512(high01, two_bits), 4));
      const __m512i q23 = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(low, 4), low_mask),
                                          _mm512_slli_epi16(_mm512_and_si512(high23, two_bits), 4));

      const __m512i scales = _mm512_broadcast_i32x4(h == 0 ? scales_low : scales_high);
      const uint8_t* xh = x + quant::q8_k::kQs + 128 * h;
      sum = _mm512_add_epi32(sum, DotScaledBytes512(q01, Load512(xh), SelectScales4(scales, 0, 1, 2, 3)));
      sum = _mm512_add_epi32(sum, DotScaledBytes512(q23, Load512(xh + 64), SelectScales4(scales, 4, 5, 6, 7)));
    }
    acc = _mm512_fmadd_ps(_mm512_set1_ps(d), _mm512_cvtepi32_ps(sum), acc);
  }
  return HorizontalSum(acc) - HorizontalSum(offset_acc);
}

// Blocks of 32 in pairs: BlockPair(b, d_low, d_high) returns the int32 sums
// of blocks b (low half) and b + 1 (high half, zero past the row) and sets
// their scales. Pair k goes to accumulator k % 2.
template <class BlockPair>
HWY_INLINE float SumBlockPairs(size_t n_blocks, const BlockPair& block_pair) {
  const auto add = [&block_pair, n_blocks](size_t b, __m512 acc) HWY_ATTR {
    float d_low, d_high;
    const __m512i sum = block_pair(b, b + 1 < n_blocks, d_low, d_high);
    const __m512 scale = _mm512_insertf32x8(_mm512_set1_ps(d_low), _mm256_set1_ps(d_high), 1);
    return _mm512_fmadd_ps(scale, _mm512_cvtepi32_ps(sum), acc);
  };

  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (size_t b = 0; b < n_blocks; b += 4) {
    acc0 = add(b, acc0);
    if (b + 2 < n_blocks) acc1 = add(b + 2, acc1);
  }
  return HorizontalSum(_mm512_add_ps(acc0, acc1));
}

HWY_INLINE float DotQ4_0Avx512(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  return SumBlockPairs(n_blocks, [row, xq](size_t b, bool has_high, float& d_low, float& d_high) HWY_ATTR {
    const uint8_t* w = row + b * quant::q4_0::kBytes;
    const uint8_t* x = xq + b * quant::q8_0::kBytes;
    d_low = HalfAt(w + quant::q4_0::kD) * HalfAt(x + quant::q8_0::kD);
    if (!has_high) {
      d_high = 0.0f;
      return DotSignedBytes512(_mm512_zextsi256_si512(Q4_0Quants(w)),
                               _mm512_zextsi256_si512(Load256(x + quant::q8_0::kQs)));
    }
    const uint8_t* w1 = w + quant::q4_0::kBytes;
    const uint8_t* x1 = x + quant::q8_0::kBytes;
    d_high = HalfAt(w1 + quant::q4_0::kD) * HalfAt(x1 + quant::q8_0::kD);
    const __m512i q = _mm512_inserti64x4(_mm512_castsi256_si512(Q4_0Quants(w)), Q4_0Quants(w1), 1);
    return DotSignedBytes512(q, LoadTwo256(x + quant::q8_0::kQs, x1 + quant::q8_0::kQs));
  });
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#endif  // EDGELM_KERNELS_INT_DOT_AVX512_INL_H_
