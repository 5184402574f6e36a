#pragma once
// Test data for the kernels: random rows encoded in each weight type.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/matvec.h"
#include "tensor/dtype.h"
#include "tensor/quant_blocks.h"
#include "tensor/quantize_activations.h"
#include "tensor/reference.h"

namespace edgelm::testing {

inline const DType kKernelTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q8_0, DType::Q4_0,
                                     DType::Q4_1, DType::Q5_0, DType::Q5_1, DType::Q2_K, DType::Q3_K,
                                     DType::Q4_K, DType::Q5_K, DType::Q6_K};

// The 4- to 6-bit block types, which the tests fill with random blocks.
inline bool is_random_block_type(DType type) {
  return dtype_info(type).block_size > 1 && type != DType::Q8_0;
}

inline std::vector<float> random_floats(size_t n, uint32_t seed, float low = -1.0f, float high = 1.0f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> values(n);
  for (float& v : values) v = dist(rng);
  return values;
}

// Small integers, so every product and partial sum is exact in float.
inline std::vector<float> random_integers(size_t n, uint32_t seed, int max_abs) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-max_abs, max_abs);
  std::vector<float> values(n);
  for (float& v : values) v = static_cast<float>(dist(rng));
  return values;
}

// Encodes `values` (a multiple of the block size) as one row of `type`.
inline std::vector<uint8_t> encode_row(DType type, const std::vector<float>& values) {
  std::vector<uint8_t> row(row_bytes(type, values.size()));
  const size_t n = values.size();
  switch (type) {
    case DType::F32:
      if (n > 0) std::memcpy(row.data(), values.data(), n * sizeof(float));
      break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t h = f32_to_f16(values[i]);
        std::memcpy(row.data() + 2 * i, &h, 2);
      }
      break;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        const uint16_t b = f32_to_bf16(values[i]);
        std::memcpy(row.data() + 2 * i, &b, 2);
      }
      break;
    case DType::Q8_0:
      quantize_row_q8_0_ref(values.data(), row.data(), n);
      break;
    default:
      break;
  }
  return row;
}

// Q8_0 with scale 1: each value must be an integer in [-127, 127].
inline std::vector<uint8_t> encode_q8_unit_scale(const std::vector<float>& values) {
  std::vector<uint8_t> row(values.size() / 32 * 34);
  for (size_t b = 0; b < values.size() / 32; ++b) {
    const uint16_t one = 0x3c00;
    std::memcpy(row.data() + b * 34, &one, 2);
    for (size_t j = 0; j < 32; ++j) {
      row[b * 34 + 2 + j] = static_cast<uint8_t>(static_cast<int8_t>(values[b * 32 + j]));
    }
  }
  return row;
}

// Offsets of the fp16 fields (scales d, mins m and dmin) in a block of `type`.
inline std::vector<size_t> half_fields(DType type) {
  namespace q = quant;
  switch (type) {
    case DType::Q4_0:
      return {q::q4_0::kD};
    case DType::Q4_1:
      return {q::q4_1::kD, q::q4_1::kM};
    case DType::Q5_0:
      return {q::q5_0::kD};
    case DType::Q5_1:
      return {q::q5_1::kD, q::q5_1::kM};
    case DType::Q8_0:
      return {q::q8_0::kD};
    case DType::Q2_K:
      return {q::q2_k::kD, q::q2_k::kDmin};
    case DType::Q3_K:
      return {q::q3_k::kD};
    case DType::Q4_K:
      return {q::q4_k::kD, q::q4_k::kDmin};
    case DType::Q5_K:
      return {q::q5_k::kD, q::q5_k::kDmin};
    case DType::Q6_K:
      return {q::q6_k::kD};
    default:
      return {};
  }
}

// A row of n values (a multiple of the block size) of a block type: random
// bytes for the quants and packed scales, and random finite fp16 fields of
// magnitude below 32, subnormals included. With unit_fields every fp16 field
// is 1 (0.25 for Q6_K, whose int8 scales are larger), so all values are small
// multiples of 0.25 and a dot product with small integers is exact in float.
inline std::vector<uint8_t> random_blocks(DType type, size_t n, uint32_t seed, bool unit_fields = false) {
  const DTypeInfo& info = dtype_info(type);
  std::mt19937 rng(seed);
  std::vector<uint8_t> row(row_bytes(type, n));
  for (uint8_t& byte : row) byte = static_cast<uint8_t>(rng());

  // Exponent field below 20: magnitude < 2^5.
  std::uniform_int_distribution<uint32_t> exponent(0, 19);
  const uint16_t unit = f32_to_f16(type == DType::Q6_K ? 0.25f : 1.0f);
  for (size_t b = 0; b < n / info.block_size; ++b) {
    for (size_t offset : half_fields(type)) {
      const auto random_half = static_cast<uint16_t>((rng() & 0x83ff) | (exponent(rng) << 10));
      const uint16_t half = unit_fields ? unit : random_half;
      std::memcpy(row.data() + b * info.block_bytes + offset, &half, sizeof(half));
    }
  }
  return row;
}

// A random row of any kernel type: random blocks for the 4- to 6-bit types,
// random values in [-1, 1] encoded for the others.
inline std::vector<uint8_t> random_row(DType type, size_t n, uint32_t seed) {
  if (is_random_block_type(type)) return random_blocks(type, n, seed);
  return encode_row(type, random_floats(n, seed));
}

// The activations the kernels multiply rows of `type` with on the active ISA:
// x itself on the float path, or x quantized to activation_type(type) and
// dequantized on the integer path. dot_row_ref with them leaves only float
// rounding between the kernels and the reference.
inline std::vector<float> kernel_activations(DType type, const std::vector<float>& x) {
  const DType activations = activation_type(type);
  if (activations == DType::F32) return x;

  std::vector<uint8_t> quantized(row_bytes(activations, x.size()));
  quantize_activations_ref(activations, x.data(), quantized.data(), x.size());
  std::vector<float> values(x.size());
  if (activations == DType::Q8_K) {
    dequantize_row_q8_k_ref(quantized.data(), values.data(), x.size());
  } else {
    dequantize_row_ref(activations, quantized.data(), values.data(), x.size());
  }
  return values;
}

// Sum of |w_i * x_i|, the scale of the rounding error of a dot product.
inline double abs_dot(DType type, const uint8_t* row, const float* x, size_t n) {
  std::vector<float> w(n);
  dequantize_row_ref(type, row, w.data(), n);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += std::fabs(static_cast<double>(w[i]) * x[i]);
  return sum;
}

// Heuristic bound on the error of a float32 dot product against the double
// reference, relative to sum |w x|. With random signs the rounding errors
// grow like sqrt(n), so a few ulps per sqrt(n) terms leave a wide margin.
inline double dot_tolerance(size_t n, double abs_sum) {
  return (std::sqrt(static_cast<double>(n)) + 4.0) * std::ldexp(1.0, -24) * abs_sum + 1e-30;
}

}  // namespace edgelm::testing
