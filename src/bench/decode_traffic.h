#pragma once
// Bytes a decode step reads from memory: the lower bound on its time on a
// machine whose reads are limited by memory bandwidth.

#include <cstdint>

#include "gguf/gguf_file.h"
#include "kv/kv_cache.h"

namespace edgelm {

// Weight bytes one decode step reads: every tensor of the file once (the
// layers, the norms and the output head, which is token_embd when the file has
// no output.weight), plus one row of token_embd for the input embedding.
// Throws Error when the file has no token_embd.weight.
uint64_t decode_weight_bytes(const GgufFile& file);

// KV cache bytes read per decode step, averaged over the steps of n_gen tokens
// from an empty context: the step at position p reads the keys and values of
// min(p + 1, capacity) positions in each layer. Rounded to the nearest byte;
// 0 when n_gen is 0. Throws Error when n_gen exceeds the cache's context.
uint64_t decode_kv_bytes(const KvCache& kv, uint32_t n_gen);

}  // namespace edgelm
