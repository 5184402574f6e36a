// Quantizers for the 32-element block formats (ggml's "legacy" quants):
// Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0. Each block is rounded on its own with
// one scale (and a minimum for the _1 types); no search is involved.

#include <algorithm>
#include <cfloat>
#include <cmath>

#include "quant/block_layouts.h"
#include "quant/quant_math.h"
#include "quant/row_quantizers.h"
#include "tensor/reference.h"

namespace edgelm::quant {
namespace {

// Returns the value of largest magnitude in the block, keeping its sign
// (the first one wins a tie).
float signed_absmax(const float* x) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < kBlock32; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

// Smallest and largest value of the block.
void block_min_max(const float* x, float& min, float& max) {
  min = FLT_MAX;
  max = -FLT_MAX;
  for (int j = 0; j < kBlock32; ++j) {
    if (x[j] < min) min = x[j];
    if (x[j] > max) max = x[j];
  }
}

// Packs the fifth bit of element j into bit j of a little-endian uint32.
void set_high_bits(const uint8_t* q, uint8_t qh[4]) {
  uint32_t bits = 0;
  for (int j = 0; j < kBlock32; ++j) bits |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  for (int k = 0; k < 4; ++k) qh[k] = static_cast<uint8_t>(bits >> (8 * k));
}

}  // namespace

void quantize_row_q4_0(const float* x, uint8_t* y, size_t n) {
  for (size_t b = 0; b < n / kBlock32; ++b, x += kBlock32, y += sizeof(BlockQ4_0)) {
    // The signed extreme maps to -8, so the full range -8..7 is used on its side.
    const float d = signed_absmax(x) / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;

    BlockQ4_0 block;
    block.d = f32_to_f16(d);
    for (int j = 0; j < kBlock32 / 2; ++j) {
      // Truncation after +8.5 rounds half up; the 8.5 + 8 case clamps to 15.
      const auto q0 = static_cast<uint8_t>(std::min(15, static_cast<int>(x[j] * id + 8.5f)));
      const auto q1 = static_cast<uint8_t>(std::min(15, static_cast<int>(x[j + 16] * id + 8.5f)));
      block.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    store_block(block, y);
  }
}

void quantize_row_q4_1(const float* x, uint8_t* y, size_t n) {
  for (size_t b = 0; b < n / kBlock32; ++b, x += kBlock32, y += sizeof(BlockQ4_1)) {
    float min, max;
    block_min_max(x, min, max);
    const float d = (max - min) / 15;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;

    BlockQ4_1 block;
    block.d = f32_to_f16(d);
    block.m = f32_to_f16(min);
    for (int j = 0; j < kBlock32 / 2; ++j) {
      const auto q0 = static_cast<uint8_t>(std::min(15, static_cast<int>((x[j] - min) * id + 0.5f)));
      const auto q1 = static_cast<uint8_t>(std::min(15, static_cast<int>((x[j + 16] - min) * id + 0.5f)));
      block.qs[j] = static_cast<uint8_t>(q0 | (q1 << 4));
    }
    store_block(block, y);
  }
}

void quantize_row_q5_0(const float* x, uint8_t* y, size_t n) {
  for (size_t b = 0; b < n / kBlock32; ++b, x += kBlock32, y += sizeof(BlockQ5_0)) {
    const float d = signed_absmax(x) / -16;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;

    uint8_t q[kBlock32];
    for (int j = 0; j < kBlock32; ++j) {
      q[j] = static_cast<uint8_t>(std::min(31, static_cast<int>(x[j] * id + 16.5f)));
    }

    BlockQ5_0 block;
    block.d = f32_to_f16(d);
    for (int j = 0; j < kBlock32 / 2; ++j) block.qs[j] = static_cast<uint8_t>((q[j] & 15) | ((q[j + 16] & 15) << 4));
    set_high_bits(q, block.qh);
    store_block(block, y);
  }
}

void quantize_row_q5_1(const float* x, uint8_t* y, size_t n) {
  for (size_t b = 0; b < n / kBlock32; ++b, x += kBlock32, y += sizeof(BlockQ5_1)) {
    float min, max;
    block_min_max(x, min, max);
    const float d = (max - min) / 31;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;

    // ggml does not clamp here: (x - min) * id + 0.5 stays below 32 for finite input.
    uint8_t q[kBlock32];
    for (int j = 0; j < kBlock32; ++j) q[j] = static_cast<uint8_t>(static_cast<int>((x[j] - min) * id + 0.5f));

    BlockQ5_1 block;
    block.d = f32_to_f16(d);
    block.m = f32_to_f16(min);
    for (int j = 0; j < kBlock32 / 2; ++j) block.qs[j] = static_cast<uint8_t>((q[j] & 15) | ((q[j + 16] & 15) << 4));
    set_high_bits(q, block.qh);
    store_block(block, y);
  }
}

// Q8_0 has one reference implementation, shared with the activation tests.
void quantize_row_q8_0(const float* x, uint8_t* y, size_t n) { quantize_row_q8_0_ref(x, y, n); }

}  // namespace edgelm::quant
