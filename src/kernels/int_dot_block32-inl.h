// Integer dot products of rows of the 32-element types (Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0) with activations quantized to Q8_0, with AVX2 intrinsics, for
// the kernels of dot_kernels.cpp. Included once per Highway target.
//
// Sum order: a block takes a few instructions, so one accumulator would make
// the row wait on FMA latency. Block b is FMA-added into accumulator b % 4 of
// four, and the four are added as (0 + 1) + (2 + 3) at the end of the row.

// Per-target include guard.
#if defined(EDGELM_KERNELS_INT_DOT_BLOCK32_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EDGELM_KERNELS_INT_DOT_BLOCK32_INL_H_
#undef EDGELM_KERNELS_INT_DOT_BLOCK32_INL_H_
#else
#define EDGELM_KERNELS_INT_DOT_BLOCK32_INL_H_
#endif

#include <cstring>

#include "hwy/highway.h"
#include "kernels/int_dot-inl.h"
#include "tensor/quant_blocks.h"

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {

#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2

// Runs add_block(b, acc), which returns acc plus the terms of block b, over
// the blocks with the accumulator rotation described above.
template <class AddBlock>
HWY_INLINE float SumBlocks(size_t n_blocks, const AddBlock& add_block) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  __m256 acc2 = _mm256_setzero_ps(), acc3 = _mm256_setzero_ps();

  size_t b = 0;
  for (; b + 4 <= n_blocks; b += 4) {
    acc0 = add_block(b, acc0);
    acc1 = add_block(b + 1, acc1);
    acc2 = add_block(b + 2, acc2);
    acc3 = add_block(b + 3, acc3);
  }
  if (b < n_blocks) acc0 = add_block(b, acc0);
  if (b + 1 < n_blocks) acc1 = add_block(b + 1, acc1);
  if (b + 2 < n_blocks) acc2 = add_block(b + 2, acc2);
  return HorizontalSum(_mm256_add_ps(_mm256_add_ps(acc0, acc1), _mm256_add_ps(acc2, acc3)));
}

// acc + scale * sum, with the int32 lanes of sum converted to float.
HWY_INLINE __m256 AddScaled(__m256 acc, float scale, __m256i sum) {
  return _mm256_fmadd_ps(_mm256_set1_ps(scale), _mm256_cvtepi32_ps(sum), acc);
}

// The 4-bit quants of a 32-element block as unsigned bytes: elements 0-15
// are the low nibbles of qs and 16-31 the high ones.
HWY_INLINE __m256i Nibbles32(const uint8_t* qs) {
  const __m128i low_mask = _mm_set1_epi8(0x0f);
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i low = _mm_and_si128(packed, low_mask);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), low_mask);
  return _mm256_set_m128i(high, low);
}

// Bit 4 of the 32 quants of a Q5_0 or Q5_1 block (bit i of the little-endian
// uint32 qh) as 0 or 16 per byte: byte i takes byte i / 8 of qh and tests
// bit i % 8.
HWY_INLINE __m256i HighBits32(const uint8_t* qh) {
  int32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  const __m256i spread = _mm256_shuffle_epi8(
      _mm256_set1_epi32(bits), _mm256_setr_epi64x(0, 0x0101010101010101, 0x0202020202020202, 0x0303030303030303));
  const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(16));
}

// The 32 quants q - 8 of a Q4_0 block as signed bytes.
HWY_INLINE __m256i Q4_0Quants(const uint8_t* block) {
  return _mm256_sub_epi8(Nibbles32(block + quant::q4_0::kQs), _mm256_set1_epi8(8));
}

// Sums of the activation quants of a Q8_0 block, 4 per int32 lane, for the
// min term of Q4_1 and Q5_1.
HWY_INLINE __m256i SumBytes(__m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(1), x), _mm256_set1_epi16(1));
}

HWY_INLINE float DotQ4_0(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  return SumBlocks(n_blocks, [row, xq](size_t b, __m256 acc) HWY_ATTR {
    const uint8_t* w = row + b * quant::q4_0::kBytes;
    const uint8_t* x = xq + b * quant::q8_0::kBytes;
    const float d = HalfAt(w + quant::q4_0::kD) * HalfAt(x + quant::q8_0::kD);
    return AddScaled(acc, d, DotSignedBytes(Q4_0Quants(w), Load256(x + quant::q8_0::kQs)));
  });
}

// Q5_0: q - 16 with q = nibble | bit 4, as signed bytes.
HWY_INLINE float DotQ5_0(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  return SumBlocks(n_blocks, [row, xq](size_t b, __m256 acc) HWY_ATTR {
    const uint8_t* w = row + b * quant::q5_0::kBytes;
    const uint8_t* x = xq + b * quant::q8_0::kBytes;
    const float d = HalfAt(w + quant::q5_0::kD) * HalfAt(x + quant::q8_0::kD);
    const __m256i q = _mm256_or_si256(Nibbles32(w + quant::q5_0::kQs), HighBits32(w + quant::q5_0::kQh));
    return AddScaled(acc, d, DotSignedBytes(_mm256_sub_epi8(q, _mm256_set1_epi8(16)), Load256(x + quant::q8_0::kQs)));
  });
}

// Q4_1 and Q5_1: d * (q . x) + m * sum(x) per block, q unsigned. kQh is 0
// for Q4_1, which has no fifth bit.
template <size_t kBytes, size_t kD, size_t kM, size_t kQs, size_t kQh>
HWY_INLINE float DotWithMin32(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  return SumBlocks(n_blocks, [row, xq](size_t b, __m256 acc) HWY_ATTR {
    const uint8_t* w = row + b * kBytes;
    const uint8_t* x = xq + b * quant::q8_0::kBytes;
    const float dx = HalfAt(x + quant::q8_0::kD);
    __m256i q = Nibbles32(w + kQs);
    if constexpr (kQh != 0) q = _mm256_or_si256(q, HighBits32(w + kQh));

    const __m256i xs = Load256(x + quant::q8_0::kQs);
    const __m256i dot = _mm256_madd_epi16(_mm256_maddubs_epi16(q, xs), _mm256_set1_epi16(1));
    acc = AddScaled(acc, HalfAt(w + kD) * dx, dot);
    return AddScaled(acc, HalfAt(w + kM) * dx, SumBytes(xs));
  });
}

HWY_INLINE float DotQ4_1(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  using namespace quant::q4_1;
  return DotWithMin32<kBytes, kD, kM, kQs, 0>(row, xq, n_blocks);
}

HWY_INLINE float DotQ5_1(const uint8_t* row, const uint8_t* xq, size_t n_blocks) {
  using namespace quant::q5_1;
  return DotWithMin32<kBytes, kD, kM, kQs, kQh>(row, xq, n_blocks);
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#endif  // EDGELM_KERNELS_INT_DOT_BLOCK32_INL_H_
