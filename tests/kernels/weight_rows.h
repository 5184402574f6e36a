#pragma once
// Test data for the kernels: random rows encoded in each weight type.

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/reference.h"

namespace edgelm::testing {

inline const DType kKernelTypes[] = {DType::F32, DType::F16, DType::BF16, DType::Q8_0};

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
