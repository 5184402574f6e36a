#pragma once
// The read loop of the bandwidth test, with the widest loads the CPU has.

#include <cstdint>

namespace edgelm {

// Sum of n 64-bit words modulo 2^64, read with the widest vectors of the
// dispatched SIMD target. Integer addition wraps and is associative, so the
// result equals a plain loop's.
uint64_t sum_words(const uint64_t* words, uint64_t n);

}  // namespace edgelm
