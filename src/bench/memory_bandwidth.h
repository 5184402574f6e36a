#pragma once
// Measures how fast the threads of a pool can read main memory: each thread
// sums a disjoint slice of a buffer several times larger than the caches.

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"

namespace edgelm {

struct BandwidthResult {
  uint64_t buffer_bytes = 0;           // bytes read by each pass
  size_t n_threads = 0;                // threads that read, one slice each
  std::vector<double> pass_gb_per_s;   // every timed pass, 1 GB = 1e9 bytes
  double best_gb_per_s = 0.0;          // the fastest pass
  double median_gb_per_s = 0.0;
  uint64_t checksum = 0;  // sum of the buffer's 64-bit words modulo 2^64, equal in every pass
};

// The value that word `index` of the measured buffer holds.
uint64_t bandwidth_pattern_word(uint64_t index);

// The default buffer: 1 GiB, or 4 times the last-level cache when that is
// larger, so that nearly every read comes from main memory.
uint64_t default_bandwidth_buffer_bytes();

// Fills a buffer of buffer_bytes (rounded down to whole 64-byte lines) with
// bandwidth_pattern_word, then reads it `passes` times. In each pass every
// thread of `pool` sums its own contiguous slice. A pass is timed from the
// start of the parallel loop to its end. Throws Error when passes is
// below 1, the buffer has fewer lines than the pool has threads, or it does
// not fit in the available memory.
BandwidthResult measure_read_bandwidth(ThreadPool& pool, uint64_t buffer_bytes, int passes);

}  // namespace edgelm
