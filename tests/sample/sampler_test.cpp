#include "sample/sampler.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "core/error.h"

namespace edgelm {
namespace {

SamplerConfig plain_config(float temperature, uint64_t seed = 42) {
  SamplerConfig config;
  config.temperature = temperature;
  config.top_k = 0;
  config.top_p = 1.0f;
  config.min_p = 0.0f;
  config.repeat_penalty = 1.0f;
  config.seed = seed;
  return config;
}

std::vector<float> random_logits(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(n);
  for (float& x : logits) x = normal(rng);
  return logits;
}

// Logits whose softmax at temperature 1 is `probs`.
std::vector<float> logits_for(const std::vector<double>& probs) {
  std::vector<float> logits;
  for (double p : probs) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

// How often each id is drawn in `n` samples.
std::map<int32_t, int> histogram(Sampler& sampler, const std::vector<float>& logits, int n) {
  std::map<int32_t, int> counts;
  for (int i = 0; i < n; ++i) counts[sampler.sample(logits.data(), logits.size(), {})]++;
  return counts;
}

TEST(Sampler, GreedyPicksArgmax) {
  Sampler sampler(plain_config(0.0f));
  const std::vector<float> logits = {0.1f, 3.0f, -2.0f, 2.9f};
  EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {}), 1);

  const std::vector<float> random = random_logits(5000, 7);
  const auto best = std::max_element(random.begin(), random.end()) - random.begin();
  EXPECT_EQ(sampler.sample(random.data(), random.size(), {}), best);
}

TEST(Sampler, GreedyTieGoesToLowestId) {
  Sampler sampler(plain_config(0.0f));
  const std::vector<float> logits = {1.0f, 5.0f, 2.0f, 5.0f, 5.0f};
  EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {}), 1);
}

TEST(Sampler, TopKOneIsGreedy) {
  for (float temperature : {0.1f, 0.8f, 1.5f, 10.0f}) {
    SamplerConfig config = plain_config(temperature, 123);
    config.top_k = 1;
    Sampler sampler(config);
    for (uint32_t row = 0; row < 20; ++row) {
      const std::vector<float> logits = random_logits(1000, row);
      const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
      EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {}), best) << "temperature " << temperature;
    }
  }
}

TEST(Sampler, SeedReproducible) {
  const std::vector<float> logits = random_logits(300, 3);
  SamplerConfig config;  // the defaults: top-k 40, top-p 0.95, min-p 0.05
  config.temperature = 1.5f;
  config.seed = 2024;

  Sampler first(config);
  Sampler second(config);
  config.seed = 2025;
  Sampler other(config);

  std::vector<int32_t> a, b, c;
  for (int i = 0; i < 200; ++i) {
    a.push_back(first.sample(logits.data(), logits.size(), a));
    b.push_back(second.sample(logits.data(), logits.size(), b));
    c.push_back(other.sample(logits.data(), logits.size(), c));
  }
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(first.seed(), 2024u);
}

TEST(Sampler, RandomSeedIsRecorded) {
  Sampler sampler(plain_config(1.0f, 0xFFFFFFFFu));
  const uint64_t seed = sampler.seed();
  EXPECT_NE(seed, 0xFFFFFFFFu);

  // The recorded seed replays the same draws.
  Sampler replay(plain_config(1.0f, seed));
  const std::vector<float> logits = random_logits(50, 9);
  for (int i = 0; i < 50; ++i) {
    EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {}), replay.sample(logits.data(), logits.size(), {}));
  }
}

TEST(Sampler, DrawsFollowSoftmax) {
  Sampler sampler(plain_config(1.0f, 5));
  const auto counts = histogram(sampler, logits_for({0.5, 0.3, 0.2}), 20000);
  EXPECT_NEAR(counts.at(0) / 20000.0, 0.5, 0.02);
  EXPECT_NEAR(counts.at(1) / 20000.0, 0.3, 0.02);
  EXPECT_NEAR(counts.at(2) / 20000.0, 0.2, 0.02);
}

TEST(Sampler, TemperatureFlattens) {
  // At temperature 2 the probabilities become proportional to sqrt(p).
  Sampler sampler(plain_config(2.0f, 6));
  const auto counts = histogram(sampler, logits_for({0.8, 0.2}), 20000);
  EXPECT_NEAR(counts.at(1) / 20000.0, std::sqrt(0.2) / (std::sqrt(0.8) + std::sqrt(0.2)), 0.02);
}

TEST(Sampler, TopPExcludesTail) {
  SamplerConfig config = plain_config(1.0f, 11);
  config.top_p = 0.75f;
  Sampler sampler(config);
  // 0.5 + 0.3 passes 0.75, so ids 2 and 3 are never drawn.
  const auto counts = histogram(sampler, logits_for({0.5, 0.3, 0.15, 0.05}), 20000);
  EXPECT_EQ(counts.count(2), 0u);
  EXPECT_EQ(counts.count(3), 0u);
  EXPECT_NEAR(counts.at(0) / 20000.0, 0.5 / 0.8, 0.02);
}

TEST(Sampler, TopPKeepsCrossingToken) {
  SamplerConfig config = plain_config(1.0f, 12);
  config.top_p = 0.6f;
  Sampler sampler(config);
  // 0.5 alone is below 0.6, so id 1 (which crosses it) stays and id 2 goes.
  const auto counts = histogram(sampler, logits_for({0.5, 0.3, 0.2}), 10000);
  EXPECT_GT(counts.count(1), 0u);
  EXPECT_EQ(counts.count(2), 0u);
}

TEST(Sampler, MinPExcludesUnlikely) {
  SamplerConfig config = plain_config(1.0f, 13);
  config.min_p = 0.2f;
  Sampler sampler(config);
  // The threshold is 0.2 * 0.5 = 0.1: id 3 (0.05) goes, id 2 (0.15) stays.
  const auto counts = histogram(sampler, logits_for({0.5, 0.3, 0.15, 0.05}), 20000);
  EXPECT_EQ(counts.count(3), 0u);
  EXPECT_NEAR(counts.at(2) / 20000.0, 0.15 / 0.95, 0.02);
}

TEST(Sampler, TopKExcludesRest) {
  SamplerConfig config = plain_config(5.0f, 14);
  config.top_k = 2;
  Sampler sampler(config);
  const auto counts = histogram(sampler, {1.0f, 3.0f, 2.0f, 0.5f}, 5000);
  EXPECT_EQ(counts.size(), 2u);
  EXPECT_GT(counts.at(1), 0);
  EXPECT_GT(counts.at(2), 0);
}

TEST(Sampler, PenaltyChangesArgmax) {
  SamplerConfig config = plain_config(0.0f);
  config.repeat_penalty = 1.1f;
  Sampler sampler(config);

  // A positive logit is divided: 2.0 / 1.1 < 1.9.
  const std::vector<float> positive = {2.0f, 1.9f, -1.0f};
  EXPECT_EQ(sampler.sample(positive.data(), positive.size(), {}), 0);
  EXPECT_EQ(sampler.sample(positive.data(), positive.size(), {0}), 1);

  // A negative logit is multiplied: -1.0 * 1.1 < -1.05.
  const std::vector<float> negative = {-1.0f, -1.05f, -3.0f};
  EXPECT_EQ(sampler.sample(negative.data(), negative.size(), {0, 0, 0}), 1);
}

TEST(Sampler, PenaltyWindow) {
  SamplerConfig config = plain_config(0.0f);
  config.repeat_penalty = 1.1f;
  config.repeat_last_n = 2;
  Sampler sampler(config);
  const std::vector<float> logits = {2.0f, 1.9f, -1.0f};
  // Token 0 is three steps back, outside the window of two.
  EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {0, 2, 2}), 0);
  EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {2, 0, 2}), 1);
}

TEST(Sampler, PresencePenaltyCountsOnce) {
  SamplerConfig config = plain_config(0.0f);
  config.presence_penalty = 0.5f;
  Sampler sampler(config);
  // 3.0 - 0.5 = 2.5 < 2.6.
  const std::vector<float> logits = {3.0f, 2.6f, 2.4f};
  EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {}), 0);
  EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {0}), 1);
  // Three occurrences still cost 0.5: 2.5 beats 2.4 and 2.6 - 0.5.
  EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {0, 0, 0, 1}), 0);
}

TEST(Sampler, FrequencyPenaltyCountsEachOccurrence) {
  SamplerConfig config = plain_config(0.0f);
  config.frequency_penalty = 0.3f;
  Sampler sampler(config);
  // One occurrence: 3.0 - 0.3 = 2.7 > 2.6; two: 2.4 < 2.6.
  const std::vector<float> logits = {3.0f, 2.6f, -1.0f};
  EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {0}), 0);
  EXPECT_EQ(sampler.sample(logits.data(), logits.size(), {0, 0}), 1);
  // A negative penalty favours repeats, as OpenAI allows.
  config.frequency_penalty = -1.0f;
  Sampler favouring(config);
  EXPECT_EQ(favouring.sample(logits.data(), logits.size(), {2, 2, 2, 2, 2}), 2);
}

TEST(Sampler, NanAndInfinityAreSafe) {
  Sampler sampler(plain_config(1.0f));
  const std::vector<float> with_nan = {NAN, 1.0f, NAN};
  EXPECT_EQ(sampler.sample(with_nan.data(), with_nan.size(), {}), 1);
  const std::vector<float> all_masked = {-INFINITY, -INFINITY};
  EXPECT_EQ(sampler.sample(all_masked.data(), all_masked.size(), {}), 0);
}

TEST(Sampler, InvalidConfig) {
  SamplerConfig config;
  config.top_k = -1;
  EXPECT_THROW(Sampler{config}, Error);
  config = SamplerConfig{};
  config.repeat_penalty = 0.0f;
  EXPECT_THROW(Sampler{config}, Error);
  Sampler sampler(SamplerConfig{});
  EXPECT_THROW(sampler.sample(nullptr, 0, {}), Error);
}

}  // namespace
}  // namespace edgelm
