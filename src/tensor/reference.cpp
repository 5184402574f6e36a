#include "tensor/reference.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "tensor/dequantize_blocks.h"

namespace edgelm {
namespace {

// A Q8_0 block is an fp16 scale d followed by 32 int8 quants q. Each value is d * q.
constexpr size_t kQ8Block = 32;
constexpr size_t kQ8BlockBytes = 2 + kQ8Block;

// Elements of the largest block (a K-quant super-block).
constexpr size_t kMaxBlock = 256;

uint16_t load_u16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

float load_f32(const uint8_t* p) {
  float v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

// Returns element i of a row of F32, F16 or BF16 as float.
float element(DType type, const uint8_t* row, size_t i) {
  switch (type) {
    case DType::F32:
      return load_f32(row + 4 * i);
    case DType::F16:
      return f16_to_f32(load_u16(row + 2 * i));
    default:
      return bf16_to_f32(load_u16(row + 2 * i));
  }
}

void check_row(DType type, size_t n) {
  if (!dtype_supported(type)) {
    fail("tensor type {} is not supported by the kernels (supported: {})", dtype_name(type),
         supported_dtype_names());
  }
  const uint32_t block = dtype_info(type).block_size;
  if (n % block != 0) {
    fail("row length {} is not a multiple of the {} block size {}", n, dtype_name(type), block);
  }
}

}  // namespace

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h >> 15) << 31;
  const uint32_t exponent = (h >> 10) & 0x1f;
  uint32_t mantissa = h & 0x3ff;

  uint32_t bits;
  if (exponent == 0x1f) {
    // Infinity or NaN. A NaN payload moves to the top of the f32 mantissa.
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    // Normal: rebias the exponent from 15 to 127.
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {
    // Subnormal half (mantissa * 2^-24) is normal in f32: shift the leading
    // one up to the implicit bit, lowering the exponent once per shift.
    uint32_t biased = 113;
    while ((mantissa & 0x400) == 0) {
      mantissa <<= 1;
      --biased;
    }
    bits = sign | (biased << 23) | ((mantissa & 0x3ff) << 13);
  }
  return std::bit_cast<float>(bits);
}

uint16_t f32_to_f16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000);
  const uint32_t exponent = (bits >> 23) & 0xff;
  const uint32_t mantissa = bits & 0x7fffff;

  if (exponent == 0xff) {
    if (mantissa == 0) return sign | 0x7c00;
    // Quiet NaN that keeps the top payload bits.
    return static_cast<uint16_t>(sign | 0x7e00 | (mantissa >> 13));
  }

  // Half exponent, biased by 15.
  const int half_exponent = static_cast<int>(exponent) - 127 + 15;
  if (half_exponent >= 31) return sign | 0x7c00;

  if (half_exponent <= 0) {
    // Below 2^-25 everything rounds to zero.
    if (half_exponent < -10) return sign;

    // Subnormal half: the 24-bit significand shifted right, rounded to nearest even.
    const uint32_t significand = mantissa | 0x800000;
    const auto shift = static_cast<uint32_t>(14 - half_exponent);
    uint32_t half = significand >> shift;
    const uint32_t rest = significand & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rest > halfway || (rest == halfway && (half & 1) != 0)) ++half;
    return static_cast<uint16_t>(sign | half);
  }

  // Normal half. A carry out of the mantissa bumps the exponent, up to infinity.
  uint32_t half = (static_cast<uint32_t>(half_exponent) << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1) != 0)) ++half;
  return static_cast<uint16_t>(sign | half);
}

float bf16_to_f32(uint16_t b) { return std::bit_cast<float>(static_cast<uint32_t>(b) << 16); }

uint16_t f32_to_bf16(float f) {
  const uint32_t bits = std::bit_cast<uint32_t>(f);
  if ((bits & 0x7fffffff) > 0x7f800000) {
    // Quiet NaN that keeps the top payload bits.
    return static_cast<uint16_t>((bits >> 16) | 0x40);
  }

  // Round to nearest even: add just under half an ulp, plus one when the kept part is odd.
  const uint32_t rounded = bits + 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(rounded >> 16);
}

std::string_view supported_dtype_names() {
  return "f32, f16, bf16, q4_0, q4_1, q5_0, q5_1, q8_0, q2_k, q3_k, q4_k, q5_k, q6_k";
}

bool dtype_supported(DType type) {
  return type == DType::F32 || type == DType::F16 || type == DType::BF16 || is_block_quantized(type);
}

void dequantize_row_ref(DType type, const uint8_t* src, float* dst, size_t n) {
  check_row(type, n);
  if (!is_block_quantized(type)) {
    for (size_t i = 0; i < n; ++i) dst[i] = element(type, src, i);
    return;
  }

  const DTypeInfo& info = dtype_info(type);
  for (size_t b = 0; b < n / info.block_size; ++b) {
    dequantize_block_ref(type, src + b * info.block_bytes, dst + b * info.block_size);
  }
}

double dot_row_ref(DType type, const uint8_t* row, const float* x, size_t n) {
  check_row(type, n);
  double sum = 0.0;
  if (!is_block_quantized(type)) {
    for (size_t i = 0; i < n; ++i) {
      sum += static_cast<double>(element(type, row, i)) * static_cast<double>(x[i]);
    }
    return sum;
  }

  const DTypeInfo& info = dtype_info(type);
  float w[kMaxBlock];
  for (size_t b = 0; b < n / info.block_size; ++b) {
    dequantize_block_ref(type, row + b * info.block_bytes, w);
    const float* xb = x + b * info.block_size;
    for (size_t j = 0; j < info.block_size; ++j) sum += static_cast<double>(w[j]) * static_cast<double>(xb[j]);
  }
  return sum;
}

void quantize_row_q8_0_ref(const float* src, uint8_t* dst, size_t n) {
  check_row(DType::Q8_0, n);

  for (size_t b = 0; b < n / kQ8Block; ++b) {
    const float* x = src + b * kQ8Block;
    uint8_t* block = dst + b * kQ8BlockBytes;

    // Scale so the largest magnitude maps to 127.
    float amax = 0.0f;
    for (size_t j = 0; j < kQ8Block; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float inverse = d != 0.0f ? 1.0f / d : 0.0f;

    const uint16_t d_half = f32_to_f16(d);
    std::memcpy(block, &d_half, sizeof(d_half));

    // Quants use the float scale, not the rounded fp16 one, as ggml does.
    // Rounding is half away from zero (roundf); NaN inputs become 0 rather
    // than an undefined conversion.
    for (size_t j = 0; j < kQ8Block; ++j) {
      const float q = std::round(x[j] * inverse);
      const float clamped = std::isnan(q) ? 0.0f : std::clamp(q, -127.0f, 127.0f);
      block[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(clamped));
    }
  }
}

}  // namespace edgelm
