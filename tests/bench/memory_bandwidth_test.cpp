// The read-bandwidth measurement: a finite rate and the buffer's true sum.

#include "bench/memory_bandwidth.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace edgelm {
namespace {

uint64_t plain_sum(uint64_t n_words) {
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n_words; ++i) sum += bandwidth_pattern_word(i);
  return sum;
}

TEST(MemoryBandwidth, RateFiniteAndSumMatchesLoop) {
  ThreadPool pool(2);
  const uint64_t buffer_bytes = uint64_t{8} << 20;
  const BandwidthResult result = measure_read_bandwidth(pool, buffer_bytes, 3);

  EXPECT_EQ(result.buffer_bytes, buffer_bytes);
  EXPECT_EQ(result.n_threads, 2u);
  ASSERT_EQ(result.pass_gb_per_s.size(), 3u);
  for (double rate : result.pass_gb_per_s) {
    EXPECT_TRUE(std::isfinite(rate)) << rate;
    EXPECT_GT(rate, 0.0);
  }
  EXPECT_EQ(result.best_gb_per_s, *std::max_element(result.pass_gb_per_s.begin(), result.pass_gb_per_s.end()));
  EXPECT_LE(result.median_gb_per_s, result.best_gb_per_s);
  EXPECT_EQ(result.checksum, plain_sum(buffer_bytes / 8));
}

TEST(MemoryBandwidth, BufferRoundsDownToLines) {
  // 1000 bytes hold 15 whole 64-byte lines, split 8 and 7 between 2 threads.
  ThreadPool pool(2);
  const BandwidthResult result = measure_read_bandwidth(pool, 1000, 1);
  EXPECT_EQ(result.buffer_bytes, 960u);
  EXPECT_EQ(result.checksum, plain_sum(120));
}

TEST(MemoryBandwidth, SlicesCoverBufferWithManyThreads) {
  // 3 threads over 10 lines: slices of 3, 3 and 4 lines must still cover every word once.
  ThreadPool pool(3);
  const BandwidthResult result = measure_read_bandwidth(pool, 640, 2);
  EXPECT_EQ(result.checksum, plain_sum(80));
}

TEST(MemoryBandwidth, InvalidArgumentsThrow) {
  ThreadPool pool(4);
  EXPECT_THROW(measure_read_bandwidth(pool, 1 << 20, 0), Error);
  EXPECT_THROW(measure_read_bandwidth(pool, 3 * 64, 1), Error);  // fewer lines than threads
}

TEST(MemoryBandwidth, DefaultBufferIsAtLeastOneGib) {
  EXPECT_GE(default_bandwidth_buffer_bytes(), uint64_t{1} << 30);
}

}  // namespace
}  // namespace edgelm
