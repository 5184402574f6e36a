#include "sample/sampler.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"

namespace edgelm {

namespace {

constexpr uint64_t kRandomSeed = 0xFFFFFFFFu;

struct Candidate {
  int32_t id;
  float logit;
};

// Divides positive logits and multiplies the others by `penalty`, once per
// distinct token among the last `last_n` of `history` (all of it when
// last_n < 0), as llama.cpp's repetition penalty does.
void apply_repetition_penalty(std::vector<Candidate>& candidates, const std::vector<int32_t>& history,
                              float penalty, int32_t last_n) {
  if (penalty == 1.0f || last_n == 0 || history.empty()) {
    return;
  }
  const size_t window = last_n < 0 ? history.size() : std::min(history.size(), static_cast<size_t>(last_n));
  const std::unordered_set<int32_t> recent(history.end() - static_cast<std::ptrdiff_t>(window), history.end());

  // Candidates are still indexed by id here.
  for (int32_t id : recent) {
    if (id < 0 || static_cast<size_t>(id) >= candidates.size()) {
      continue;
    }
    float& logit = candidates[id].logit;
    logit = logit > 0.0f ? logit / penalty : logit * penalty;
  }
}

// Subtracts frequency * count + presence from the logit of each token that
// occurs among the last `last_n` of `history`, as OpenAI's penalties do.
void apply_presence_frequency(std::vector<Candidate>& candidates, const std::vector<int32_t>& history,
                              float presence, float frequency, int32_t last_n) {
  if ((presence == 0.0f && frequency == 0.0f) || last_n == 0 || history.empty()) {
    return;
  }
  const size_t window = last_n < 0 ? history.size() : std::min(history.size(), static_cast<size_t>(last_n));
  std::unordered_map<int32_t, int32_t> counts;
  for (auto it = history.end() - static_cast<std::ptrdiff_t>(window); it != history.end(); ++it) counts[*it]++;
  for (const auto& [id, count] : counts) {
    if (id < 0 || static_cast<size_t>(id) >= candidates.size()) {
      continue;
    }
    candidates[id].logit -= frequency * static_cast<float>(count) + presence;
  }
}

// Greedy choice: the highest logit, the lowest id among ties.
int32_t argmax(const std::vector<Candidate>& candidates) {
  size_t best = 0;
  for (size_t i = 1; i < candidates.size(); ++i) {
    if (candidates[i].logit > candidates[best].logit) {
      best = i;
    }
  }
  return candidates[best].id;
}

// Sorts by logit, highest first (lowest id first among ties, so runs repeat).
void sort_descending(std::vector<Candidate>& candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
  });
}

// Softmax of the (sorted) logits divided by `temperature`.
std::vector<double> softmax(const std::vector<Candidate>& candidates, float temperature) {
  std::vector<double> probs(candidates.size());
  const double max_logit = candidates.front().logit;
  double sum = 0.0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    probs[i] = std::exp((candidates[i].logit - max_logit) / temperature);
    sum += probs[i];
  }
  for (double& p : probs) {
    p /= sum;
  }
  return probs;
}

// Keeps the smallest prefix of the sorted candidates whose probability mass
// reaches `top_p` (the token that crosses it included).
void apply_top_p(std::vector<Candidate>& candidates, float top_p) {
  if (top_p >= 1.0f) {
    return;
  }
  const std::vector<double> probs = softmax(candidates, 1.0f);
  double mass = 0.0;
  size_t keep = candidates.size();
  for (size_t i = 0; i < candidates.size(); ++i) {
    mass += probs[i];
    if (mass >= top_p) {
      keep = i + 1;
      break;
    }
  }
  candidates.resize(keep);
}

// Keeps the candidates whose probability is at least `min_p` times the
// highest one, that is whose logit is at least max + log(min_p).
void apply_min_p(std::vector<Candidate>& candidates, float min_p) {
  if (min_p <= 0.0f) {
    return;
  }
  const float threshold = candidates.front().logit + std::log(min_p);
  const auto end = std::find_if(candidates.begin() + 1, candidates.end(),
                                [&](const Candidate& c) { return c.logit < threshold; });
  candidates.erase(end, candidates.end());
}

// Inverse-CDF draw from 53 random bits, written out (not std::discrete_distribution,
// whose algorithm differs between standard libraries) so a seed gives the same
// tokens everywhere.
int32_t draw(std::mt19937_64& rng, const std::vector<double>& probs, const std::vector<Candidate>& candidates) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  double cumulative = 0.0;
  for (size_t i = 0; i < probs.size(); ++i) {
    cumulative += probs[i];
    if (u < cumulative) {
      return candidates[i].id;
    }
  }
  return candidates.back().id;  // u fell in the rounding gap below 1
}

}  // namespace

Sampler::Sampler(const SamplerConfig& config) : config_(config) {
  // Names follow the command-line options; the server maps its JSON fields to them.
  if (!(config.temperature >= 0.0f) || std::isinf(config.temperature)) {
    fail("temperature {} is invalid; use 0 for greedy or a positive finite value", config.temperature);
  }
  if (!(config.top_p > 0.0f && config.top_p <= 1.0f)) {
    fail("top-p {} is invalid; use a value in (0, 1], where 1 keeps all tokens", config.top_p);
  }
  if (!(config.min_p >= 0.0f && config.min_p <= 1.0f)) {
    fail("min-p {} is invalid; use a value in [0, 1], where 0 keeps all tokens", config.min_p);
  }
  if (config.top_k < 0) {
    fail("top-k {} is invalid; use 0 to keep all tokens or a positive count", config.top_k);
  }
  if (!(config.repeat_penalty > 0.0f) || std::isinf(config.repeat_penalty)) {
    fail("repeat-penalty {} is invalid; use a positive factor (1 disables it)", config.repeat_penalty);
  }
  if (!std::isfinite(config.presence_penalty) || !std::isfinite(config.frequency_penalty)) {
    fail("presence penalty {} and frequency penalty {} must be finite", config.presence_penalty,
         config.frequency_penalty);
  }
  if (config.repeat_last_n < -1) {
    fail("repeat-last-n {} is invalid; use -1 for the whole history, 0 to disable, or a positive count",
         config.repeat_last_n);
  }

  seed_ = config.seed;
  if (seed_ == kRandomSeed) {
    std::random_device device;
    seed_ = (static_cast<uint64_t>(device()) << 32) | device();
  }
  rng_.seed(seed_);
}

// Steps in llama.cpp's default sampler order: the penalties, top-k,
// top-p, min-p, temperature, then a draw from the softmax. Top-p and min-p
// therefore look at the distribution before temperature.
int32_t Sampler::sample(const float* logits, size_t n_vocab, const std::vector<int32_t>& history) {
  if (n_vocab == 0) {
    fail("cannot sample from an empty logits row");
  }

  // A NaN logit counts as -inf, so sorting stays well defined.
  std::vector<Candidate> candidates(n_vocab);
  for (size_t i = 0; i < n_vocab; ++i) {
    const float logit = std::isnan(logits[i]) ? -INFINITY : logits[i];
    candidates[i] = {static_cast<int32_t>(i), logit};
  }
  apply_repetition_penalty(candidates, history, config_.repeat_penalty, config_.repeat_last_n);
  apply_presence_frequency(candidates, history, config_.presence_penalty, config_.frequency_penalty,
                           config_.repeat_last_n);

  if (config_.temperature <= 0.0f) {
    return argmax(candidates);
  }

  // Top-k needs only a partial sort; the rest need the kept ones in order.
  if (config_.top_k > 0 && static_cast<size_t>(config_.top_k) < candidates.size()) {
    const auto kth = candidates.begin() + config_.top_k;
    std::partial_sort(candidates.begin(), kth, candidates.end(), [](const Candidate& a, const Candidate& b) {
      return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
    });
    candidates.resize(config_.top_k);
  } else {
    sort_descending(candidates);
  }

  // With every logit -inf (or the best +inf) there is no distribution to draw from.
  if (std::isinf(candidates.front().logit)) {
    return candidates.front().id;
  }

  apply_top_p(candidates, config_.top_p);
  apply_min_p(candidates, config_.min_p);
  return draw(rng_, softmax(candidates, config_.temperature), candidates);
}

}  // namespace edgelm
