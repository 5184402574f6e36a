#include "eval/divergence.h"

#include <algorithm>
#include <cmath>

namespace edgelm {
namespace {

// log(sum(exp(x))) with the max subtracted first.
double log_sum_exp(const float* x, size_t n) {
  double max_value = *std::max_element(x, x + n);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(static_cast<double>(x[i]) - max_value);
  return max_value + std::log(sum);
}

}  // namespace

double kl_divergence(const float* base_logits, const float* logits, size_t n) {
  double base_lse = log_sum_exp(base_logits, n);
  double lse = log_sum_exp(logits, n);
  double kl = 0.0;
  for (size_t i = 0; i < n; ++i) {
    double log_p = base_logits[i] - base_lse;
    double log_q = logits[i] - lse;
    kl += std::exp(log_p) * (log_p - log_q);
  }
  // Rounding can leave a tiny negative sum for identical distributions.
  return std::max(kl, 0.0);
}

size_t argmax(const float* logits, size_t n) { return static_cast<size_t>(std::max_element(logits, logits + n) - logits); }

void DivergenceStats::add(const float* base_logits, const float* logits, size_t n_vocab) {
  kl_sum += kl_divergence(base_logits, logits, n_vocab);
  same_top1 += argmax(base_logits, n_vocab) == argmax(logits, n_vocab) ? 1 : 0;
  ++positions;
}

}  // namespace edgelm
