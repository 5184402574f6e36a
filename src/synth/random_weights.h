#pragma once
// Random tensor data for synthetic models: elements of any supported weight
// type drawn from a seeded generator. The bytes are written directly,
// without running the quantizer, and every element decodes to a finite value
// of a chosen typical size.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "tensor/dtype.h"

namespace edgelm::synth {

// xoshiro256** with its state seeded through splitmix64: fast, and a seed
// always gives the same stream.
class RandomStream {
 public:
  explicit RandomStream(uint64_t seed);

  uint64_t next();

 private:
  uint64_t state_[4];
};

// One splitmix64 step over `a` combined with `b`: derives independent seeds
// for tensors and for the parts of a tensor.
uint64_t mix_seed(uint64_t a, uint64_t b);

// The spread of the values to draw. Block-quantized types are always centred
// on 0: their scale fields are set so that the decoded values have about
// `rms` as root mean square over a tensor. Float types get a bell-shaped
// spread (a sum of four uniform draws) of standard deviation `rms` around
// `center`, never more than 3.5 `rms` away from it.
struct ValueSpread {
  float center = 0.0f;
  float rms = 0.02f;
};

// Fills `n_elements` elements of `type` (a multiple of its block size) into
// `out`, which must hold row_bytes(type, n_elements) bytes. Throws Error for
// a type edgelm cannot decode or a spread with a nonzero center for a
// block-quantized type.
void fill_random_elements(DType type, const ValueSpread& spread, RandomStream& random, uint8_t* out,
                          size_t n_elements);

// Fills `out` with a whole tensor of `n_elements` elements. The tensor is
// cut into fixed runs of elements, each drawn from its own stream seeded by
// `seed` and the run's index, so the bytes depend only on the arguments and
// not on the number of threads in `pool`.
void fill_random_tensor(DType type, uint64_t n_elements, const ValueSpread& spread, uint64_t seed, ThreadPool& pool,
                        std::vector<uint8_t>& out);

}  // namespace edgelm::synth
