#include "eval/divergence.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace edgelm {
namespace {

TEST(Divergence, IdenticalDistributionsAreZero) {
  std::vector<float> logits = {1.0f, 2.0f, -3.0f, 0.5f};
  EXPECT_DOUBLE_EQ(kl_divergence(logits.data(), logits.data(), logits.size()), 0.0);
}

TEST(Divergence, ShiftedLogitsAreTheSameDistribution) {
  std::vector<float> a = {1.0f, 2.0f, -3.0f};
  std::vector<float> b = {11.0f, 12.0f, 7.0f};
  EXPECT_NEAR(kl_divergence(a.data(), b.data(), a.size()), 0.0, 1e-12);
}

TEST(Divergence, TwoPointDistributionMatchesFormula) {
  // P = (0.5, 0.5), Q = softmax(0, log 3) = (0.25, 0.75).
  std::vector<float> p = {0.0f, 0.0f};
  std::vector<float> q = {0.0f, static_cast<float>(std::log(3.0))};
  double expected = 0.5 * std::log(0.5 / 0.25) + 0.5 * std::log(0.5 / 0.75);
  EXPECT_NEAR(kl_divergence(p.data(), q.data(), 2), expected, 1e-7);
}

TEST(Divergence, StatsAverageAndTop1) {
  std::vector<float> base = {0.0f, 1.0f};
  std::vector<float> same = {0.0f, 1.0f};
  std::vector<float> flipped = {1.0f, 0.0f};
  DivergenceStats stats;
  stats.add(base.data(), same.data(), 2);
  stats.add(base.data(), flipped.data(), 2);
  EXPECT_EQ(stats.positions, 2u);
  EXPECT_DOUBLE_EQ(stats.same_top1_rate(), 0.5);
  EXPECT_NEAR(stats.mean_kl(), kl_divergence(base.data(), flipped.data(), 2) / 2, 1e-12);
}

}  // namespace
}  // namespace edgelm
