#pragma once
// Next-token log-probabilities stored in 16 bits each, and the scores of a
// model's logits against such a stored base distribution.
//
// A record contains float scale, float min_log_prob, then one uint16 code per
// vocabulary entry, padded to a multiple of 4 bytes. Code c stands for the
// log-probability scale * c + min_log_prob. Logits more than 16 below the
// maximum are clamped to that floor, as llama.cpp's llama-perplexity does for
// its --kl-divergence-base files, so one code step is at most 16 / 65535 nats.

#include <cstddef>
#include <cstdint>

namespace edgelm {

// Base log-probabilities at or below this are left out of the KL sum.
inline constexpr float kMinBaseLogProb = -16.0f;

// Size in bytes of one record for a vocabulary of n_vocab tokens.
size_t log_prob_record_bytes(size_t n_vocab);

// -log softmax(logits)[target], computed in double.
double negative_log_likelihood(const float* logits, size_t n_vocab, int32_t target);

// Encodes softmax(logits) into `record` (log_prob_record_bytes(n_vocab)
// bytes) and returns -log softmax(logits)[target].
double encode_log_probs(const float* logits, size_t n_vocab, int32_t target, uint8_t* record);

// One position scored against a stored base distribution.
struct BaseComparison {
  double nll = 0.0;       // -log p_model(target)
  double nll_base = 0.0;  // -log p_base(target), from the codes
  double kl = 0.0;        // KL(base || model) over the tokens with a base log-probability above -16
  bool same_top1 = false; // the model's argmax equals the base codes' argmax (lowest index on ties)
};

BaseComparison compare_with_base(const float* logits, size_t n_vocab, int32_t target, const uint8_t* record);

}  // namespace edgelm
