#pragma once
// Decoders for the quantized block formats, written from the layouts alone
// (independent of the quantizers and of src/tensor), so round-trip tests
// also check how the quantizers pack bits.

#include <cstdint>
#include <cstring>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/reference.h"

namespace edgelm::testing {

inline float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// Value i of a 32-element block.
inline float decode_block32(DType type, const uint8_t* b, int i) {
  const int j = i % 16;
  const bool high_nibble = i >= 16;
  switch (type) {
    case DType::Q4_0: {
      const int q = high_nibble ? b[2 + j] >> 4 : b[2 + j] & 0xF;
      return half_at(b) * static_cast<float>(q - 8);
    }
    case DType::Q4_1: {
      const int q = high_nibble ? b[4 + j] >> 4 : b[4 + j] & 0xF;
      return half_at(b) * static_cast<float>(q) + half_at(b + 2);
    }
    case DType::Q5_0: {
      uint32_t qh;
      std::memcpy(&qh, b + 2, 4);
      const int low = high_nibble ? b[6 + j] >> 4 : b[6 + j] & 0xF;
      const int q = low | static_cast<int>((qh >> i) & 1) << 4;
      return half_at(b) * static_cast<float>(q - 16);
    }
    case DType::Q5_1: {
      uint32_t qh;
      std::memcpy(&qh, b + 4, 4);
      const int low = high_nibble ? b[8 + j] >> 4 : b[8 + j] & 0xF;
      const int q = low | static_cast<int>((qh >> i) & 1) << 4;
      return half_at(b) * static_cast<float>(q) + half_at(b + 2);
    }
    case DType::Q8_0:
      return half_at(b) * static_cast<float>(static_cast<int8_t>(b[2 + i]));
    default:
      return 0.0f;
  }
}

// The 6-bit scale and min of group g (of 8) in a Q4_K or Q5_K scales field.
inline void k4_scale_min(const uint8_t* s, int g, int& scale, int& min) {
  if (g < 4) {
    scale = s[g] & 63;
    min = s[g + 4] & 63;
  } else {
    scale = (s[g + 4] & 0xF) | ((s[g - 4] >> 6) << 4);
    min = (s[g + 4] >> 4) | ((s[g] >> 6) << 4);
  }
}

// Value p (0..255) of a 256-element super-block.
inline float decode_superblock(DType type, const uint8_t* b, int p) {
  switch (type) {
    case DType::Q2_K: {
      const uint8_t* scales = b;
      const uint8_t* qs = b + 16;
      const int q = (qs[(p / 128) * 32 + p % 32] >> (2 * ((p % 128) / 32))) & 3;
      const int sc = scales[p / 16];
      return half_at(b + 80) * static_cast<float>(sc & 0xF) * static_cast<float>(q) -
             half_at(b + 82) * static_cast<float>(sc >> 4);
    }
    case DType::Q3_K: {
      const uint8_t* hmask = b;
      const uint8_t* qs = b + 32;
      const uint8_t* s = b + 96;
      const int g = p / 16;
      const int low = g < 8 ? s[g] & 0xF : s[g - 8] >> 4;
      const int high = (s[8 + g % 4] >> (2 * (g / 4))) & 3;
      const int scale = (low | high << 4) - 32;
      const int q2 = (qs[(p / 128) * 32 + p % 32] >> (2 * ((p % 128) / 32))) & 3;
      const int q = q2 + (((hmask[p % 32] >> (p / 32)) & 1) != 0 ? 4 : 0) - 4;
      return half_at(b + 108) * static_cast<float>(scale) * static_cast<float>(q);
    }
    case DType::Q4_K:
    case DType::Q5_K: {
      const bool five_bits = type == DType::Q5_K;
      const uint8_t* qs = b + (five_bits ? 48 : 16);
      int scale, min;
      k4_scale_min(b + 4, p / 32, scale, min);
      const int within = p % 64;
      const uint8_t byte = qs[(p / 64) * 32 + within % 32];
      int q = within < 32 ? byte & 0xF : byte >> 4;
      if (five_bits && ((b[16 + p % 32] >> (p / 32)) & 1) != 0) q += 16;
      return half_at(b) * static_cast<float>(scale) * static_cast<float>(q) - half_at(b + 2) * static_cast<float>(min);
    }
    case DType::Q6_K: {
      const uint8_t* ql = b;
      const uint8_t* qh = b + 128;
      const auto* scales = reinterpret_cast<const int8_t*>(b + 192);
      const int half = p / 128;
      const int quarter = (p % 128) / 32;
      const int l = p % 32;
      const uint8_t low_byte = ql[half * 64 + l + 32 * (quarter & 1)];
      const int low = quarter < 2 ? low_byte & 0xF : low_byte >> 4;
      const int high = (qh[half * 32 + l] >> (2 * quarter)) & 3;
      const int q = (low | high << 4) - 32;
      return half_at(b + 208) * static_cast<float>(scales[p / 16]) * static_cast<float>(q);
    }
    default:
      return 0.0f;
  }
}

// Decodes a row of n values.
inline std::vector<float> decode_row(DType type, const uint8_t* row, size_t n) {
  const DTypeInfo& info = dtype_info(type);
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* block = row + (i / info.block_size) * info.block_bytes;
    const int within = static_cast<int>(i % info.block_size);
    out[i] = info.block_size == 32 ? decode_block32(type, block, within) : decode_superblock(type, block, within);
  }
  return out;
}

}  // namespace edgelm::testing
