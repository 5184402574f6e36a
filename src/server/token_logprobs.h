#pragma once
// Log-probabilities of a chosen token and its most likely alternatives, from
// one row of logits (the model's distribution, before sampling settings).

#include <cstddef>
#include <cstdint>

#include "server/job.h"
#include "tokenizer/tokenizer.h"

namespace edgelm::server {

// `top_n` alternatives, best first (ties by lower id).
TokenLogprob token_logprob(const float* logits, size_t n_vocab, int32_t token, int32_t top_n,
                           const Tokenizer& tokenizer);

}  // namespace edgelm::server
