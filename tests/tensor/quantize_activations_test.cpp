#include "tensor/quantize_activations.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/error.h"
#include "tensor/quant_blocks.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

int8_t quant_at(const std::vector<uint8_t>& row, size_t offset) { return static_cast<int8_t>(row[offset]); }

int16_t bsum_at(const std::vector<uint8_t>& row, size_t group) {
  int16_t sum;
  std::memcpy(&sum, row.data() + quant::q8_k::kBsums + 2 * group, sizeof(sum));
  return sum;
}

float q8_k_scale(const std::vector<uint8_t>& row, size_t block) {
  float d;
  std::memcpy(&d, row.data() + block * quant::q8_k::kBytes + quant::q8_k::kD, sizeof(d));
  return d;
}

TEST(QuantizeActivations, Q8_KRoundsToNearestEven) {
  // amax 127 gives the scale 1, so each quant is x rounded.
  std::vector<float> x(256, 0.0f);
  x[0] = 127.0f;
  x[1] = 2.5f;
  x[2] = 3.5f;
  x[3] = -2.5f;
  x[4] = 0.49f;
  x[5] = -126.6f;
  x[17] = 5.0f;
  std::vector<uint8_t> row(quant::q8_k::kBytes);
  quantize_activations_ref(DType::Q8_K, x.data(), row.data(), 256);

  EXPECT_EQ(q8_k_scale(row, 0), 1.0f);
  const int8_t expected[] = {127, 2, 4, -2, 0, -127};
  for (size_t j = 0; j < std::size(expected); ++j) EXPECT_EQ(quant_at(row, quant::q8_k::kQs + j), expected[j]) << j;
  EXPECT_EQ(quant_at(row, quant::q8_k::kQs + 17), 5);

  // Sums of each run of 16 quants.
  EXPECT_EQ(bsum_at(row, 0), 127 + 2 + 4 - 2 + 0 - 127);
  EXPECT_EQ(bsum_at(row, 1), 5);
  for (size_t group = 2; group < 16; ++group) EXPECT_EQ(bsum_at(row, group), 0) << group;
}

TEST(QuantizeActivations, Q8_KScaleFromLargestMagnitude) {
  std::vector<float> x(512);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i)) * (i < 256 ? 0.5f : 3.0f);
  x[300] = -4.0f;
  std::vector<uint8_t> row(2 * quant::q8_k::kBytes);
  quantize_activations_ref(DType::Q8_K, x.data(), row.data(), x.size());

  EXPECT_EQ(q8_k_scale(row, 1), 4.0f / 127.0f);
  EXPECT_EQ(quant_at(row, quant::q8_k::kBytes + quant::q8_k::kQs + 44), -127);

  std::vector<float> back(x.size());
  dequantize_row_q8_k_ref(row.data(), back.data(), x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const float step = q8_k_scale(row, i / 256);
    EXPECT_NEAR(back[i], x[i], 0.5f * step * 1.001f) << i;
  }
}

TEST(QuantizeActivations, ZeroAndNaNBlocks) {
  std::vector<float> x(256, 0.0f);
  x[3] = std::numeric_limits<float>::quiet_NaN();
  std::vector<uint8_t> row(quant::q8_k::kBytes, 0xee);
  quantize_activations_ref(DType::Q8_K, x.data(), row.data(), 256);
  EXPECT_EQ(q8_k_scale(row, 0), 0.0f);
  for (size_t j = 0; j < 256; ++j) EXPECT_EQ(quant_at(row, quant::q8_k::kQs + j), 0) << j;
  EXPECT_EQ(bsum_at(row, 0), 0);

  // A NaN next to finite values is quant 0 and leaves the scale alone.
  x[4] = -2.0f;
  quantize_activations_ref(DType::Q8_K, x.data(), row.data(), 256);
  EXPECT_EQ(q8_k_scale(row, 0), 2.0f / 127.0f);
  EXPECT_EQ(quant_at(row, quant::q8_k::kQs + 3), 0);
  EXPECT_EQ(quant_at(row, quant::q8_k::kQs + 4), -127);
}

TEST(QuantizeActivations, Q8_0Layout) {
  std::vector<float> x(64, 0.25f);
  x[40] = -8.0f;
  std::vector<uint8_t> row(2 * quant::q8_0::kBytes);
  quantize_activations_ref(DType::Q8_0, x.data(), row.data(), 64);

  uint16_t d0, d1;
  std::memcpy(&d0, row.data(), 2);
  std::memcpy(&d1, row.data() + quant::q8_0::kBytes, 2);
  EXPECT_EQ(d0, f32_to_f16(0.25f / 127.0f));
  EXPECT_EQ(d1, f32_to_f16(8.0f / 127.0f));
  EXPECT_EQ(quant_at(row, quant::q8_0::kQs), 127);
  EXPECT_EQ(quant_at(row, quant::q8_0::kBytes + quant::q8_0::kQs + 8), -127);
  EXPECT_EQ(quant_at(row, quant::q8_0::kBytes + quant::q8_0::kQs), 4);  // 0.25 * 127 / 8 = 3.97
}

TEST(QuantizeActivations, RejectsBadInput) {
  std::vector<float> x(256);
  std::vector<uint8_t> row(2 * quant::q8_k::kBytes);
  EXPECT_THROW(quantize_activations_ref(DType::Q8_K, x.data(), row.data(), 128), Error);
  EXPECT_THROW(quantize_activations_ref(DType::Q8_0, x.data(), row.data(), 40), Error);
  EXPECT_THROW(quantize_activations_ref(DType::Q4_K, x.data(), row.data(), 256), Error);
  EXPECT_THROW(dequantize_row_q8_k_ref(row.data(), x.data(), 100), Error);
}

}  // namespace
}  // namespace edgelm
