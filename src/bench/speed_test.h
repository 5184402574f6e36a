#pragma once
// The two llama-bench tests on one context: prefill (a prompt in one forward
// pass) and decode (tokens one at a time), each timed from an empty context.

#include <cstdint>
#include <span>
#include <vector>

#include "model/context.h"

namespace edgelm {

// n token ids drawn uniformly from [0, n_vocab) by a generator seeded with
// `seed`, so every run benchmarks the same tokens.
std::vector<int32_t> random_tokens(size_t n, uint32_t n_vocab, uint64_t seed);

// Evaluates `tokens` in one eval call from an empty context: once untimed to
// warm up, then `repetitions` timed runs. Returns tokens per second of each
// timed run. Throws Error when the context or its batch is too small.
std::vector<double> time_prefill(Context& context, std::span<const int32_t> tokens, int repetitions);

// Evaluates `tokens` one eval call per token from an empty context, warm-up
// and timed runs as time_prefill. Returns tokens per second of each timed run.
std::vector<double> time_decode(Context& context, std::span<const int32_t> tokens, int repetitions);

}  // namespace edgelm
