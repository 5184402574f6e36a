// Median and spread of repeated measurements.

#include "bench/sample_stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "core/error.h"

namespace edgelm {
namespace {

TEST(SampleStats, OddCountMedianIsMiddle) {
  const std::vector<double> samples = {5.0, 1.0, 3.0};
  const SampleStats stats = summarize_samples(samples);
  EXPECT_EQ(stats.median, 3.0);
  EXPECT_EQ(stats.min, 1.0);
  EXPECT_EQ(stats.max, 5.0);
  EXPECT_DOUBLE_EQ(stats.stddev, 2.0);  // mean 3, squares 4 + 0 + 4, divided by n - 1 = 2
}

TEST(SampleStats, EvenCountMedianIsMeanOfMiddle) {
  const std::vector<double> samples = {2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0};
  const SampleStats stats = summarize_samples(samples);
  EXPECT_EQ(stats.median, 4.5);
  EXPECT_EQ(stats.min, 2.0);
  EXPECT_EQ(stats.max, 9.0);
  // Mean 5, squared deviations sum to 32, over n - 1 = 7.
  EXPECT_DOUBLE_EQ(stats.stddev, std::sqrt(32.0 / 7.0));
}

TEST(SampleStats, OneSampleHasNoSpread) {
  const std::vector<double> samples = {12.5};
  const SampleStats stats = summarize_samples(samples);
  EXPECT_EQ(stats.median, 12.5);
  EXPECT_EQ(stats.min, 12.5);
  EXPECT_EQ(stats.max, 12.5);
  EXPECT_EQ(stats.stddev, 0.0);
}

TEST(SampleStats, NoSamplesThrows) { EXPECT_THROW(summarize_samples({}), Error); }

}  // namespace
}  // namespace edgelm
