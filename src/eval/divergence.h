#pragma once
// Distances between the next-token distributions of two models, from their logits.

#include <cstddef>
#include <cstdint>

namespace edgelm {

// KL(P || Q) in nats, where P = softmax(base_logits) and Q = softmax(logits),
// both over n entries. Computed in double.
double kl_divergence(const float* base_logits, const float* logits, size_t n);

// Index of the largest logit (the lowest index on ties).
size_t argmax(const float* logits, size_t n);

// Running mean KL divergence and top-1 agreement over many positions.
struct DivergenceStats {
  size_t positions = 0;
  double kl_sum = 0.0;
  size_t same_top1 = 0;

  void add(const float* base_logits, const float* logits, size_t n_vocab);
  double mean_kl() const { return positions ? kl_sum / static_cast<double>(positions) : 0.0; }
  double same_top1_rate() const { return positions ? static_cast<double>(same_top1) / positions : 0.0; }
};

}  // namespace edgelm
