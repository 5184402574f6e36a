// Decoders from weight rows to float vectors for the kernels of dot_kernels.cpp:
// the float types (F32, F16, BF16) and Q8_0. Included once per Highway target.

// Per-target include guard.
#if defined(EDGELM_KERNELS_ROW_DECODERS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef EDGELM_KERNELS_ROW_DECODERS_INL_H_
#undef EDGELM_KERNELS_ROW_DECODERS_INL_H_
#else
#define EDGELM_KERNELS_ROW_DECODERS_INL_H_
#endif

#include <bit>
#include <cstring>

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// At most 32 lanes, so a Q8_0 block of 32 values holds a whole number of vectors.
using DF = hn::CappedTag<float, 32>;
using VF = hn::Vec<DF>;

constexpr size_t kAccumulators = 4;
constexpr size_t kMaxLanes = hn::MaxLanes(DF());
constexpr size_t kQ8Block = 32;
constexpr size_t kQ8BlockBytes = 34;  // fp16 scale + 32 int8 quants

// Exact fp16 to f32 for one Q8_0 scale.
HWY_INLINE float LoadHalf(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof(h));
  const uint32_t magnitude = h & 0x7fffu;
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;

  uint32_t bits;
  if (magnitude >= 0x7c00u) {
    bits = 0x7f800000u | ((magnitude & 0x3ffu) << 13);  // infinity, NaN
  } else if (magnitude >= 0x400u) {
    bits = (magnitude << 13) + (112u << 23);  // normal: rebias 15 -> 127
  } else {
    // Subnormal: mantissa * 2^-24, exact and normal in f32.
    bits = std::bit_cast<uint32_t>(static_cast<float>(magnitude) * 0x1p-24f);
  }
  return std::bit_cast<float>(bits | sign);
}

// A Q8_0 block's scale in every lane. F16C (AVX2 and AVX-512) converts it in
// one instruction; other targets use the integer conversion above.
HWY_INLINE VF LoadScale(DF df, const uint8_t* block) {
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  const hn::CappedTag<float, 1> d1;
  const hn::Rebind<hwy::float16_t, decltype(d1)> dh1;
  const hn::Rebind<uint16_t, decltype(d1)> du1;
  uint16_t h;
  std::memcpy(&h, block, sizeof(h));
  return hn::Set(df, hn::GetLane(hn::PromoteTo(d1, hn::BitCast(dh1, hn::Set(du1, h)))));
#else
  return hn::Set(df, LoadHalf(block));
#endif
}

// Exact fp16 to f32 for a vector, including subnormals, infinity and NaN.
// AVX2 and AVX-512 convert in hardware (F16C); Highway 1.0.3 emulates the
// conversion elsewhere without infinity and NaN, so those targets use integer ops.
HWY_INLINE VF LoadHalfVector(DF df, const uint16_t* p) {
  const hn::Rebind<uint16_t, DF> du16;
#if HWY_ARCH_X86 && HWY_TARGET <= HWY_AVX2
  const hn::Rebind<hwy::float16_t, DF> df16;
  return hn::PromoteTo(df, hn::BitCast(df16, hn::LoadU(du16, p)));
#else
  const hn::RebindToSigned<DF> di;
  const hn::RebindToUnsigned<DF> du;
  const auto bits = hn::BitCast(di, hn::PromoteTo(du, hn::LoadU(du16, p)));
  const auto sign = hn::ShiftLeft<16>(hn::And(bits, hn::Set(di, 0x8000)));
  const auto magnitude = hn::And(bits, hn::Set(di, 0x7fff));

  // Normal: rebias the exponent from 15 to 127; infinity and NaN once more to reach 255.
  const auto rebias = hn::Set(di, 112 << 23);
  auto normal = hn::Add(hn::ShiftLeft<13>(magnitude), rebias);
  normal = hn::IfThenElse(magnitude > hn::Set(di, 0x7bff), hn::Add(normal, rebias), normal);

  // Subnormal: mantissa * 2^-24.
  const auto subnormal = hn::BitCast(di, hn::Mul(hn::ConvertTo(df, magnitude), hn::Set(df, 0x1p-24f)));

  const auto result = hn::IfThenElse(magnitude < hn::Set(di, 0x400), subnormal, normal);
  return hn::BitCast(df, hn::Or(result, sign));
#endif
}

// Weight decoders: Load returns weights [i, i + Lanes) of a row as floats and
// Load4 the four vectors from i, a multiple of 4 * Lanes.
template <class Row>
struct LoadFourVectors {
  static HWY_INLINE void Load4(DF df, const uint8_t* row, size_t i, VF (&w)[kAccumulators]) {
    const size_t lanes = hn::Lanes(df);
    for (size_t j = 0; j < kAccumulators; ++j) w[j] = Row::Load(df, row, i + j * lanes);
  }
};

struct F32Row : LoadFourVectors<F32Row> {
  static constexpr size_t kBlockSize = 1;
  static constexpr size_t kElementBytes = 4;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    return hn::LoadU(df, reinterpret_cast<const float*>(row) + i);
  }
};

struct F16Row : LoadFourVectors<F16Row> {
  static constexpr size_t kBlockSize = 1;
  static constexpr size_t kElementBytes = 2;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    return LoadHalfVector(df, reinterpret_cast<const uint16_t*>(row) + i);
  }
};

// bfloat16 is the top half of a float32.
struct BF16Row : LoadFourVectors<BF16Row> {
  static constexpr size_t kBlockSize = 1;
  static constexpr size_t kElementBytes = 2;
  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const hn::Rebind<uint16_t, DF> du16;
    const hn::RebindToUnsigned<DF> du32;
    const auto bits = hn::PromoteTo(du32, hn::LoadU(du16, reinterpret_cast<const uint16_t*>(row) + i));
    return hn::BitCast(df, hn::ShiftLeft<16>(bits));
  }
};

// Q8_0: d * q. The product is exact in f32 (8-bit times 11-bit significands).
struct Q8Row {
  static constexpr size_t kBlockSize = kQ8Block;
  static HWY_INLINE VF Quants(DF df, const uint8_t* block, size_t offset) {
    const hn::Rebind<int8_t, DF> di8;
    const hn::Rebind<int32_t, DF> di32;
    const auto q = hn::LoadU(di8, reinterpret_cast<const int8_t*>(block + 2 + offset));
    return hn::ConvertTo(df, hn::PromoteTo(di32, q));
  }

  static HWY_INLINE VF Load(DF df, const uint8_t* row, size_t i) {
    const uint8_t* block = row + (i / kQ8Block) * kQ8BlockBytes;
    return hn::Mul(Quants(df, block, i % kQ8Block), LoadScale(df, block));
  }

  // Decodes each block's scale once: vectors that share a block share it.
  static HWY_INLINE void Load4(DF df, const uint8_t* row, size_t i, VF (&w)[kAccumulators]) {
    const size_t lanes = hn::Lanes(df);
    const size_t vectors_per_block = kQ8Block / lanes;
    VF scale = hn::Zero(df);
    for (size_t j = 0; j < kAccumulators; ++j) {
      const size_t e = i + j * lanes;
      const uint8_t* block = row + (e / kQ8Block) * kQ8BlockBytes;
      if (j % vectors_per_block == 0) scale = LoadScale(df, block);
      w[j] = hn::Mul(Quants(df, block, e % kQ8Block), scale);
    }
  }
};

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#endif  // EDGELM_KERNELS_ROW_DECODERS_INL_H_
