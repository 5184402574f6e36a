#include "tensor/dequantize_blocks.h"

#include <cstring>

#include "tensor/quant_blocks.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

using quant::kBlock32;
using quant::kSuperBlock;

float load_half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  return f16_to_f32(h);
}

// Low nibble for elements 0-15 of a 32-element block, high nibble for 16-31.
int nibble32(const uint8_t* qs, size_t i) { return i < 16 ? (qs[i] & 0xf) : (qs[i - 16] >> 4); }

// Bit 4 of element i of a Q5_0 or Q5_1 block.
int high_bit32(const uint8_t* qh, size_t i) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  return static_cast<int>((bits >> i) & 1) << 4;
}

void dequantize_q4_0(const uint8_t* block, float* dst) {
  const float d = load_half(block + quant::q4_0::kD);
  for (size_t i = 0; i < kBlock32; ++i) {
    dst[i] = static_cast<float>(nibble32(block + quant::q4_0::kQs, i) - 8) * d;
  }
}

void dequantize_q4_1(const uint8_t* block, float* dst) {
  const float d = load_half(block + quant::q4_1::kD);
  const float m = load_half(block + quant::q4_1::kM);
  for (size_t i = 0; i < kBlock32; ++i) {
    dst[i] = static_cast<float>(nibble32(block + quant::q4_1::kQs, i)) * d + m;
  }
}

void dequantize_q5_0(const uint8_t* block, float* dst) {
  const float d = load_half(block + quant::q5_0::kD);
  for (size_t i = 0; i < kBlock32; ++i) {
    const int q = nibble32(block + quant::q5_0::kQs, i) | high_bit32(block + quant::q5_0::kQh, i);
    dst[i] = static_cast<float>(q - 16) * d;
  }
}

void dequantize_q5_1(const uint8_t* block, float* dst) {
  const float d = load_half(block + quant::q5_1::kD);
  const float m = load_half(block + quant::q5_1::kM);
  for (size_t i = 0; i < kBlock32; ++i) {
    const int q = nibble32(block + quant::q5_1::kQs, i) | high_bit32(block + quant::q5_1::kQh, i);
    dst[i] = static_cast<float>(q) * d + m;
  }
}

void dequantize_q8_0(const uint8_t* block, float* dst) {
  const float d = load_half(block + quant::q8_0::kD);
  for (size_t i = 0; i < kBlock32; ++i) {
    dst[i] = static_cast<float>(static_cast<int8_t>(block[quant::q8_0::kQs + i])) * d;
  }
}

void dequantize_q2_k(const uint8_t* block, float* dst) {
  const float d = load_half(block + quant::q2_k::kD);
  const float dmin = load_half(block + quant::q2_k::kDmin);
  const uint8_t* scales = block + quant::q2_k::kScales;
  const uint8_t* qs = block + quant::q2_k::kQs;

  for (size_t i = 0; i < kSuperBlock; ++i) {
    const size_t h = i / 128, s = (i / 32) % 4, l = i % 32;
    const uint8_t packed = scales[8 * h + 2 * s + l / 16];
    const float scale = d * static_cast<float>(packed & 0xf);
    const float min = dmin * static_cast<float>(packed >> 4);
    const int q = (qs[32 * h + l] >> (2 * s)) & 3;
    dst[i] = scale * static_cast<float>(q) - min;
  }
}

void dequantize_q3_k(const uint8_t* block, float* dst) {
  const float d = load_half(block + quant::q3_k::kD);
  const uint8_t* hmask = block + quant::q3_k::kHmask;
  const uint8_t* qs = block + quant::q3_k::kQs;

  for (size_t i = 0; i < kSuperBlock; ++i) {
    const size_t h = i / 128, s = (i / 32) % 4, l = i % 32;
    const float scale = d * static_cast<float>(quant::q3_k_scale(block + quant::q3_k::kScales, 8 * h + 2 * s + l / 16));
    const int low = (qs[32 * h + l] >> (2 * s)) & 3;
    const bool high = (hmask[l] >> (4 * h + s)) & 1;
    dst[i] = scale * static_cast<float>(high ? low : low - 4);
  }
}

// Q4_K and Q5_K share scales and nibbles; Q5_K adds the qh bit plane.
void dequantize_k4(const uint8_t* block, const uint8_t* qs, const uint8_t* qh, float* dst) {
  const float d = load_half(block + quant::q4_k::kD);
  const float dmin = load_half(block + quant::q4_k::kDmin);

  for (size_t i = 0; i < kSuperBlock; ++i) {
    const size_t c = i / 64, half = (i / 32) % 2, l = i % 32;
    uint8_t scale_bits, min_bits;
    quant::k4_scale_min(block + quant::q4_k::kScales, 2 * c + half, scale_bits, min_bits);
    const float scale = d * static_cast<float>(scale_bits);
    const float min = dmin * static_cast<float>(min_bits);

    int q = (qs[32 * c + l] >> (4 * half)) & 0xf;
    if (qh != nullptr) q |= ((qh[l] >> (2 * c + half)) & 1) << 4;
    dst[i] = scale * static_cast<float>(q) - min;
  }
}

void dequantize_q6_k(const uint8_t* block, float* dst) {
  const float d = load_half(block + quant::q6_k::kD);
  const uint8_t* ql = block + quant::q6_k::kQl;
  const uint8_t* qh = block + quant::q6_k::kQh;
  const auto* scales = reinterpret_cast<const int8_t*>(block + quant::q6_k::kScales);

  for (size_t i = 0; i < kSuperBlock; ++i) {
    const size_t h = i / 128, s = (i / 32) % 4, l = i % 32;
    const uint8_t low_byte = ql[64 * h + l + 32 * (s & 1)];
    const int low = s < 2 ? (low_byte & 0xf) : (low_byte >> 4);
    const int high = (qh[32 * h + l] >> (2 * s)) & 3;
    const int q = (low | (high << 4)) - 32;

    // ggml multiplies d by the scale first; the product with q may round.
    const float scale = d * static_cast<float>(scales[8 * h + 2 * s + l / 16]);
    dst[i] = scale * static_cast<float>(q);
  }
}

}  // namespace

bool is_block_quantized(DType type) {
  switch (type) {
    case DType::Q4_0:
    case DType::Q4_1:
    case DType::Q5_0:
    case DType::Q5_1:
    case DType::Q8_0:
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
      return true;
    default:
      return false;
  }
}

void dequantize_block_ref(DType type, const uint8_t* block, float* dst) {
  switch (type) {
    case DType::Q4_0:
      return dequantize_q4_0(block, dst);
    case DType::Q4_1:
      return dequantize_q4_1(block, dst);
    case DType::Q5_0:
      return dequantize_q5_0(block, dst);
    case DType::Q5_1:
      return dequantize_q5_1(block, dst);
    case DType::Q8_0:
      return dequantize_q8_0(block, dst);
    case DType::Q2_K:
      return dequantize_q2_k(block, dst);
    case DType::Q3_K:
      return dequantize_q3_k(block, dst);
    case DType::Q4_K:
      return dequantize_k4(block, block + quant::q4_k::kQs, nullptr, dst);
    case DType::Q5_K:
      return dequantize_k4(block, block + quant::q5_k::kQs, block + quant::q5_k::kQh, dst);
    case DType::Q6_K:
      return dequantize_q6_k(block, dst);
    default:
      return;  // callers check is_block_quantized
  }
}

}  // namespace edgelm
