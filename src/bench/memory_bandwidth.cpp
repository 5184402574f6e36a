#include "bench/memory_bandwidth.h"

#include <algorithm>
#include <chrono>

#include "bench/machine_info.h"
#include "bench/sample_stats.h"
#include "bench/sum_words.h"
#include "core/available_memory.h"
#include "core/error.h"
#include "core/huge_page_buffer.h"

namespace edgelm {
namespace {

constexpr uint64_t kWordsPerLine = 8;  // 64-byte cache lines of 8-byte words
constexpr uint64_t kLineBytes = kWordsPerLine * sizeof(uint64_t);

// Words [begin, end) of the buffer.
struct Slice {
  uint64_t begin = 0;
  uint64_t end = 0;
};

// The slice that thread `index` of `n_threads` reads: whole lines, so no two
// threads share a cache line.
Slice thread_slice(uint64_t n_lines, size_t index, size_t n_threads) {
  const uint64_t first_line = n_lines * index / n_threads;
  const uint64_t last_line = n_lines * (index + 1) / n_threads;
  return {first_line * kWordsPerLine, last_line * kWordsPerLine};
}

}  // namespace

uint64_t bandwidth_pattern_word(uint64_t index) {
  // An odd multiplier makes every word differ, so no two slices sum alike.
  return (index + 1) * 0x9E3779B97F4A7C15ull;
}

uint64_t default_bandwidth_buffer_bytes() {
  const uint64_t one_gib = uint64_t{1} << 30;
  return std::max(one_gib, 4 * last_level_cache_bytes().value_or(0));
}

BandwidthResult measure_read_bandwidth(ThreadPool& pool, uint64_t buffer_bytes, int passes) {
  if (passes < 1) fail("bandwidth passes {} is invalid; give at least 1", passes);
  const size_t n_threads = pool.size();
  const uint64_t n_lines = buffer_bytes / kLineBytes;
  if (n_lines < n_threads) {
    fail("bandwidth buffer of {} bytes is too small for {} threads; give at least {} bytes", buffer_bytes, n_threads,
         n_threads * kLineBytes);
  }
  const uint64_t n_words = n_lines * kWordsPerLine;

  // Linux overcommits, so an oversized buffer would be killed while filling
  // rather than fail to allocate: check the free memory first.
  const std::optional<uint64_t> available = available_memory_bytes();
  if (available && n_words * sizeof(uint64_t) > *available) {
    fail("bandwidth buffer of {} bytes exceeds the {} bytes of available memory; give a smaller --bandwidth-mib",
         n_words * sizeof(uint64_t), *available);
  }
  // Huge pages, as the weights use: the test measures the fastest reading
  // the machine allows, which is the ceiling that decoding is set against.
  HugePageBuffer buffer(n_words * sizeof(uint64_t), "the bandwidth buffer");
  uint64_t* words = reinterpret_cast<uint64_t*>(buffer.data());

  // Each thread fills the slice it reads later, which places its pages near
  // that thread on NUMA machines.
  pool.parallel_for(n_threads, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) {
      const Slice slice = thread_slice(n_lines, t, n_threads);
      for (uint64_t i = slice.begin; i < slice.end; ++i) words[i] = bandwidth_pattern_word(i);
    }
  });

  BandwidthResult result;
  result.buffer_bytes = n_words * sizeof(uint64_t);
  result.n_threads = n_threads;
  std::vector<uint64_t> partial_sums(n_threads);
  for (int pass = 0; pass < passes; ++pass) {
    const auto start = std::chrono::steady_clock::now();
    pool.parallel_for(n_threads, [&](size_t begin, size_t end) {
      for (size_t t = begin; t < end; ++t) {
        const Slice slice = thread_slice(n_lines, t, n_threads);
        partial_sums[t] = sum_words(words + slice.begin, slice.end - slice.begin);
      }
    });
    // A clock tick is at least a nanosecond, which keeps the rate finite.
    const double seconds =
        std::max(1e-9, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());

    // The sum is checked so that the reads have a use the compiler must keep.
    uint64_t checksum = 0;
    for (uint64_t sum : partial_sums) checksum += sum;
    if (pass > 0 && checksum != result.checksum) {
      fail("bandwidth pass {} summed the buffer to {:#x}, pass 0 to {:#x}; the memory returned different data", pass,
           checksum, result.checksum);
    }
    result.checksum = checksum;
    result.pass_gb_per_s.push_back(static_cast<double>(result.buffer_bytes) / seconds / 1e9);
  }

  const SampleStats stats = summarize_samples(result.pass_gb_per_s);
  result.best_gb_per_s = stats.max;
  result.median_gb_per_s = stats.median;
  return result;
}

}  // namespace edgelm
