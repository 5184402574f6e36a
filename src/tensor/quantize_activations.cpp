#include "tensor/quantize_activations.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "tensor/quant_blocks.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

float without_nan(float v) { return std::isnan(v) ? 0.0f : v; }

// Quantizes one block of `size` values to int8 and returns amax / 127.
float quantize_block(const float* x, size_t size, int8_t* q) {
  float amax = 0.0f;
  for (size_t j = 0; j < size; ++j) amax = std::max(amax, std::fabs(without_nan(x[j])));
  const float inverse = amax != 0.0f ? 127.0f / amax : 0.0f;

  for (size_t j = 0; j < size; ++j) {
    const float scaled = std::clamp(without_nan(x[j] * inverse), -127.0f, 127.0f);
    q[j] = static_cast<int8_t>(std::nearbyint(scaled));
  }
  return amax / 127.0f;
}

void check_length(DType type, size_t n) {
  const uint32_t block = dtype_info(type).block_size;
  if (n % block != 0) fail("row length {} is not a multiple of the {} block size {}", n, dtype_name(type), block);
}

}  // namespace

void quantize_activations_ref(DType type, const float* src, uint8_t* dst, size_t n) {
  if (type != DType::Q8_0 && type != DType::Q8_K) {
    fail("activations cannot be quantized to {}; use q8_0 or q8_k", dtype_name(type));
  }
  check_length(type, n);

  if (type == DType::Q8_0) {
    for (size_t b = 0; b < n / quant::kBlock32; ++b) {
      uint8_t* block = dst + b * quant::q8_0::kBytes;
      int8_t q[quant::kBlock32];
      const uint16_t d = f32_to_f16(quantize_block(src + b * quant::kBlock32, quant::kBlock32, q));
      std::memcpy(block + quant::q8_0::kD, &d, sizeof(d));
      std::memcpy(block + quant::q8_0::kQs, q, sizeof(q));
    }
    return;
  }

  for (size_t b = 0; b < n / quant::kSuperBlock; ++b) {
    uint8_t* block = dst + b * quant::q8_k::kBytes;
    int8_t q[quant::kSuperBlock];
    const float d = quantize_block(src + b * quant::kSuperBlock, quant::kSuperBlock, q);
    std::memcpy(block + quant::q8_k::kD, &d, sizeof(d));
    std::memcpy(block + quant::q8_k::kQs, q, sizeof(q));

    for (size_t group = 0; group < quant::kSuperBlock / 16; ++group) {
      int16_t sum = 0;
      for (size_t j = 0; j < 16; ++j) sum = static_cast<int16_t>(sum + q[16 * group + j]);
      std::memcpy(block + quant::q8_k::kBsums + 2 * group, &sum, sizeof(sum));
    }
  }
}

void dequantize_row_q8_k_ref(const uint8_t* src, float* dst, size_t n) {
  check_length(DType::Q8_K, n);

  for (size_t b = 0; b < n / quant::kSuperBlock; ++b) {
    const uint8_t* block = src + b * quant::q8_k::kBytes;
    float d;
    std::memcpy(&d, block + quant::q8_k::kD, sizeof(d));
    for (size_t j = 0; j < quant::kSuperBlock; ++j) {
      dst[b * quant::kSuperBlock + j] = d * static_cast<float>(static_cast<int8_t>(block[quant::q8_k::kQs + j]));
    }
  }
}

}  // namespace edgelm
