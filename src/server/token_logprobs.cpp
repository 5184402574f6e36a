#include "server/token_logprobs.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace edgelm::server {

TokenLogprob token_logprob(const float* logits, size_t n_vocab, int32_t token, int32_t top_n,
                           const Tokenizer& tokenizer) {
  // log p(i) = logit(i) - log(sum exp(logit)), summed in double from the maximum.
  float max_logit = *std::max_element(logits, logits + n_vocab);
  double sum = 0.0;
  for (size_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - max_logit);
  const double log_norm = max_logit + std::log(sum);

  TokenLogprob result;
  result.token = token;
  result.bytes = tokenizer.token_bytes(token);
  result.logprob = static_cast<float>(logits[token] - log_norm);

  const size_t n = std::min<size_t>(std::max(top_n, 0), n_vocab);
  if (n > 0) {
    std::vector<int32_t> ids(n_vocab);
    for (size_t i = 0; i < n_vocab; ++i) ids[i] = static_cast<int32_t>(i);
    std::partial_sort(ids.begin(), ids.begin() + n, ids.end(), [logits](int32_t a, int32_t b) {
      return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
    });
    for (size_t i = 0; i < n; ++i) {
      result.top.emplace_back(ids[i], static_cast<float>(logits[ids[i]] - log_norm));
    }
  }
  return result;
}

}  // namespace edgelm::server
