// Random weights: every supported type decodes to finite values of the
// requested size, and the bytes depend only on the seed.

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"
#include "synth/random_weights.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

struct ValueStats {
  bool all_finite = true;
  double mean = 0.0;
  double rms = 0.0;  // around 0, not around the mean
  float min = INFINITY;
  float max = -INFINITY;
};

ValueStats decode_stats(DType type, const std::vector<uint8_t>& data, size_t n) {
  std::vector<float> values(n);
  dequantize_row_ref(type, data.data(), values.data(), n);

  ValueStats stats;
  double sum = 0.0;
  double sum_squares = 0.0;
  for (float v : values) {
    if (!std::isfinite(v)) stats.all_finite = false;
    sum += v;
    sum_squares += static_cast<double>(v) * v;
    stats.min = std::min(stats.min, v);
    stats.max = std::max(stats.max, v);
  }
  stats.mean = sum / static_cast<double>(n);
  stats.rms = std::sqrt(sum_squares / static_cast<double>(n));
  return stats;
}

constexpr DType kAllTypes[] = {DType::F32,  DType::F16,  DType::BF16, DType::Q4_0, DType::Q4_1,
                               DType::Q5_0, DType::Q5_1, DType::Q8_0, DType::Q2_K, DType::Q3_K,
                               DType::Q4_K, DType::Q5_K, DType::Q6_K};

TEST(SynthRandomWeights, EveryTypeDecodesNearTargetRms) {
  ThreadPool pool(2);
  constexpr size_t kElements = 256 * 1024;
  for (DType type : kAllTypes) {
    std::vector<uint8_t> data;
    synth::fill_random_tensor(type, kElements, {0.0f, 0.02f}, 7, pool, data);
    ASSERT_EQ(data.size(), row_bytes(type, kElements)) << dtype_name(type);

    const ValueStats stats = decode_stats(type, data, kElements);
    EXPECT_TRUE(stats.all_finite) << dtype_name(type);
    EXPECT_NEAR(stats.rms, 0.02, 0.002) << dtype_name(type);
    // Q4_0 and Q5_0 have one more negative level than positive ones, so their mean is -d / 2.
    EXPECT_NEAR(stats.mean, 0.0, 0.003) << dtype_name(type);
    EXPECT_GT(stats.min, -0.1f) << dtype_name(type);
    EXPECT_LT(stats.max, 0.1f) << dtype_name(type);
  }
}

TEST(SynthRandomWeights, NormSpreadStaysNearOne) {
  ThreadPool pool(1);
  constexpr size_t kElements = 4096;
  std::vector<uint8_t> data;
  synth::fill_random_tensor(DType::F32, kElements, {1.0f, 0.05f}, 3, pool, data);

  const ValueStats stats = decode_stats(DType::F32, data, kElements);
  EXPECT_TRUE(stats.all_finite);
  EXPECT_NEAR(stats.mean, 1.0, 0.005);
  // At most 2 * sqrt(3) = 3.46 standard deviations from the center.
  EXPECT_GE(stats.min, 1.0f - 3.47f * 0.05f);
  EXPECT_LE(stats.max, 1.0f + 3.47f * 0.05f);
  EXPECT_LT(stats.min, 0.9f);
  EXPECT_GT(stats.max, 1.1f);
}

TEST(SynthRandomWeights, BytesIndependentOfThreadCount) {
  // Three full runs of 65536 elements and a partial one.
  constexpr size_t kElements = 3 * 65536 + 512;
  ThreadPool one(1);
  ThreadPool two(2);
  for (DType type : {DType::Q4_K, DType::Q8_0, DType::BF16}) {
    std::vector<uint8_t> single;
    std::vector<uint8_t> pair;
    synth::fill_random_tensor(type, kElements, {0.0f, 0.02f}, 11, one, single);
    synth::fill_random_tensor(type, kElements, {0.0f, 0.02f}, 11, two, pair);
    EXPECT_EQ(single, pair) << dtype_name(type);
  }
}

TEST(SynthRandomWeights, SeedChangesBytes) {
  ThreadPool pool(2);
  std::vector<uint8_t> first;
  std::vector<uint8_t> again;
  std::vector<uint8_t> other;
  synth::fill_random_tensor(DType::Q6_K, 1024, {0.0f, 0.02f}, 1, pool, first);
  synth::fill_random_tensor(DType::Q6_K, 1024, {0.0f, 0.02f}, 1, pool, again);
  synth::fill_random_tensor(DType::Q6_K, 1024, {0.0f, 0.02f}, 2, pool, other);
  EXPECT_EQ(first, again);
  EXPECT_NE(first, other);
}

TEST(SynthRandomWeights, StreamRepeatsForSameSeed) {
  synth::RandomStream a(42);
  synth::RandomStream b(42);
  synth::RandomStream c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    const uint64_t value = a.next();
    EXPECT_EQ(value, b.next());
    if (value != c.next()) differs = true;
  }
  EXPECT_TRUE(differs);
}

TEST(SynthRandomWeights, RejectsUnsupportedRequests) {
  ThreadPool pool(1);
  std::vector<uint8_t> data;
  try {
    synth::fill_random_tensor(DType::IQ4_NL, 256, {0.0f, 0.02f}, 1, pool, data);
    FAIL() << "IQ4_NL was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("f32, f16, bf16, q4_0"), std::string::npos) << error.what();
  }
  EXPECT_THROW(synth::fill_random_tensor(DType::Q8_0, 256, {1.0f, 0.02f}, 1, pool, data), Error);
  EXPECT_THROW(synth::fill_random_tensor(DType::Q4_K, 32, {0.0f, 0.02f}, 1, pool, data), Error);
}

}  // namespace
}  // namespace edgelm
