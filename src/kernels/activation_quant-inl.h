// AVX2 quantization of float activations to Q8_0 and Q8_K blocks for the
// integer kernels of int_dot-inl.h. Returns the bytes of
// quantize_activations_ref, which documents the format. Included once per
// Highway target; only the x86 targets from AVX2 up define anything.

// Per-target include guard.
#if defined(EDGELM_KERNELS_ACTIVATION_QUANT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EDGELM_KERNELS_ACTIVATION_QUANT_INL_H_
#undef EDGELM_KERNELS_ACTIVATION_QUANT_INL_H_
#else
#define EDGELM_KERNELS_ACTIVATION_QUANT_INL_H_
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

// Zeroes the NaN lanes.
HWY_INLINE __m256 WithoutNaN(__m256 v) { return _mm256_and_ps(v, _mm256_cmp_ps(v, v, _CMP_EQ_OQ)); }

// Largest |x| of the 8 * n_vectors floats at x, NaN counted as 0. max is
// exact, so the order does not change the result.
HWY_INLINE float AbsMax(const float* x, size_t n_vectors) {
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 max = _mm256_setzero_ps();
  for (size_t k = 0; k < n_vectors; ++k) {
    max = _mm256_max_ps(max, _mm256_andnot_ps(sign, WithoutNaN(_mm256_loadu_ps(x + 8 * k))));
  }
  __m128 half = _mm_max_ps(_mm256_castps256_ps128(max), _mm256_extractf128_ps(max, 1));
  half = _mm_max_ps(half, _mm_movehl_ps(half, half));
  half = _mm_max_ss(half, _mm_movehdup_ps(half));
  return _mm_cvtss_f32(half);
}

// round(x * inverse) of 8 floats, NaN products as 0, clamped to [-127, 127].
// cvtps rounds to nearest even in the default rounding mode.
HWY_INLINE __m256i QuantizeVector(const float* x, __m256 inverse) {
  const __m256 scaled = WithoutNaN(_mm256_mul_ps(_mm256_loadu_ps(x), inverse));
  const __m256 clamped = _mm256_min_ps(_mm256_max_ps(scaled, _mm256_set1_ps(-127.0f)), _mm256_set1_ps(127.0f));
  return _mm256_cvtps_epi32(clamped);
}

// Packs 4 vectors of 8 int32 in [-127, 127] into 32 int8 in order. The packs
// work per 128-bit half, so a final permute restores the element order.
HWY_INLINE __m256i PackToBytes(const __m256i (&q)[4]) {
  const __m256i words = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]), _mm256_packs_epi32(q[2], q[3]));
  return _mm256_permutevar8x32_epi32(words, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

HWY_INLINE __m256 InverseScale(float amax) { return _mm256_set1_ps(amax != 0.0f ? 127.0f / amax : 0.0f); }

HWY_INLINE void QuantizeQ8_0(const float* x, uint8_t* dst, size_t n) {
  for (size_t b = 0; b < n / quant::kBlock32; ++b) {
    const float* xb = x + b * quant::kBlock32;
    uint8_t* block = dst + b * quant::q8_0::kBytes;
    const float amax = AbsMax(xb, 4);
    const __m256 inverse = InverseScale(amax);

    const uint16_t d = _cvtss_sh(amax / 127.0f, _MM_FROUND_TO_NEAREST_INT);
    std::memcpy(block + quant::q8_0::kD, &d, sizeof(d));
    const __m256i q[4] = {QuantizeVector(xb, inverse), QuantizeVector(xb + 8, inverse),
                          QuantizeVector(xb + 16, inverse), QuantizeVector(xb + 24, inverse)};
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(block + quant::q8_0::kQs), PackToBytes(q));
  }
}

// Returns the sum of the 8 lanes of v[i] in lane i.
HWY_INLINE __m128i SumLanes4(const __m256i (&v)[4]) {
  const __m256i sums = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
  return _mm_add_epi32(_mm256_castsi256_si128(sums), _mm256_extracti128_si256(sums, 1));
}

HWY_INLINE void QuantizeQ8_K(const float* x, uint8_t* dst, size_t n) {
  for (size_t b = 0; b < n / quant::kSuperBlock; ++b) {
    const float* xb = x + b * quant::kSuperBlock;
    uint8_t* block = dst + b * quant::q8_k::kBytes;
    const float amax = AbsMax(xb, quant::kSuperBlock / 8);
    const __m256 inverse = InverseScale(amax);
    const float d = amax / 127.0f;
    std::memcpy(block + quant::q8_k::kD, &d, sizeof(d));

    // 64 values (4 groups of 16) per step.
    for (size_t step = 0; step < quant::kSuperBlock / 64; ++step) {
      __m256i group_sums[4];
      for (size_t half = 0; half < 2; ++half) {
        const size_t offset = 64 * step + 32 * half;
        const __m256i q[4] = {QuantizeVector(xb + offset, inverse), QuantizeVector(xb + offset + 8, inverse),
                              QuantizeVector(xb + offset + 16, inverse), QuantizeVector(xb + offset + 24, inverse)};
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(block + quant::q8_k::kQs + offset), PackToBytes(q));
        group_sums[2 * half] = _mm256_add_epi32(q[0], q[1]);
        group_sums[2 * half + 1] = _mm256_add_epi32(q[2], q[3]);
      }

      // The sums fit int16: 16 * 127 at most.
      const __m128i sums = SumLanes4(group_sums);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(block + quant::q8_k::kBsums + 8 * step), _mm_packs_epi32(sums, sums));
    }
  }
}

// Quantizes one activation row to `type` (Q8_0 or Q8_K).
HWY_INLINE void QuantizeActivationRow(DType type, const float* x, uint8_t* dst, size_t n) {
  if (type == DType::Q8_0) return QuantizeQ8_0(x, dst, n);
  QuantizeQ8_K(x, dst, n);
}

#endif

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#endif  // EDGELM_KERNELS_ACTIVATION_QUANT_INL_H_
