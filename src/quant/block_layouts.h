#pragma once
// Byte layouts of the quantized blocks, field for field as ggml stores them.
// Scales d, m, dmin are fp16 bit patterns; sizes are checked against the
// block sizes in tensor/dtype.

#include <cstdint>

namespace edgelm::quant {

// Elements per block of the 32-element formats and per super-block of the k-quants.
constexpr int kBlock32 = 32;
constexpr int kSuperBlock = 256;

// Value = d * (q - 8), q in 0..15. Element j sits in the low nibble of qs[j]
// and element j + 16 in the high nibble.
struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[kBlock32 / 2];
};

// Value = d * q + m, q in 0..15, nibbles as in Q4_0.
struct BlockQ4_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qs[kBlock32 / 2];
};

// Value = d * (q - 16), q in 0..31: low four bits as in Q4_0, bit 4 of
// element j in bit j of the little-endian 32-bit qh.
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];
  uint8_t qs[kBlock32 / 2];
};

// Value = d * q + m, q in 0..31, bits as in Q5_0.
struct BlockQ5_1 {
  uint16_t d;
  uint16_t m;
  uint8_t qh[4];
  uint8_t qs[kBlock32 / 2];
};

// Value = d * q, q a signed byte.
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kBlock32];
};

// 16 groups of 16. Group j: value = d * (scales[j] & 15) * q - dmin * (scales[j] >> 4),
// q in 0..3, four 2-bit values per byte.
struct BlockQ2_K {
  uint8_t scales[kSuperBlock / 16];
  uint8_t qs[kSuperBlock / 4];
  uint16_t d;
  uint16_t dmin;
};

// 16 groups of 16 with signed 6-bit scales (offset 32) packed in 12 bytes.
// Value = d * scale * (q - 4), q in 0..7: two low bits in qs, the third in hmask.
struct BlockQ3_K {
  uint8_t hmask[kSuperBlock / 8];
  uint8_t qs[kSuperBlock / 4];
  uint8_t scales[12];
  uint16_t d;
};

// 8 groups of 32 with 6-bit scales and mins packed in 12 bytes.
// Value = d * scale * q - dmin * min, q in 0..15.
struct BlockQ4_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qs[kSuperBlock / 2];
};

// As Q4_K with a fifth bit per value in qh, so q is in 0..31.
struct BlockQ5_K {
  uint16_t d;
  uint16_t dmin;
  uint8_t scales[12];
  uint8_t qh[kSuperBlock / 8];
  uint8_t qs[kSuperBlock / 2];
};

// 16 groups of 16 with signed 8-bit scales. Value = d * scales[j] * (q - 32),
// q in 0..63: four low bits in ql, two high bits in qh.
struct BlockQ6_K {
  uint8_t ql[kSuperBlock / 2];
  uint8_t qh[kSuperBlock / 4];
  int8_t scales[kSuperBlock / 16];
  uint16_t d;
};

static_assert(sizeof(BlockQ4_0) == 18);
static_assert(sizeof(BlockQ4_1) == 20);
static_assert(sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24);
static_assert(sizeof(BlockQ8_0) == 34);
static_assert(sizeof(BlockQ2_K) == 84);
static_assert(sizeof(BlockQ3_K) == 110);
static_assert(sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176);
static_assert(sizeof(BlockQ6_K) == 210);

}  // namespace edgelm::quant
