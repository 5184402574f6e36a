// Quantizers for the k-quant super-block formats Q2_K to Q6_K. Each 256-value
// super-block is cut into groups of 16 or 32; every group gets its own scale
// (and minimum) from a search, and those scales are quantized again against
// one fp16 super-block scale. The values are then rounded a second time
// against the scales as stored, so the quants match what a reader decodes.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "quant/block_layouts.h"
#include "quant/quant_math.h"
#include "quant/row_quantizers.h"
#include "quant/scale_search.h"

namespace edgelm::quant {
namespace {

// Packs the 6-bit scale and min of group j (of 8) into the 12-byte field of
// Q4_K and Q5_K. Groups 0..3 use the low six bits of bytes j and j + 4.
// Groups 4..7 keep their low nibbles in byte j + 4 and their top two bits
// in the spare top bits of bytes j - 4 and j.
void pack_scale_min(uint8_t scales[12], int j, uint8_t scale, uint8_t min) {
  if (j < 4) {
    scales[j] = scale;
    scales[j + 4] = min;
  } else {
    scales[j + 4] = static_cast<uint8_t>((scale & 0xF) | ((min & 0xF) << 4));
    scales[j - 4] |= static_cast<uint8_t>((scale >> 4) << 6);
    scales[j] |= static_cast<uint8_t>((min >> 4) << 6);
  }
}

// Reads back what pack_scale_min stored for group j.
void unpack_scale_min(const uint8_t scales[12], int j, uint8_t& scale, uint8_t& min) {
  if (j < 4) {
    scale = scales[j] & 63;
    min = scales[j + 4] & 63;
  } else {
    scale = static_cast<uint8_t>((scales[j + 4] & 0xF) | ((scales[j - 4] >> 6) << 4));
    min = static_cast<uint8_t>((scales[j + 4] >> 4) | ((scales[j] >> 6) << 4));
  }
}

// The shared part of Q4_K and Q5_K: fits 8 groups of 32 with quants in
// 0..nmax, stores d, dmin and the packed 6-bit scales, and writes the final
// quants to L. rmin, rdelta and nstep are the search grid of each type.
template <typename Block>
void fit_groups_of_32(const float* x, Block& block, uint8_t L[kSuperBlock], int nmax, float rmin, float rdelta,
                      int nstep) {
  float scales[8];
  float mins[8];
  float weights[32];
  uint8_t scratch[32];

  // Per-group search, weighting each value by the group's RMS plus its magnitude.
  float max_scale = 0.0f;
  float max_min = 0.0f;
  for (int j = 0; j < 8; ++j) {
    const float* group = x + 32 * j;
    float sum_x2 = 0.0f;
    for (int l = 0; l < 32; ++l) sum_x2 += group[l] * group[l];
    const float av_x = std::sqrt(sum_x2 / 32);
    for (int l = 0; l < 32; ++l) weights[l] = av_x + std::fabs(group[l]);

    scales[j] = fit_scale_and_min(32, nmax, group, weights, L + 32 * j, &mins[j], scratch, rmin, rdelta, nstep, false);
    max_scale = std::max(max_scale, scales[j]);
    max_min = std::max(max_min, mins[j]);
  }

  // Group scales and mins become 6-bit multiples of d and dmin.
  const float inv_scale = max_scale > 0 ? 63.0f / max_scale : 0.0f;
  const float inv_min = max_min > 0 ? 63.0f / max_min : 0.0f;
  std::memset(block.scales, 0, sizeof(block.scales));
  for (int j = 0; j < 8; ++j) {
    // ggml stores nearest_int in a uint8_t before clamping; keep that wrap.
    auto ls = static_cast<uint8_t>(nearest_int(inv_scale * scales[j]));
    auto lm = static_cast<uint8_t>(nearest_int(inv_min * mins[j]));
    pack_scale_min(block.scales, j, std::min<uint8_t>(63, ls), std::min<uint8_t>(63, lm));
  }
  block.d = f32_to_f16(max_scale / 63.0f);
  block.dmin = f32_to_f16(max_min / 63.0f);

  // Re-round every value against the stored scales. A group whose scale
  // rounded to 0 keeps the quants of its search.
  const float d_all = f16_to_f32(block.d);
  const float dmin_all = f16_to_f32(block.dmin);
  for (int j = 0; j < 8; ++j) {
    uint8_t sc, m;
    unpack_scale_min(block.scales, j, sc, m);
    const float d = d_all * sc;
    if (d == 0.0f) continue;
    const float dm = dmin_all * m;
    for (int i = 0; i < 32; ++i) {
      const int l = nearest_int((x[32 * j + i] + dm) / d);
      L[32 * j + i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    }
  }
}

// Packs four 2-bit quants per byte: byte l of each 32-byte run stores values
// l, l + 32, l + 64 and l + 96 of its 128-value half.
void pack_2bit(const uint8_t* L, uint8_t* qs) {
  for (int j = 0; j < kSuperBlock; j += 128) {
    for (int l = 0; l < 32; ++l) {
      qs[j / 4 + l] =
          static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
    }
  }
}

}  // namespace

void quantize_row_q2_k(const float* x, uint8_t* y, size_t n) {
  constexpr float kScaleLevels = 15.0f;  // 4-bit group scales and mins

  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock, y += sizeof(BlockQ2_K)) {
    uint8_t L[kSuperBlock];
    uint8_t scratch[16];
    float weights[16];
    float scales[16];
    float mins[16];

    // Per-group search in 0..3, weighted by magnitude, minimizing absolute error.
    float max_scale = 0.0f;
    float max_min = 0.0f;
    for (int j = 0; j < 16; ++j) {
      for (int l = 0; l < 16; ++l) weights[l] = std::fabs(x[16 * j + l]);
      scales[j] = fit_scale_and_min(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], scratch, -0.5f, 0.1f, 15, true);
      max_scale = std::max(max_scale, scales[j]);
      max_min = std::max(max_min, mins[j]);
    }

    // Scales go in the low nibble, mins in the high nibble.
    BlockQ2_K block;
    if (max_scale > 0) {
      const float iscale = kScaleLevels / max_scale;
      for (int j = 0; j < 16; ++j) block.scales[j] = static_cast<uint8_t>(nearest_int(iscale * scales[j]));
      block.d = f32_to_f16(max_scale / kScaleLevels);
    } else {
      std::memset(block.scales, 0, sizeof(block.scales));
      block.d = f32_to_f16(0.0f);
    }
    if (max_min > 0) {
      const float iscale = kScaleLevels / max_min;
      for (int j = 0; j < 16; ++j) block.scales[j] |= static_cast<uint8_t>(nearest_int(iscale * mins[j]) << 4);
      block.dmin = f32_to_f16(max_min / kScaleLevels);
    } else {
      block.dmin = f32_to_f16(0.0f);
    }

    // Re-round against the stored scales.
    const float d_all = f16_to_f32(block.d);
    const float dmin_all = f16_to_f32(block.dmin);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * (block.scales[j] & 0xF);
      if (d == 0.0f) continue;
      const float dm = dmin_all * (block.scales[j] >> 4);
      for (int i = 0; i < 16; ++i) {
        const int l = nearest_int((x[16 * j + i] + dm) / d);
        L[16 * j + i] = static_cast<uint8_t>(std::max(0, std::min(3, l)));
      }
    }

    pack_2bit(L, block.qs);
    store_block(block, y);
  }
}

void quantize_row_q3_k(const float* x, uint8_t* y, size_t n) {
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock, y += sizeof(BlockQ3_K)) {
    int8_t L[kSuperBlock];
    float scales[16];

    // Per-group signed scales; the one of largest magnitude sets d.
    float max_scale = 0.0f;
    float amax = 0.0f;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_symmetric_scale_iterative(16, 4, x + 16 * j, L + 16 * j);
      const float scale = std::fabs(scales[j]);
      if (scale > amax) {
        amax = scale;
        max_scale = scales[j];
      }
    }

    // 6-bit scales offset by 32: low nibbles in bytes 0..7 (groups j and
    // j + 8 share a byte), the top two bits in bytes 8..11.
    BlockQ3_K block;
    std::memset(block.scales, 0, sizeof(block.scales));
    if (max_scale != 0.0f) {
      const float iscale = -32.0f / max_scale;
      for (int j = 0; j < 16; ++j) {
        auto l = static_cast<int8_t>(nearest_int(iscale * scales[j]));
        l = static_cast<int8_t>(std::max(-32, std::min(31, static_cast<int>(l))) + 32);
        if (j < 8) {
          block.scales[j] = static_cast<uint8_t>(l & 0xF);
        } else {
          block.scales[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
        }
        l = static_cast<int8_t>(l >> 4);
        block.scales[j % 4 + 8] |= static_cast<uint8_t>(l << (2 * (j / 4)));
      }
      block.d = f32_to_f16(1 / iscale);
    } else {
      block.d = f32_to_f16(0.0f);
    }

    // Re-round against the stored scales into -4..3, kept as 0..7.
    const float d_all = f16_to_f32(block.d);
    for (int j = 0; j < 16; ++j) {
      const int low = j < 8 ? (block.scales[j] & 0xF) : (block.scales[j - 8] >> 4);
      const int high = (block.scales[8 + j % 4] >> (2 * (j / 4))) & 3;
      const auto sc = static_cast<int8_t>((low | (high << 4)) - 32);
      const float d = d_all * sc;
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i) {
        const int l = nearest_int(x[16 * j + i] / d);
        L[16 * j + i] = static_cast<int8_t>(std::max(-4, std::min(3, l)) + 4);
      }
    }

    // The third bit: values 0..31 of each 32-value run set bit 0 of hmask[0..31],
    // the next 32 set bit 1, and so on.
    std::memset(block.hmask, 0, sizeof(block.hmask));
    for (int j = 0; j < kSuperBlock; ++j) {
      if (L[j] > 3) {
        block.hmask[j % 32] |= static_cast<uint8_t>(1 << (j / 32));
        L[j] = static_cast<int8_t>(L[j] - 4);
      }
    }

    uint8_t low_bits[kSuperBlock];
    for (int j = 0; j < kSuperBlock; ++j) low_bits[j] = static_cast<uint8_t>(L[j]);
    pack_2bit(low_bits, block.qs);
    store_block(block, y);
  }
}

void quantize_row_q4_k(const float* x, uint8_t* y, size_t n) {
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock, y += sizeof(BlockQ4_K)) {
    BlockQ4_K block;
    uint8_t L[kSuperBlock];
    fit_groups_of_32(x, block, L, 15, -1.0f, 0.1f, 20);

    // Byte l of each 32-byte run: value l in the low nibble, value l + 32 in the high one.
    for (int j = 0; j < kSuperBlock; j += 64) {
      for (int l = 0; l < 32; ++l) block.qs[j / 2 + l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
    }
    store_block(block, y);
  }
}

void quantize_row_q5_k(const float* x, uint8_t* y, size_t n) {
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock, y += sizeof(BlockQ5_K)) {
    BlockQ5_K block;
    uint8_t L[kSuperBlock];
    fit_groups_of_32(x, block, L, 31, -0.5f, 0.1f, 15);

    // Low nibbles as in Q4_K. The fifth bit of value l in 64-value run r goes
    // to bit 2r of qh[l], that of value l + 32 to bit 2r + 1.
    std::memset(block.qh, 0, sizeof(block.qh));
    for (int run = 0; run < 4; ++run) {
      const int base = 64 * run;
      for (int l = 0; l < 32; ++l) {
        int l1 = L[base + l];
        int l2 = L[base + l + 32];
        if (l1 > 15) {
          l1 -= 16;
          block.qh[l] |= static_cast<uint8_t>(1 << (2 * run));
        }
        if (l2 > 15) {
          l2 -= 16;
          block.qh[l] |= static_cast<uint8_t>(2 << (2 * run));
        }
        block.qs[32 * run + l] = static_cast<uint8_t>(l1 | (l2 << 4));
      }
    }
    store_block(block, y);
  }
}

void quantize_row_q6_k(const float* x, uint8_t* y, size_t n) {
  for (size_t b = 0; b < n / kSuperBlock; ++b, x += kSuperBlock, y += sizeof(BlockQ6_K)) {
    int8_t L[kSuperBlock];
    float scales[16];

    // Per-group signed scales fitted for quants in -32..31.
    float max_scale = 0.0f;
    float max_abs_scale = 0.0f;
    for (int j = 0; j < 16; ++j) {
      scales[j] = fit_symmetric_scale(16, 32, x + 16 * j, L + 16 * j, 1, nullptr);
      const float abs_scale = std::fabs(scales[j]);
      if (abs_scale > max_abs_scale) {
        max_abs_scale = abs_scale;
        max_scale = scales[j];
      }
    }

    BlockQ6_K block;
    if (max_abs_scale < 1e-15f) {
      // An all-zero super-block is stored as zero bytes.
      std::memset(&block, 0, sizeof(block));
      store_block(block, y);
      continue;
    }

    // 8-bit signed group scales; the largest maps to -128.
    const float iscale = -128.0f / max_scale;
    block.d = f32_to_f16(1 / iscale);
    for (int j = 0; j < 16; ++j) {
      block.scales[j] = static_cast<int8_t>(std::min(127, nearest_int(iscale * scales[j])));
    }

    // Re-round against the stored scales into -32..31, kept as 0..63.
    const float d_all = f16_to_f32(block.d);
    for (int j = 0; j < 16; ++j) {
      const float d = d_all * block.scales[j];
      if (d == 0.0f) continue;
      for (int i = 0; i < 16; ++i) {
        const int l = nearest_int(x[16 * j + i] / d);
        L[16 * j + i] = static_cast<int8_t>(std::max(-32, std::min(31, l)) + 32);
      }
    }

    // Per 128-value half, ql stores the low nibbles (values l and l + 64 share
    // a byte, as do l + 32 and l + 96) and qh the two high bits of all four.
    for (int half = 0; half < 2; ++half) {
      const int8_t* q = L + 128 * half;
      uint8_t* ql = block.ql + 64 * half;
      uint8_t* qh = block.qh + 32 * half;
      for (int l = 0; l < 32; ++l) {
        ql[l] = static_cast<uint8_t>((q[l] & 0xF) | ((q[l + 64] & 0xF) << 4));
        ql[l + 32] = static_cast<uint8_t>((q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4));
        qh[l] = static_cast<uint8_t>((q[l] >> 4) | ((q[l + 32] >> 4) << 2) | ((q[l + 64] >> 4) << 4) |
                                     ((q[l + 96] >> 4) << 6));
      }
    }
    store_block(block, y);
  }
}

}  // namespace edgelm::quant
