// The bandwidth test's vector read loop sums like a plain loop, tails included.

#include "bench/sum_words.h"

#include <gtest/gtest.h>

#include <vector>

namespace edgelm {
namespace {

TEST(SumWords, MatchesPlainLoopForEveryTail) {
  std::vector<uint64_t> words(1000);
  for (size_t i = 0; i < words.size(); ++i) words[i] = (i + 1) * 0x9E3779B97F4A7C15ull;

  for (uint64_t n : {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 999, 1000}) {
    uint64_t expected = 0;
    for (uint64_t i = 0; i < n; ++i) expected += words[i];
    EXPECT_EQ(sum_words(words.data(), n), expected) << "n = " << n;
  }
}

TEST(SumWords, WrapsModulo2To64) {
  const std::vector<uint64_t> words(64, ~uint64_t{0});
  // 64 times (2^64 - 1) is -64 modulo 2^64.
  EXPECT_EQ(sum_words(words.data(), words.size()), uint64_t{0} - 64);
}

}  // namespace
}  // namespace edgelm
