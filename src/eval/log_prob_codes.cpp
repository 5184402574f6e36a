#include "eval/log_prob_codes.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace edgelm {
namespace {

struct LogitSummary {
  float max_logit;
  size_t max_index;     // lowest index of the maximum
  double log_sum_exp;   // log(sum(exp(logit - max_logit)))
};

LogitSummary summarize(const float* logits, size_t n_vocab) {
  LogitSummary summary{logits[0], 0, 0.0};
  for (size_t i = 1; i < n_vocab; ++i) {
    if (logits[i] > summary.max_logit) {
      summary.max_logit = logits[i];
      summary.max_index = i;
    }
  }
  double sum = 0.0;
  for (size_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - summary.max_logit);
  summary.log_sum_exp = std::log(sum);
  return summary;
}

}  // namespace

size_t log_prob_record_bytes(size_t n_vocab) { return 2 * sizeof(float) + (n_vocab + 1) / 2 * 2 * sizeof(uint16_t); }

double negative_log_likelihood(const float* logits, size_t n_vocab, int32_t target) {
  LogitSummary summary = summarize(logits, n_vocab);
  return summary.max_logit + summary.log_sum_exp - logits[target];
}

double encode_log_probs(const float* logits, size_t n_vocab, int32_t target, uint8_t* record) {
  LogitSummary summary = summarize(logits, n_vocab);
  const float max_logit = summary.max_logit;

  // Everything more than 16 below the maximum shares code 0.
  float min_logit = *std::min_element(logits, logits + n_vocab);
  min_logit = std::max(min_logit, max_logit + kMinBaseLogProb);
  const float min_log_prob = static_cast<float>(min_logit - max_logit - summary.log_sum_exp);
  const float scale = (max_logit - min_logit) / 65535.0f;
  std::memcpy(record, &scale, sizeof(float));
  std::memcpy(record + sizeof(float), &min_log_prob, sizeof(float));

  uint8_t* code_bytes = record + 2 * sizeof(float);
  const size_t code_area = log_prob_record_bytes(n_vocab) - 2 * sizeof(float);
  std::memset(code_bytes, 0, code_area);
  if (scale > 0.0f) {
    const float inverse_scale = 1.0f / scale;
    for (size_t i = 0; i < n_vocab; ++i) {
      if (logits[i] <= min_logit) continue;
      long code = std::lrint(inverse_scale * (logits[i] - min_logit));
      uint16_t clamped = static_cast<uint16_t>(std::clamp(code, 0L, 65535L));
      std::memcpy(code_bytes + i * sizeof(uint16_t), &clamped, sizeof(uint16_t));
    }
  }

  return max_logit + summary.log_sum_exp - logits[target];
}

BaseComparison compare_with_base(const float* logits, size_t n_vocab, int32_t target, const uint8_t* record) {
  LogitSummary summary = summarize(logits, n_vocab);
  const double log_normalizer = summary.max_logit + summary.log_sum_exp;

  float scale = 0.0f;
  float min_log_prob = 0.0f;
  std::memcpy(&scale, record, sizeof(float));
  std::memcpy(&min_log_prob, record + sizeof(float), sizeof(float));
  const uint8_t* code_bytes = record + 2 * sizeof(float);
  auto code_at = [code_bytes](size_t i) {
    uint16_t code = 0;
    std::memcpy(&code, code_bytes + i * sizeof(uint16_t), sizeof(uint16_t));
    return code;
  };

  BaseComparison result;
  result.nll = log_normalizer - logits[target];
  result.nll_base = -(static_cast<double>(scale) * code_at(target) + min_log_prob);

  // The base's top token is its highest code (scale >= 0), lowest index on ties.
  uint16_t max_code = code_at(0);
  size_t base_max_index = 0;
  double kl = 0.0;
  for (size_t i = 0; i < n_vocab; ++i) {
    const uint16_t code = code_at(i);
    if (code > max_code) {
      max_code = code;
      base_max_index = i;
    }
    const double base_log_prob = static_cast<double>(scale) * code + min_log_prob;
    if (base_log_prob > kMinBaseLogProb) {
      kl += std::exp(base_log_prob) * (base_log_prob - (logits[i] - log_normalizer));
    }
  }
  result.kl = kl;
  result.same_top1 = summary.max_index == base_max_index;
  return result;
}

}  // namespace edgelm
