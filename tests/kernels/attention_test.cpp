// Tests of the single-pass attention kernel against a two-pass reference in
// double precision (scores, cap, softmax, weighted sum).

#include "kernels/attention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "core/error.h"
#include "isa_fixture.h"

namespace edgelm {
namespace {

constexpr float kCap = 50.0f;  // Gemma 2's attention soft-cap

// What the scores q·k * scale of a test look like.
enum class Scores {
  kRandom,   // small, from random vectors
  kRising,   // from -20 up to 80 in key order, so the running max moves at every key
  kNearCap,  // random in [45, 150]: capped, they crowd just below 50
};
// Uncapped scores much above 100 would test float32 itself: rounding a score
// of 300 to float moves its weight by up to 1.5e-5 in any float32 engine.

const char* scores_name(Scores scores) {
  switch (scores) {
    case Scores::kRandom:
      return "random";
    case Scores::kRising:
      return "rising";
    case Scores::kNearCap:
      return "near-cap";
  }
  return "?";
}

// One query head and its keys and values in key order, without layout.
struct Head {
  size_t head_dim = 0;
  size_t value_dim = 0;
  size_t n_keys = 0;
  std::vector<float> query;   // [head_dim]
  std::vector<float> keys;    // [n_keys, head_dim]
  std::vector<float> values;  // [n_keys, value_dim], in [-1, 1]
};

double dot_double(const float* a, const float* b, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

// Random vectors. For the patterns with target scores, each key is a random
// vector moved along the query until its score is the target.
Head make_head(size_t head_dim, size_t value_dim, size_t n_keys, Scores scores, float scale, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  Head head{head_dim, value_dim, n_keys, {}, {}, {}};
  head.query.resize(head_dim);
  head.keys.resize(n_keys * head_dim);
  head.values.resize(n_keys * value_dim);
  for (float& x : head.query) x = unit(rng);
  for (float& x : head.keys) x = unit(rng);
  for (float& x : head.values) x = unit(rng);
  if (scores == Scores::kRandom) return head;

  std::uniform_real_distribution<double> near_cap(45.0, 150.0);
  const double query_norm2 = dot_double(head.query.data(), head.query.data(), head_dim);
  for (size_t j = 0; j < n_keys; ++j) {
    double target = scores == Scores::kRising ? -20.0 + 100.0 * static_cast<double>(j) / std::max<size_t>(1, n_keys - 1)
                                              : near_cap(rng);
    float* key = head.keys.data() + j * head_dim;
    const double shift = (target / scale - dot_double(head.query.data(), key, head_dim)) / query_norm2;
    for (size_t i = 0; i < head_dim; ++i) key[i] = static_cast<float>(key[i] + shift * head.query[i]);
  }
  return head;
}

// The two-pass definition: all scores, the cap, softmax, then the weighted sum.
std::vector<double> reference(const Head& head, float scale, float cap) {
  std::vector<double> scores(head.n_keys);
  for (size_t j = 0; j < head.n_keys; ++j) {
    double s = dot_double(head.query.data(), head.keys.data() + j * head.head_dim, head.head_dim) * scale;
    if (cap > 0.0f) s = cap * std::tanh(s / cap);
    scores[j] = s;
  }

  const double max_score = *std::max_element(scores.begin(), scores.end());
  double sum = 0.0;
  for (double& s : scores) {
    s = std::exp(s - max_score);
    sum += s;
  }

  std::vector<double> out(head.value_dim, 0.0);
  for (size_t j = 0; j < head.n_keys; ++j) {
    for (size_t i = 0; i < head.value_dim; ++i) out[i] += scores[j] / sum * head.values[j * head.value_dim + i];
  }
  return out;
}

// The keys and values cut into `n_pieces` runs (some may be empty) stored in
// reverse order, as a wrapped ring stores them. Vectors are 3 floats further
// apart than their length and the gaps hold NaN, so a read past a vector
// makes the output NaN.
struct Layout {
  std::vector<float> key_memory;
  std::vector<float> value_memory;
  std::vector<KeyValueRun> runs;
};

Layout lay_out(const Head& head, size_t n_pieces) {
  const size_t key_stride = head.head_dim + 3;
  const size_t value_stride = head.value_dim + 3;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Layout layout;
  layout.key_memory.assign(head.n_keys * key_stride, nan);
  layout.value_memory.assign(head.n_keys * value_stride, nan);

  // Piece r contains keys [cut[r], cut[r + 1]). The last piece goes first in memory.
  std::vector<size_t> cut(n_pieces + 1);
  for (size_t r = 0; r <= n_pieces; ++r) cut[r] = head.n_keys * r / n_pieces;
  size_t slot = 0;
  std::vector<KeyValueRun> reversed;
  for (size_t r = n_pieces; r-- > 0;) {
    const size_t count = cut[r + 1] - cut[r];
    for (size_t i = 0; i < count; ++i) {
      const size_t j = cut[r] + i;
      std::memcpy(layout.key_memory.data() + (slot + i) * key_stride, head.keys.data() + j * head.head_dim,
                  head.head_dim * sizeof(float));
      std::memcpy(layout.value_memory.data() + (slot + i) * value_stride, head.values.data() + j * head.value_dim,
                  head.value_dim * sizeof(float));
    }
    reversed.push_back(KeyValueRun{layout.key_memory.data() + slot * key_stride,
                                   layout.value_memory.data() + slot * value_stride, key_stride, value_stride, count});
    slot += count;
  }
  layout.runs.assign(reversed.rbegin(), reversed.rend());
  return layout;
}

std::vector<float> attend(const Head& head, size_t n_pieces, float scale, float cap) {
  const Layout layout = lay_out(head, n_pieces);
  std::vector<float> out(head.value_dim);
  attend_head(head.query.data(), head.head_dim, layout.runs, head.value_dim, scale, cap, out.data());
  return out;
}

double max_error(const std::vector<float>& out, const std::vector<double>& expected) {
  double error = 0.0;
  for (size_t i = 0; i < out.size(); ++i) {
    // NaN compares false, so it must be turned into an infinite error.
    const double diff = std::fabs(out[i] - expected[i]);
    error = std::isnan(diff) ? std::numeric_limits<double>::infinity() : std::max(error, diff);
  }
  return error;
}

class Attention : public testing::IsaTest {};

// The output is a convex combination of values in [-1, 1], so an error of
// 1e-5 is 1e-5 of the output's range.
TEST_P(Attention, MatchesDoubleReference) {
  uint32_t seed = 1;
  for (size_t head_dim : {64, 128, 256}) {
    const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
    for (size_t n_keys : {1, 2, 7, 33, 1000, 5000}) {
      for (Scores scores : {Scores::kRandom, Scores::kRising, Scores::kNearCap}) {
        const Head head = make_head(head_dim, head_dim, n_keys, scores, scale, seed++);
        for (float cap : {0.0f, kCap}) {
          const size_t n_pieces = 1 + seed % 3;
          SCOPED_TRACE(::testing::Message() << "head_dim " << head_dim << ", " << n_keys << " keys, "
                                            << scores_name(scores) << " scores, cap " << cap << ", " << n_pieces
                                            << " runs");
          EXPECT_LE(max_error(attend(head, n_pieces, scale, cap), reference(head, scale, cap)), 1e-5);
        }
      }
    }
  }
}

// Head and value sizes that are not whole vectors, and differ from each other.
TEST_P(Attention, OddSizesMatchDoubleReference) {
  uint32_t seed = 100;
  for (size_t head_dim : {1, 3, 13, 40}) {
    for (size_t value_dim : {1, 5, 21, 72, 200}) {
      for (size_t n_keys : {1, 17, 100}) {
        const Head head = make_head(head_dim, value_dim, n_keys, Scores::kRising, 0.5f, seed++);
        SCOPED_TRACE(::testing::Message() << "head_dim " << head_dim << ", value_dim " << value_dim << ", "
                                          << n_keys << " keys");
        EXPECT_LE(max_error(attend(head, 2, 0.5f, kCap), reference(head, 0.5f, kCap)), 1e-5);
      }
    }
  }
}

// Tiles count from the first key, so cutting the keys into runs anywhere,
// down to one run per key, changes no bit of the output.
TEST_P(Attention, RunsDoNotChangeTheResult) {
  const Head head = make_head(64, 64, 1000, Scores::kRising, 0.125f, 7);
  const std::vector<float> whole = attend(head, 1, 0.125f, kCap);
  for (size_t n_pieces : {2, 3, 7, 1000}) {
    const std::vector<float> cut = attend(head, n_pieces, 0.125f, kCap);
    EXPECT_EQ(0, std::memcmp(whole.data(), cut.data(), whole.size() * sizeof(float))) << n_pieces << " runs";
  }
}

// Scores of 500 and more all cap to 50, so the weights are equal and the
// output is the mean of the values. Capping after the max, or not at all,
// would put nearly all the weight on the largest score.
TEST_P(Attention, CapSaturatesLargeScores) {
  const size_t n_keys = 40;
  Head head{1, n_keys, n_keys, {1.0f}, {}, {}};
  for (size_t j = 0; j < n_keys; ++j) head.keys.push_back(500.0f + 100.0f * static_cast<float>(j));
  head.values.assign(n_keys * n_keys, 0.0f);
  for (size_t j = 0; j < n_keys; ++j) head.values[j * n_keys + j] = 1.0f;  // value j is unit vector j

  const std::vector<float> out = attend(head, 3, 1.0f, kCap);
  for (size_t i = 0; i < n_keys; ++i) EXPECT_NEAR(out[i], 1.0 / n_keys, 1e-6) << i;
}

// Scores 100 and 1000 cap to 48.2 and 50, so the second key gets weight
// 1 / (1 + exp(48.2 - 50)) = 0.858 instead of 1.
TEST_P(Attention, CapSetsWeightsOfTwoKeys) {
  const Head head{1, 2, 2, {1.0f}, {100.0f, 1000.0f}, {1.0f, 0.0f, 0.0f, 1.0f}};
  const double capped_gap = 50.0 * std::tanh(2.0) - 50.0 * std::tanh(20.0);
  const double second = 1.0 / (1.0 + std::exp(capped_gap));
  ASSERT_NEAR(second, 0.858, 1e-3);

  const std::vector<float> out = attend(head, 1, 1.0f, kCap);
  EXPECT_NEAR(out[0], 1.0 - second, 1e-6);
  EXPECT_NEAR(out[1], second, 1e-6);

  const std::vector<float> uncapped = attend(head, 1, 1.0f, 0.0f);
  EXPECT_EQ(uncapped[0], 0.0f);
  EXPECT_EQ(uncapped[1], 1.0f);
}

// The kernel's vector tanh against double tanh, read back from the weights of
// two keys with scores s and 0: their ratio is exp(cap(s) - cap(0)) = exp(cap(s)).
// By estimate, exp and the division add under 1e-6 of absolute error to its log.
TEST_P(Attention, CappedScoresMatchDoubleTanh) {
  for (int step = -400; step <= 400; ++step) {
    // Steps grow away from 0 to cover 1e-3 up to 1000.
    double magnitude = 1e-3 * std::pow(10.0, std::abs(step) / 66.0);
    if (step == 0) magnitude = 0.0;
    const float score = static_cast<float>(step < 0 ? -magnitude : magnitude);
    const Head head{1, 2, 2, {score}, {1.0f, 0.0f}, {1.0f, 0.0f, 0.0f, 1.0f}};
    const std::vector<float> out = attend(head, 1, 1.0f, kCap);

    const double capped = kCap * std::tanh(static_cast<double>(score) / kCap);
    const double measured = std::log(static_cast<double>(out[0]) / out[1]);
    EXPECT_NEAR(measured, capped, 1e-6 * std::fabs(capped) + 1e-6) << "score " << score;
  }
}

// A NaN score anywhere makes every output NaN, with or without the cap, so
// the model's non-finite check reports it instead of the key being dropped.
TEST_P(Attention, NanScorePoisonsOutput) {
  for (size_t nan_key : {0, 20, 39}) {
    for (float cap : {0.0f, kCap}) {
      Head head = make_head(8, 8, 40, Scores::kRandom, 0.5f, 11);
      head.keys[nan_key * 8 + 3] = std::numeric_limits<float>::quiet_NaN();
      const std::vector<float> out = attend(head, 2, 0.5f, cap);
      for (size_t i = 0; i < out.size(); ++i) {
        EXPECT_TRUE(std::isnan(out[i])) << "NaN key " << nan_key << ", cap " << cap << ", output " << i;
      }
    }
  }
}

// Heads that share keys and values (a GQA group) attended together, two at a
// time with one load of each key, give each head's output bit for bit.
TEST_P(Attention, GroupHeadsMatchSingleHeads) {
  uint32_t seed = 300;
  for (size_t head_dim : {13, 64, 256}) {
    for (size_t value_dim : {5, 64, 256}) {
      for (size_t n_keys : {1, 17, 300}) {
        const Head head = make_head(head_dim, value_dim, n_keys, Scores::kRising, 0.0625f, seed++);
        const Layout layout = lay_out(head, 2);
        for (size_t n_heads : {1, 2, 3, 4, 5}) {
          std::mt19937 rng(seed++);
          std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
          std::vector<float> queries(n_heads * head_dim);
          for (float& x : queries) x = unit(rng);

          std::vector<float> together(n_heads * value_dim);
          attend_heads(queries.data(), n_heads, head_dim, layout.runs, value_dim, 0.0625f, kCap, together.data());
          for (size_t h = 0; h < n_heads; ++h) {
            std::vector<float> alone(value_dim);
            attend_head(queries.data() + h * head_dim, head_dim, layout.runs, value_dim, 0.0625f, kCap, alone.data());
            EXPECT_EQ(0, std::memcmp(alone.data(), together.data() + h * value_dim, value_dim * sizeof(float)))
                << "head_dim " << head_dim << ", value_dim " << value_dim << ", " << n_keys << " keys, head " << h
                << " of " << n_heads;
          }
        }
      }
    }
  }
}

TEST_P(Attention, RejectsNoKeys) {
  const float query[4] = {1.0f, 2.0f, 3.0f, 4.0f};
  float out[4] = {};
  EXPECT_THROW(attend_head(query, 4, {}, 4, 1.0f, kCap, out), Error);

  const KeyValueRun empty[2] = {{query, query, 4, 4, 0}, {query, query, 4, 4, 0}};
  EXPECT_THROW(attend_head(query, 4, empty, 4, 1.0f, kCap, out), Error);
}

INSTANTIATE_TEST_SUITE_P(Isas, Attention, ::testing::ValuesIn(testing::isa_params()), testing::isa_param_name);

}  // namespace
}  // namespace edgelm
