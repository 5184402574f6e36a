// Decoders from rows of ggml's 4-, 5- and 6-bit block types (Q4_0, Q4_1, Q5_0,
// Q5_1, Q2_K ... Q6_K) to float vectors, for the kernels of dot_kernels.cpp.
// Each Load does the float arithmetic of dequantize_block_ref in the same
// order, so the vectors are bit-identical to the scalar reference. Included
// once per Highway target.

// Per-target include guard.
#if defined(EDGELM_KERNELS_QUANT_ROWS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EDGELM_KERNELS_QUANT_ROWS_INL_H_
#undef EDGELM_KERNELS_QUANT_ROWS_INL_H_
#else
#define EDGELM_KERNELS_QUANT_ROWS_INL_H_
#endif

#include <cstring>

#include "hwy/highway.h"
#include "kernels/row_decoders-inl.h"
#include "tensor/quant_blocks.h"

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// A vector never straddles a group of 16 elements that share a scale.
static_assert(kMaxLanes <= 16, "quant decoders assume at most 16 float lanes");

using DI = hn::RebindToSigned<DF>;
using VI = hn::Vec<DI>;

// Bit k in lane k: lane k of TestBit(Set(di, bits), LaneBits()) is bit k of bits.
alignas(64) constexpr int32_t kLaneBits[16] = {1 << 0,  1 << 1,  1 << 2,  1 << 3,  1 << 4,  1 << 5,
                                               1 << 6,  1 << 7,  1 << 8,  1 << 9,  1 << 10, 1 << 11,
                                               1 << 12, 1 << 13, 1 << 14, 1 << 15};

HWY_INLINE VI LaneBits() { return hn::Load(DI(), kLaneBits); }

// Lanes(df) bytes from p, zero-extended to int32 lanes.
HWY_INLINE VI LoadBytes(const uint8_t* p) {
  const hn::Rebind<uint8_t, DF> du8;
  return hn::PromoteTo(DI(), hn::LoadU(du8, p));
}

// An fp16 field as float.
HWY_INLINE float HalfToFloat(const uint8_t* p) { return hn::GetLane(LoadScale(DF(), p)); }

// Lanes where bit `bit` of the byte is set, for lanes holding one byte each.
HWY_INLINE hn::Mask<DI> ByteBitSet(VI bytes, int bit) { return hn::TestBit(bytes, hn::Set(DI(), 1 << bit)); }

// The 4-bit quants of elements [o, o + Lanes) of a 32-element block: low
// nibbles of qs for the first 16 elements, high nibbles for the last 16.
HWY_INLINE VI Nibbles32(const uint8_t* qs, size_t o) {
  if (o < 16) return hn::And(LoadBytes(qs + o), hn::Set(DI(), 0xf));
  return hn::ShiftRight<4>(LoadBytes(qs + o - 16));
}

// Bit 4 of the quants of elements [o, o + Lanes) of a Q5_0 or Q5_1 block,
// stored as bit i of the little-endian uint32 qh.
HWY_INLINE VI HighBits32(const uint8_t* qh, size_t o) {
  uint32_t bits;
  std::memcpy(&bits, qh, sizeof(bits));
  const VI shifted = hn::Set(DI(), static_cast<int32_t>(bits >> o));
  return hn::IfThenElseZero(hn::TestBit(shifted, LaneBits()), hn::Set(DI(), 16));
}

// Position of element o < 256 of a K-quant super-block laid out as 2 halves of
// 128 elements, 4 bit-shifts s of 32 elements each, and offset l < 32.
struct SuperBlockIndex {
  size_t h, s, l, group;  // group: the 16-element scale group, 8 * h + 2 * s + l / 16

  explicit SuperBlockIndex(size_t o) : h(o / 128), s((o / 32) % 4), l(o % 32), group(8 * h + 2 * s + l / 16) {}
};

struct Q4_0Row : LoadFourVectors<Q4_0Row> {
  static constexpr size_t kBlockSize = quant::kBlock32;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kBlockSize) * quant::q4_0::kBytes;
    const VI q = Nibbles32(block + quant::q4_0::kQs, i % kBlockSize);
    const VF d = hn::Set(df, HalfToFloat(block + quant::q4_0::kD));
    return hn::Mul(hn::ConvertTo(df, hn::Sub(q, hn::Set(DI(), 8))), d);
  }
};

// d * q + m: the product is exact, so MulAdd rounds like the reference's mul and add.
struct Q4_1Row : LoadFourVectors<Q4_1Row> {
  static constexpr size_t kBlockSize = quant::kBlock32;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kBlockSize) * quant::q4_1::kBytes;
    const VI q = Nibbles32(block + quant::q4_1::kQs, i % kBlockSize);
    const VF d = hn::Set(df, HalfToFloat(block + quant::q4_1::kD));
    const VF m = hn::Set(df, HalfToFloat(block + quant::q4_1::kM));
    return hn::MulAdd(hn::ConvertTo(df, q), d, m);
  }
};

struct Q5_0Row : LoadFourVectors<Q5_0Row> {
  static constexpr size_t kBlockSize = quant::kBlock32;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kBlockSize) * quant::q5_0::kBytes;
    const size_t o = i % kBlockSize;
    const VI q = hn::Or(Nibbles32(block + quant::q5_0::kQs, o), HighBits32(block + quant::q5_0::kQh, o));
    const VF d = hn::Set(df, HalfToFloat(block + quant::q5_0::kD));
    return hn::Mul(hn::ConvertTo(df, hn::Sub(q, hn::Set(DI(), 16))), d);
  }
};

struct Q5_1Row : LoadFourVectors<Q5_1Row> {
  static constexpr size_t kBlockSize = quant::kBlock32;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kBlockSize) * quant::q5_1::kBytes;
    const size_t o = i % kBlockSize;
    const VI q = hn::Or(Nibbles32(block + quant::q5_1::kQs, o), HighBits32(block + quant::q5_1::kQh, o));
    const VF d = hn::Set(df, HalfToFloat(block + quant::q5_1::kD));
    const VF m = hn::Set(df, HalfToFloat(block + quant::q5_1::kM));
    return hn::MulAdd(hn::ConvertTo(df, q), d, m);
  }
};

// d * scale * q - dmin * min, with both products exact.
struct Q2_KRow : LoadFourVectors<Q2_KRow> {
  static constexpr size_t kBlockSize = quant::kSuperBlock;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kBlockSize) * quant::q2_k::kBytes;
    const SuperBlockIndex at(i % kBlockSize);
    const uint8_t packed = block[quant::q2_k::kScales + at.group];
    const float scale = HalfToFloat(block + quant::q2_k::kD) * static_cast<float>(packed & 0xf);
    const float min = HalfToFloat(block + quant::q2_k::kDmin) * static_cast<float>(packed >> 4);

    const VI bytes = LoadBytes(block + quant::q2_k::kQs + 32 * at.h + at.l);
    const VI q = hn::And(hn::ShiftRightSame(bytes, static_cast<int>(2 * at.s)), hn::Set(DI(), 3));
    return hn::MulSub(hn::ConvertTo(df, q), hn::Set(df, scale), hn::Set(df, min));
  }
};

struct Q3_KRow : LoadFourVectors<Q3_KRow> {
  static constexpr size_t kBlockSize = quant::kSuperBlock;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kBlockSize) * quant::q3_k::kBytes;
    const SuperBlockIndex at(i % kBlockSize);
    const int scale_bits = quant::q3_k_scale(block + quant::q3_k::kScales, at.group);
    const float scale = HalfToFloat(block + quant::q3_k::kD) * static_cast<float>(scale_bits);

    // Low two bits, minus 4 where the hmask bit is clear.
    const VI bytes = LoadBytes(block + quant::q3_k::kQs + 32 * at.h + at.l);
    const VI low = hn::And(hn::ShiftRightSame(bytes, static_cast<int>(2 * at.s)), hn::Set(DI(), 3));
    const VI hmask = LoadBytes(block + quant::q3_k::kHmask + at.l);
    const auto high_set = ByteBitSet(hmask, static_cast<int>(4 * at.h + at.s));
    const VI q = hn::IfThenElse(high_set, low, hn::Sub(low, hn::Set(DI(), 4)));
    return hn::Mul(hn::ConvertTo(df, q), hn::Set(df, scale));
  }
};

// Q4_K and Q5_K: element o = 64 * c + 32 * half + l of a super-block.
// kQh is 0 for Q4_K, which has no fifth bit.
template <size_t kBytes, size_t kQs, size_t kQh>
struct K4Row : LoadFourVectors<K4Row<kBytes, kQs, kQh>> {
  static constexpr size_t kBlockSize = quant::kSuperBlock;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kBlockSize) * kBytes;
    const size_t o = i % kBlockSize;
    const size_t c = o / 64, half = (o / 32) % 2, l = o % 32;

    uint8_t scale_bits, min_bits;
    quant::k4_scale_min(block + quant::q4_k::kScales, 2 * c + half, scale_bits, min_bits);
    const float scale = HalfToFloat(block + quant::q4_k::kD) * static_cast<float>(scale_bits);
    const float min = HalfToFloat(block + quant::q4_k::kDmin) * static_cast<float>(min_bits);

    const VI bytes = LoadBytes(block + kQs + 32 * c + l);
    VI q = half == 0 ? hn::And(bytes, hn::Set(DI(), 0xf)) : hn::ShiftRight<4>(bytes);
    if constexpr (kQh != 0) {
      const VI qh = LoadBytes(block + kQh + l);
      q = hn::Or(q, hn::IfThenElseZero(ByteBitSet(qh, static_cast<int>(2 * c + half)), hn::Set(DI(), 16)));
    }
    return hn::MulSub(hn::ConvertTo(df, q), hn::Set(df, scale), hn::Set(df, min));
  }
};

using Q4_KRow = K4Row<quant::q4_k::kBytes, quant::q4_k::kQs, 0>;
using Q5_KRow = K4Row<quant::q5_k::kBytes, quant::q5_k::kQs, quant::q5_k::kQh>;

// (d * scale) * (q - 32): the first product is exact, the second may round,
// in the reference's order.
struct Q6_KRow : LoadFourVectors<Q6_KRow> {
  static constexpr size_t kBlockSize = quant::kSuperBlock;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kBlockSize) * quant::q6_k::kBytes;
    const SuperBlockIndex at(i % kBlockSize);
    const auto scale_bits = static_cast<int8_t>(block[quant::q6_k::kScales + at.group]);
    const float scale = HalfToFloat(block + quant::q6_k::kD) * static_cast<float>(scale_bits);

    const VI low_bytes = LoadBytes(block + quant::q6_k::kQl + 64 * at.h + at.l + 32 * (at.s & 1));
    const VI low = at.s < 2 ? hn::And(low_bytes, hn::Set(DI(), 0xf)) : hn::ShiftRight<4>(low_bytes);
    const VI high_bytes = LoadBytes(block + quant::q6_k::kQh + 32 * at.h + at.l);
    const VI high = hn::And(hn::ShiftRightSame(high_bytes, static_cast<int>(2 * at.s)), hn::Set(DI(), 3));
    const VI q = hn::Sub(hn::Or(low, hn::ShiftLeft<4>(high)), hn::Set(DI(), 32));
    return hn::Mul(hn::ConvertTo(df, q), hn::Set(df, scale));
  }
};

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#endif  // EDGELM_KERNELS_QUANT_ROWS_INL_H_
