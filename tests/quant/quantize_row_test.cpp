// Quantizer behaviour that holds for any correct quantizer: round-trip error
// bounds per type, exact zeros, argument checks and ggml's rounding rule.

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "core/error.h"
#include "quant/block_decoders.h"
#include "quant/quant_math.h"
#include "quant/quantize.h"

namespace edgelm {
namespace {

struct RoundTrip {
  double relative_rmse;  // RMS error over RMS value
  double max_error;
};

RoundTrip round_trip(DType type, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_bytes(type, x.size()));
  quantize_row(type, x.data(), q.data(), x.size());
  const std::vector<float> y = testing::decode_row(type, q.data(), x.size());

  double sum_error2 = 0.0;
  double sum_x2 = 0.0;
  double max_error = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double e = static_cast<double>(y[i]) - x[i];
    sum_error2 += e * e;
    sum_x2 += static_cast<double>(x[i]) * x[i];
    max_error = std::max(max_error, std::fabs(e));
  }
  return {std::sqrt(sum_error2 / sum_x2), max_error};
}

std::vector<float> gaussian_row(size_t n, uint32_t seed, float sigma = 0.02f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, sigma);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

// Relative RMS error each type stays under on Gaussian weights. The bounds
// are about 1.3x what the quantizers reach (Q8_0 0.54%, Q2_K 30%), so a
// packing or scale mistake, which makes errors of order 100%, cannot pass.
struct TypeBound {
  DType type;
  double max_relative_rmse;
};
constexpr TypeBound kBounds[] = {
    {DType::Q8_0, 0.007}, {DType::Q6_K, 0.024}, {DType::Q5_1, 0.05}, {DType::Q5_0, 0.06}, {DType::Q5_K, 0.05},
    {DType::Q4_1, 0.1},   {DType::Q4_0, 0.12}, {DType::Q4_K, 0.1},  {DType::Q3_K, 0.2},  {DType::Q2_K, 0.4},
};

TEST(QuantizeRow, GaussianRoundTripWithinBound) {
  const std::vector<float> x = gaussian_row(4096, 1);
  for (const TypeBound& bound : kBounds) {
    const RoundTrip r = round_trip(bound.type, x);
    EXPECT_LT(r.relative_rmse, bound.max_relative_rmse) << dtype_name(bound.type);
  }
}

TEST(QuantizeRow, MoreBitsMeanLessError) {
  const std::vector<float> x = gaussian_row(4096, 2);
  const DType by_bits[] = {DType::Q2_K, DType::Q3_K, DType::Q4_K, DType::Q5_K, DType::Q6_K, DType::Q8_0};
  for (size_t i = 1; i < std::size(by_bits); ++i) {
    EXPECT_LT(round_trip(by_bits[i], x).relative_rmse, round_trip(by_bits[i - 1], x).relative_rmse)
        << dtype_name(by_bits[i]) << " vs " << dtype_name(by_bits[i - 1]);
  }
  EXPECT_LT(round_trip(DType::Q4_1, x).relative_rmse, round_trip(DType::Q4_0, x).relative_rmse * 1.05);
  EXPECT_LT(round_trip(DType::Q5_0, x).relative_rmse, round_trip(DType::Q4_0, x).relative_rmse);
}

TEST(QuantizeRow, Q8_0ErrorAtMostHalfStep) {
  // Each block's step is amax / 127; rounding errs by at most half a step
  // (plus the fp16 rounding of the scale, relative 2^-11).
  const std::vector<float> x = gaussian_row(1024, 3, 1.0f);
  std::vector<uint8_t> q(row_bytes(DType::Q8_0, x.size()));
  quantize_row(DType::Q8_0, x.data(), q.data(), x.size());
  const std::vector<float> y = testing::decode_row(DType::Q8_0, q.data(), x.size());
  for (size_t b = 0; b < x.size() / 32; ++b) {
    float amax = 0.0f;
    for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * b + j]));
    const float step = amax / 127.0f;
    for (size_t j = 0; j < 32; ++j) {
      EXPECT_LE(std::fabs(y[32 * b + j] - x[32 * b + j]), 0.5f * step + amax * 1e-3f) << "block " << b;
    }
  }
}

TEST(QuantizeRow, Q8_0MatchesTensorReference) {
  const std::vector<float> x = gaussian_row(512, 4);
  std::vector<uint8_t> ours(row_bytes(DType::Q8_0, x.size()));
  std::vector<uint8_t> reference(ours.size());
  quantize_row(DType::Q8_0, x.data(), ours.data(), x.size());
  quantize_row_q8_0_ref(x.data(), reference.data(), x.size());
  EXPECT_EQ(ours, reference);
}

TEST(QuantizeRow, DecodersAgreeWithReference) {
  // The test decoders and src/tensor's dequantizers are written apart; both must read the same values.
  const std::vector<float> x = gaussian_row(512, 8);
  for (DType type : quantizable_types()) {
    if (!dtype_supported(type)) continue;
    std::vector<uint8_t> q(row_bytes(type, x.size()));
    quantize_row(type, x.data(), q.data(), x.size());
    std::vector<float> reference(x.size());
    dequantize_row_ref(type, q.data(), reference.data(), x.size());
    const std::vector<float> decoded = testing::decode_row(type, q.data(), x.size());
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_FLOAT_EQ(decoded[i], reference[i]) << dtype_name(type) << " value " << i;
    }
  }
}

TEST(QuantizeRow, ZerosStayZero) {
  const std::vector<float> x(512, 0.0f);
  for (DType type : quantizable_types()) {
    std::vector<uint8_t> q(row_bytes(type, x.size()));
    quantize_row(type, x.data(), q.data(), x.size());
    for (float v : testing::decode_row(type, q.data(), x.size())) ASSERT_EQ(v, 0.0f) << dtype_name(type);
  }
}

TEST(QuantizeRow, HardBlocksStayBounded) {
  // Constant, one-sided, single-outlier rows, and values small enough that
  // the fp16 block scales are subnormal. (Below about 1e-6 the k-quants'
  // scales underflow fp16 altogether, in ggml as here.)
  std::vector<std::pair<std::string, std::vector<float>>> rows;
  rows.emplace_back("constant", std::vector<float>(256, 0.75f));
  rows.emplace_back("negative", std::vector<float>(256));
  rows.emplace_back("outlier", gaussian_row(256, 5, 0.001f));
  rows.emplace_back("small", gaussian_row(256, 6, 1e-4f));
  for (size_t i = 0; i < 256; ++i) rows[1].second[i] = -0.01f - 0.001f * static_cast<float>(i % 17);
  rows[2].second[100] = 5.0f;

  for (const auto& [name, x] : rows) {
    float amax = 0.0f;
    for (float v : x) amax = std::max(amax, std::fabs(v));
    for (DType type : quantizable_types()) {
      const RoundTrip r = round_trip(type, x);
      EXPECT_TRUE(std::isfinite(r.max_error)) << name << " " << dtype_name(type);
      EXPECT_LE(r.max_error, amax) << name << " " << dtype_name(type);
    }
  }
}

TEST(QuantizeRow, RejectsUnsupportedType) {
  const std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> out(4096);
  try {
    quantize_row(DType::IQ4_NL, x.data(), out.data(), x.size());
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q4_k"), std::string::npos) << "should list the supported types: " << e.what();
  }
  EXPECT_THROW(quantize_row(DType::F32, x.data(), out.data(), x.size()), Error);
}

TEST(QuantizeRow, RejectsPartialBlock) {
  const std::vector<float> x(300, 1.0f);
  std::vector<uint8_t> out(4096);
  EXPECT_THROW(quantize_row(DType::Q4_K, x.data(), out.data(), 288), Error);
  EXPECT_THROW(quantize_row(DType::Q8_0, x.data(), out.data(), 48), Error);
  EXPECT_NO_THROW(quantize_row(DType::Q8_0, x.data(), out.data(), 288));
}

TEST(QuantizeRow, NearestIntRoundsHalfToEven) {
  EXPECT_EQ(quant::nearest_int(0.5f), 0);
  EXPECT_EQ(quant::nearest_int(1.5f), 2);
  EXPECT_EQ(quant::nearest_int(2.5f), 2);
  EXPECT_EQ(quant::nearest_int(-0.5f), 0);
  EXPECT_EQ(quant::nearest_int(-1.5f), -2);
  EXPECT_EQ(quant::nearest_int(-2.49f), -2);
  EXPECT_EQ(quant::nearest_int(31.51f), 32);
  EXPECT_EQ(quant::nearest_int(-4194303.0f), -4194303);
}

}  // namespace
}  // namespace edgelm
