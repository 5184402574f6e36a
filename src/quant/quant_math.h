#pragma once
// Rounding and fp16 helpers shared by the quantizers. They reproduce ggml's
// float behaviour exactly, because llama.cpp's files are the reference output.

#include <cstdint>
#include <cstring>

#include "tensor/reference.h"

namespace edgelm::quant {

// Rounds to the nearest integer, ties to even, the way ggml's nearest_int
// does: adding 1.5 * 2^23 puts the rounded value in the low mantissa bits.
// Exact for |value| < 2^22. Larger inputs give the same wrapped result as
// ggml, which only reaches them on degenerate blocks and clamps it afterwards.
inline int nearest_int(float value) {
  const float shifted = value + 12582912.0f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof(bits));
  return (bits & 0x007fffff) - 0x00400000;
}

// Rounds a float to fp16 (nearest even) and back, as ggml does when it
// stores a block scale and reads it again for the second pass.
inline float round_to_f16(float value) { return f16_to_f32(f32_to_f16(value)); }

// Copies a filled block struct to its place in the output row.
template <typename Block>
inline void store_block(const Block& block, uint8_t* dst) {
  std::memcpy(dst, &block, sizeof(Block));
}

}  // namespace edgelm::quant
