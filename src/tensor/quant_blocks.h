#pragma once
// Byte layouts of ggml's block-quantized weight types as GGUF files store them,
// and the scalar helpers that unpack their packed scales. Offsets are in bytes
// from the start of a block; fp16 fields are little-endian IEEE half.
//
// Element order inside a block follows ggml's dequantizers (ggml-quants.c):
// the comments give, for element i of the block, which bits hold its quant q
// and which scale applies.

#include <cstddef>
#include <cstdint>

namespace edgelm::quant {

// Elements per block of the 32-element types and of the K-quant super-blocks (QK_K).
constexpr size_t kBlock32 = 32;
constexpr size_t kSuperBlock = 256;

// Q4_0: value = d * (q - 8). q of element i < 16 is the low nibble of qs[i],
// of element i >= 16 the high nibble of qs[i - 16].
namespace q4_0 {
constexpr size_t kD = 0, kQs = 2, kBytes = 18;
}

// Q4_1: value = d * q + m, nibbles as in Q4_0.
namespace q4_1 {
constexpr size_t kD = 0, kM = 2, kQs = 4, kBytes = 20;
}

// Q5_0: value = d * (q - 16). The low four bits are the nibbles of Q4_0 and
// bit i of the little-endian uint32 qh is bit 4 of element i.
namespace q5_0 {
constexpr size_t kD = 0, kQh = 2, kQs = 6, kBytes = 22;
}

// Q5_1: value = d * q + m, bits as in Q5_0.
namespace q5_1 {
constexpr size_t kD = 0, kM = 2, kQh = 4, kQs = 8, kBytes = 24;
}

// Q8_0: value = d * q with int8 q.
namespace q8_0 {
constexpr size_t kD = 0, kQs = 2, kBytes = 34;
}

// Q2_K: 16 groups of 16 elements. Element i = 128 * h + 32 * s + l (h < 2,
// s < 4, l < 32) has q = (qs[32 * h + l] >> 2 * s) & 3 and group
// g = 8 * h + 2 * s + l / 16; scales[g] holds the group's 4-bit scale (low
// nibble) and 4-bit min (high nibble). value = d * scale * q - dmin * min.
namespace q2_k {
constexpr size_t kScales = 0, kQs = 16, kD = 80, kDmin = 82, kBytes = 84;
}

// Q3_K: element i = 128 * h + 32 * s + l has low bits (qs[32 * h + l] >> 2 * s) & 3;
// when bit 4 * h + s of hmask[l] is clear, 4 is subtracted, so q is in [-4, 3].
// Group g = 8 * h + 2 * s + l / 16 has a 6-bit scale (see q3_k_scale) stored
// with an offset of 32. value = d * (scale - 32) * q.
namespace q3_k {
constexpr size_t kHmask = 0, kQs = 32, kScales = 96, kD = 108, kBytes = 110;
}

// Q4_K: 8 groups of 32 elements. Element i = 64 * c + 32 * half + l has
// q = (qs[32 * c + l] >> 4 * half) & 15 in group g = 2 * c + half, whose 6-bit
// scale and min come from k4_scale_min. value = d * scale * q - dmin * min.
namespace q4_k {
constexpr size_t kD = 0, kDmin = 2, kScales = 4, kQs = 16, kBytes = 144;
}

// Q5_K: Q4_K plus a fifth bit: bit 2 * c + half of qh[l] is bit 4 of q.
namespace q5_k {
constexpr size_t kD = 0, kDmin = 2, kScales = 4, kQh = 16, kQs = 48, kBytes = 176;
}

// Q6_K: 16 groups of 16 elements with int8 scales. Element i = 128 * h + 32 * s + l
// has low bits from ql[64 * h + l + 32 * (s & 1)] (low nibble for s < 2, high
// nibble otherwise), bits 4-5 from (qh[32 * h + l] >> 2 * s) & 3, and group
// g = 8 * h + 2 * s + l / 16. value = d * scales[g] * (q - 32).
namespace q6_k {
constexpr size_t kQl = 0, kQh = 128, kScales = 192, kD = 208, kBytes = 210;
}

// Q8_K (activations only): float d, 256 int8 quants, 16 int16 sums of 16 quants.
namespace q8_k {
constexpr size_t kD = 0, kQs = 4, kBsums = 260, kBytes = 292;
}

// Unpacks the 6-bit scale and min of group g < 8 from the 12 scale bytes of
// Q4_K and Q5_K: groups 0-3 use the low 6 bits of bytes g and g + 4; groups 4-7
// take their low 4 bits from the nibbles of byte g + 4 and their top 2 bits
// from the top bits of bytes g - 4 (scale) and g (min).
inline void k4_scale_min(const uint8_t* scales, size_t g, uint8_t& scale, uint8_t& min) {
  if (g < 4) {
    scale = scales[g] & 63;
    min = scales[g + 4] & 63;
  } else {
    scale = static_cast<uint8_t>((scales[g + 4] & 0xf) | ((scales[g - 4] >> 6) << 4));
    min = static_cast<uint8_t>((scales[g + 4] >> 4) | ((scales[g] >> 6) << 4));
  }
}

// Returns the scale of Q3_K group g < 16 with its offset removed, in [-32, 31].
// The low 4 bits are the low nibble of byte g (g < 8) or the high nibble of
// byte g - 8; the top 2 bits are bits 2 * (g / 4) of byte 8 + g % 4.
inline int q3_k_scale(const uint8_t* scales, size_t g) {
  const int low = g < 8 ? (scales[g] & 0xf) : (scales[g - 8] >> 4);
  const int high = (scales[8 + g % 4] >> (2 * (g / 4))) & 3;
  return (low | (high << 4)) - 32;
}

}  // namespace edgelm::quant
