#include "tensor/reference.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"

namespace edgelm {
namespace {

float from_bits(uint32_t bits) { return std::bit_cast<float>(bits); }
uint32_t bits_of(float f) { return std::bit_cast<uint32_t>(f); }

bool is_half_nan(uint16_t h) { return (h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0; }

TEST(F16ToF32, KnownValues) {
  EXPECT_EQ(f16_to_f32(0x3c00), 1.0f);
  EXPECT_EQ(f16_to_f32(0xc000), -2.0f);
  EXPECT_EQ(f16_to_f32(0x3555), 0.333251953125f);
  EXPECT_EQ(f16_to_f32(0x7bff), 65504.0f);
  EXPECT_EQ(f16_to_f32(0x0400), std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(f16_to_f32(0x0000), 0.0f);
  EXPECT_EQ(bits_of(f16_to_f32(0x8000)), 0x80000000u);  // -0
}

TEST(F16ToF32, Subnormals) {
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f16_to_f32(0x0002), std::ldexp(1.0f, -23));
  EXPECT_EQ(f16_to_f32(0x03ff), std::ldexp(1023.0f, -24));
  EXPECT_EQ(f16_to_f32(0x8155), -std::ldexp(341.0f, -24));
  for (uint32_t m = 1; m < 0x400; ++m) {
    EXPECT_EQ(f16_to_f32(static_cast<uint16_t>(m)), std::ldexp(static_cast<float>(m), -24)) << m;
  }
}

TEST(F16ToF32, InfinityAndNaN) {
  EXPECT_EQ(f16_to_f32(0x7c00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(f16_to_f32(0xfc00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7e00)));
  EXPECT_TRUE(std::isnan(f16_to_f32(0x7c01)));  // signaling NaN stays NaN
  EXPECT_TRUE(std::isnan(f16_to_f32(0xfe00)));
  EXPECT_EQ(bits_of(f16_to_f32(0x7e00)), 0x7fc00000u);
}

TEST(F32ToF16, KnownValues) {
  EXPECT_EQ(f32_to_f16(1.0f), 0x3c00);
  EXPECT_EQ(f32_to_f16(-2.0f), 0xc000);
  EXPECT_EQ(f32_to_f16(65504.0f), 0x7bff);
  EXPECT_EQ(f32_to_f16(0.0f), 0x0000);
  EXPECT_EQ(f32_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(f32_to_f16(1.0f / 3.0f), 0x3555);
}

TEST(F32ToF16, RoundsToNearestEven) {
  // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: the even mantissa (1) wins.
  EXPECT_EQ(f32_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(f32_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(f32_to_f16(from_bits(bits_of(1.0f + std::ldexp(1.0f, -11)) + 1)), 0x3c01);
  // Rounding carries into the exponent.
  EXPECT_EQ(f32_to_f16(2.0f - std::ldexp(1.0f, -12)), 0x4000);
}

TEST(F32ToF16, OverflowToInfinity) {
  EXPECT_EQ(f32_to_f16(65519.0f), 0x7bff);  // below the halfway point 65520
  EXPECT_EQ(f32_to_f16(65520.0f), 0x7c00);  // halfway rounds to even, which is infinity
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);
  EXPECT_EQ(f32_to_f16(-1e6f), 0xfc00);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::infinity()), 0x7c00);
  EXPECT_EQ(f32_to_f16(-std::numeric_limits<float>::infinity()), 0xfc00);
}

TEST(F32ToF16, Subnormals) {
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -25)), 0x0000);  // halfway to 2^-24, rounds to even 0
  EXPECT_EQ(f32_to_f16(std::ldexp(1.5f, -25)), 0x0001);
  EXPECT_EQ(f32_to_f16(std::ldexp(3.0f, -25)), 0x0002);  // halfway between 1 and 2: even
  EXPECT_EQ(f32_to_f16(std::ldexp(5.0f, -25)), 0x0002);  // halfway between 2 and 3: even
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -30)), 0x0000);
  EXPECT_EQ(f32_to_f16(-std::ldexp(1.0f, -30)), 0x8000);
  EXPECT_EQ(f32_to_f16(std::numeric_limits<float>::denorm_min()), 0x0000);
  // Just below the smallest normal, halfway between 1023 * 2^-24 and 2^-14.
  EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -14) - std::ldexp(1.0f, -25)), 0x0400);
  EXPECT_EQ(f32_to_f16(std::ldexp(1023.0f, -24)), 0x03ff);
}

TEST(F32ToF16, NaNStaysNaN) {
  EXPECT_TRUE(is_half_nan(f32_to_f16(std::numeric_limits<float>::quiet_NaN())));
  EXPECT_TRUE(is_half_nan(f32_to_f16(from_bits(0x7f800001))));  // payload only in low bits
  EXPECT_TRUE(is_half_nan(f32_to_f16(from_bits(0xffc00000))));
  EXPECT_EQ(f32_to_f16(from_bits(0xffc00000)) & 0x8000, 0x8000);
}

TEST(F16, RoundTripEveryValue) {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const auto half = static_cast<uint16_t>(h);
    const uint16_t back = f32_to_f16(f16_to_f32(half));
    if (is_half_nan(half)) {
      EXPECT_TRUE(is_half_nan(back)) << std::hex << h;
    } else {
      EXPECT_EQ(back, half) << std::hex << h;
    }
  }
}

// The result is the nearest half, with ties going to the even mantissa.
TEST(F32ToF16, NearestOnRandomFloats) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<uint32_t> mantissa(0, 0x7fffff);
  std::uniform_int_distribution<uint32_t> exponent(127 - 27, 127 + 16);
  for (int i = 0; i < 200000; ++i) {
    const uint32_t sign = (i & 1) ? 0x80000000u : 0;
    const float f = from_bits(sign | (exponent(rng) << 23) | mantissa(rng));
    const uint16_t h = f32_to_f16(f);
    const double error = std::fabs(static_cast<double>(f16_to_f32(h)) - f);
    if ((h & 0x7fff) == 0x7c00) {
      EXPECT_GE(std::fabs(f), 65520.0f) << f;
      continue;
    }

    // Neighbours towards and away from zero.
    for (const int step : {-1, 1}) {
      const int magnitude = (h & 0x7fff) + step;
      if (magnitude < 0 || magnitude > 0x7bff) continue;
      const auto neighbour = static_cast<uint16_t>((h & 0x8000) | magnitude);
      const double other = std::fabs(static_cast<double>(f16_to_f32(neighbour)) - f);
      EXPECT_LE(error, other) << f;
      if (error == other) {
        EXPECT_EQ(h & 1, 0) << "tie not to even for " << f;
      }
    }
  }
}

TEST(BF16, KnownValues) {
  EXPECT_EQ(bf16_to_f32(0x3f80), 1.0f);
  EXPECT_EQ(bf16_to_f32(0xc0a0), -5.0f);
  EXPECT_EQ(bf16_to_f32(0x0001), from_bits(0x00010000));  // subnormal
  EXPECT_EQ(bf16_to_f32(0x7f80), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(bf16_to_f32(0x7fc0)));
  EXPECT_EQ(f32_to_bf16(1.0f), 0x3f80);
  EXPECT_EQ(f32_to_bf16(-5.0f), 0xc0a0);
  EXPECT_EQ(f32_to_bf16(from_bits(0x00010000)), 0x0001);
}

TEST(BF16, RoundsToNearestEven) {
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f808000)), 0x3f80);  // tie, even stays
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f818000)), 0x3f82);  // tie, odd rounds up
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f808001)), 0x3f81);
  EXPECT_EQ(f32_to_bf16(from_bits(0x3f807fff)), 0x3f80);
  EXPECT_EQ(f32_to_bf16(from_bits(0x00008000)), 0x0000);  // subnormal tie
  EXPECT_EQ(f32_to_bf16(from_bits(0x00018000)), 0x0002);
}

TEST(BF16, InfinityAndNaN) {
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::infinity()), 0x7f80);
  EXPECT_EQ(f32_to_bf16(-std::numeric_limits<float>::infinity()), 0xff80);
  EXPECT_EQ(f32_to_bf16(std::numeric_limits<float>::max()), 0x7f80);  // rounds up to infinity
  // A NaN whose payload sits in the low 16 bits must not become infinity.
  const uint16_t nan = f32_to_bf16(from_bits(0x7f800001));
  EXPECT_TRUE(std::isnan(bf16_to_f32(nan))) << std::hex << nan;
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(from_bits(0xffffffff)))));
}

TEST(BF16, RoundTripEveryValue) {
  for (uint32_t b = 0; b < 0x10000; ++b) {
    const auto value = static_cast<uint16_t>(b);
    const float f = bf16_to_f32(value);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(f)))) << std::hex << b;
    } else {
      EXPECT_EQ(f32_to_bf16(f), value) << std::hex << b;
    }
  }
}

// Builds one Q8_0 block from its fp16 scale and quants.
std::vector<uint8_t> q8_block(uint16_t scale, const std::vector<int8_t>& quants) {
  std::vector<uint8_t> block(34, 0);
  std::memcpy(block.data(), &scale, 2);
  std::memcpy(block.data() + 2, quants.data(), quants.size());
  return block;
}

TEST(Q8_0, QuantizeRamp) {
  // Values -16..15: amax 16, d = 16/127, q = round(x * 127/16).
  std::vector<float> x(32);
  for (size_t j = 0; j < 32; ++j) x[j] = static_cast<float>(j) - 16.0f;
  std::vector<uint8_t> block(34);
  quantize_row_q8_0_ref(x.data(), block.data(), 32);

  uint16_t scale;
  std::memcpy(&scale, block.data(), 2);
  EXPECT_EQ(scale, 0x3008);  // 16/127 = 0.12598... rounds to 0.1259765625
  const auto q = [&](size_t j) { return static_cast<int8_t>(block[2 + j]); };
  EXPECT_EQ(q(0), -127);  // -16
  EXPECT_EQ(q(15), -8);   // -1 * 7.9375
  EXPECT_EQ(q(16), 0);
  EXPECT_EQ(q(17), 8);
  EXPECT_EQ(q(18), 16);   // 15.875
  EXPECT_EQ(q(20), 32);   // 31.75
  EXPECT_EQ(q(31), 119);  // 119.0625
}

TEST(Q8_0, QuantizeRoundsHalfAwayFromZero) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // d = 1
  x[1] = 2.5f;
  x[2] = -2.5f;
  x[3] = 0.5f;
  x[4] = -0.5f;
  x[5] = 1.49f;
  x[6] = -126.5f;
  std::vector<uint8_t> block(34);
  quantize_row_q8_0_ref(x.data(), block.data(), 32);

  uint16_t scale;
  std::memcpy(&scale, block.data(), 2);
  EXPECT_EQ(scale, 0x3c00);
  const std::vector<int8_t> expected = {127, 3, -3, 1, -1, 1, -127};
  for (size_t j = 0; j < expected.size(); ++j) EXPECT_EQ(static_cast<int8_t>(block[2 + j]), expected[j]) << j;
  for (size_t j = expected.size(); j < 32; ++j) EXPECT_EQ(block[2 + j], 0) << j;
}

TEST(Q8_0, QuantizeZeroBlock) {
  std::vector<float> x(64, 0.0f);
  x[40] = -1.0f;  // second block only
  std::vector<uint8_t> row(68, 0xff);
  quantize_row_q8_0_ref(x.data(), row.data(), 64);
  for (size_t i = 0; i < 34; ++i) EXPECT_EQ(row[i], 0) << i;

  uint16_t scale;
  std::memcpy(&scale, row.data() + 34, 2);
  EXPECT_EQ(f16_to_f32(scale), f16_to_f32(f32_to_f16(1.0f / 127.0f)));
  EXPECT_EQ(static_cast<int8_t>(row[34 + 2 + 8]), -127);
}

TEST(Q8_0, Dequantize) {
  std::vector<int8_t> quants(32, 0);
  quants[0] = -128;
  quants[1] = 127;
  quants[2] = 3;
  quants[31] = -1;
  const std::vector<uint8_t> block = q8_block(0x3800, quants);  // d = 0.5
  std::vector<float> out(32);
  dequantize_row_ref(DType::Q8_0, block.data(), out.data(), 32);
  EXPECT_EQ(out[0], -64.0f);
  EXPECT_EQ(out[1], 63.5f);
  EXPECT_EQ(out[2], 1.5f);
  EXPECT_EQ(out[3], 0.0f);
  EXPECT_EQ(out[31], -0.5f);
}

TEST(Q8_0, QuantizeDequantizeError) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  std::vector<float> x(256);
  for (float& v : x) v = dist(rng);
  std::vector<uint8_t> row(8 * 34);
  quantize_row_q8_0_ref(x.data(), row.data(), x.size());
  std::vector<float> back(x.size());
  dequantize_row_ref(DType::Q8_0, row.data(), back.data(), x.size());

  // Each value is within half a quantization step (plus the fp16 scale error).
  for (size_t b = 0; b < 8; ++b) {
    float amax = 0.0f;
    for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[b * 32 + j]));
    for (size_t j = 0; j < 32; ++j) {
      EXPECT_NEAR(back[b * 32 + j], x[b * 32 + j], amax / 127.0f * 0.51f + amax * 1e-3f) << b * 32 + j;
    }
  }
}

TEST(DotRowRef, EachType) {
  const std::vector<float> x = {1.0f, -2.0f, 0.5f, 4.0f};

  const std::vector<float> w32 = {2.0f, 3.0f, -4.0f, 0.25f};
  EXPECT_EQ(dot_row_ref(DType::F32, reinterpret_cast<const uint8_t*>(w32.data()), x.data(), 4), -5.0);

  const std::vector<uint16_t> w16 = {0x4000, 0x4200, 0xc400, 0x3400};  // 2, 3, -4, 0.25
  EXPECT_EQ(dot_row_ref(DType::F16, reinterpret_cast<const uint8_t*>(w16.data()), x.data(), 4), -5.0);

  const std::vector<uint16_t> wb = {0x4000, 0x4040, 0xc080, 0x3e80};  // 2, 3, -4, 0.25
  EXPECT_EQ(dot_row_ref(DType::BF16, reinterpret_cast<const uint8_t*>(wb.data()), x.data(), 4), -5.0);

  std::vector<int8_t> quants(32, 0);
  quants[0] = 4;
  quants[1] = 6;
  quants[2] = -8;
  quants[3] = 1;
  const std::vector<uint8_t> block = q8_block(0x3800, quants);  // d = 0.5: 2, 3, -4, 0.5
  std::vector<float> x32(32, 100.0f);
  std::copy(x.begin(), x.end(), x32.begin());
  EXPECT_EQ(dot_row_ref(DType::Q8_0, block.data(), x32.data(), 32), -4.0);
}

TEST(DotRowRef, AccumulatesInDouble) {
  // 1e8 + 1 - 1e8 loses the 1 in float but not in double.
  const std::vector<float> w = {1e8f, 1.0f, -1e8f};
  const std::vector<float> x = {1.0f, 1.0f, 1.0f};
  EXPECT_EQ(dot_row_ref(DType::F32, reinterpret_cast<const uint8_t*>(w.data()), x.data(), 3), 1.0);
}

TEST(Reference, RejectsUnsupportedInput) {
  std::vector<uint8_t> row(64);
  std::vector<float> x(64), out(64);
  EXPECT_FALSE(dtype_supported(DType::IQ4_NL));
  EXPECT_FALSE(dtype_supported(DType::Q8_K));
  EXPECT_TRUE(dtype_supported(DType::BF16));
  EXPECT_TRUE(dtype_supported(DType::Q4_0));
  EXPECT_THROW(dot_row_ref(DType::IQ4_NL, row.data(), x.data(), 32), Error);
  EXPECT_THROW(dequantize_row_ref(DType::Q8_0, row.data(), out.data(), 33), Error);
  EXPECT_THROW(quantize_row_q8_0_ref(x.data(), row.data(), 40), Error);
}

}  // namespace
}  // namespace edgelm
