#pragma once
// Chooses the next token from a row of logits.

#include <cstdint>
#include <random>
#include <vector>

namespace edgelm {

struct SamplerConfig {
  float temperature = 0.8f;  // 0 means greedy
  int32_t top_k = 40;        // 0 keeps all
  float top_p = 0.95f;       // 1 keeps all
  float min_p = 0.05f;       // 0 keeps all
  float repeat_penalty = 1.0f;  // 1 disables
  float presence_penalty = 0.0f;   // subtracted once from a token seen in the window (OpenAI's)
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the window (OpenAI's)
  int32_t repeat_last_n = 64;      // how many recent tokens the penalties look at
  uint64_t seed = 0xFFFFFFFFu;  // 0xFFFFFFFF picks a random seed
};

class Sampler {
 public:
  explicit Sampler(const SamplerConfig& config);

  // Picks a token from logits (n_vocab floats, not modified). `history` is the
  // ids so far, for the repetition penalty.
  int32_t sample(const float* logits, size_t n_vocab, const std::vector<int32_t>& history);

  const SamplerConfig& config() const { return config_; }
  uint64_t seed() const { return seed_; }

 private:
  SamplerConfig config_;
  uint64_t seed_;
  std::mt19937_64 rng_;
};

}  // namespace edgelm
