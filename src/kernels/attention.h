#pragma once
// Attention of query heads over a sequence of keys and values, in one pass
// with an online (running-max) softmax and the score soft-cap inside the loop.

#include <cstddef>
#include <span>

namespace edgelm {

// Consecutive keys of one contiguous stretch of memory and their values. Key i
// of the run starts at keys + i * key_stride and its value at
// values + i * value_stride (strides in floats). A KV cache ring that wraps,
// or keys split between the cache and a batch, give several runs.
struct KeyValueRun {
  const float* keys = nullptr;
  const float* values = nullptr;
  size_t key_stride = 0;
  size_t value_stride = 0;
  size_t count = 0;
};

// Writes out[0, value_dim) = sum_j p_j * value_j over the keys of `runs` in
// order, where p = softmax(s) and s_j = cap(dot(query, key_j) * scale) with
// cap(s) = soft_cap * tanh(s / soft_cap). A soft_cap of 0 or less means no cap.
// Keys are processed in tiles at fixed offsets from the first key, so the
// result depends only on the sequence of keys and values, never on how the
// runs split it. Allocates nothing; `out` must not overlap the inputs.
// Throws Error when the runs hold no key. A NaN score makes the output NaN.
void attend_head(const float* query, size_t head_dim, std::span<const KeyValueRun> runs, size_t value_dim,
                 float scale, float soft_cap, float* out);

// attend_head for n_heads query heads that share the keys and values (the
// query heads of one GQA group): query i at queries + i * head_dim, its output
// at out + i * value_dim. Each output is bit for bit attend_head's, and each
// key and value is loaded once for two heads.
void attend_heads(const float* queries, size_t n_heads, size_t head_dim, std::span<const KeyValueRun> runs,
                  size_t value_dim, float scale, float soft_cap, float* out);

}  // namespace edgelm
