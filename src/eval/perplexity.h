#pragma once
// Perplexity of a model over a text, scored as llama.cpp's llama-perplexity
// scores it, and its divergence from a base model's saved distributions.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "model/model.h"

namespace edgelm {

struct PerplexityOptions {
  uint32_t n_ctx = 512;     // tokens per window (-c)
  uint32_t n_batch = 2048;  // tokens per forward pass, at most n_ctx (-b)
  int32_t max_chunks = -1;  // windows to score; -1: all that fit
  std::string save_logits_path;  // write the base distributions here (--save-logits); see logits_file.h
  std::string kl_base_path;      // compare with distributions saved earlier (--kl-base)
};

// A mean and its standard error.
struct Estimate {
  double value = 0.0;
  double error = 0.0;
};

struct PerplexityResult {
  uint64_t n_tokens = 0;   // tokens of the whole text, BOS included
  uint32_t n_chunks = 0;   // windows scored
  uint64_t n_scored = 0;   // predictions scored: n_chunks * (n_ctx - 1 - n_ctx / 2)
  Estimate ppl;            // exp(mean negative log-likelihood)
  std::vector<double> chunk_ppl;  // running perplexity after each window, as llama.cpp prints it
  double seconds = 0.0;

  // With a KL base only.
  bool has_kl = false;
  Estimate base_ppl;
  Estimate kl_mean;         // mean KL(base || model) in nats, over base log-probabilities above -16
  double kl_max = 0.0;
  Estimate same_top1;       // fraction of positions with the base's most probable token
  Estimate ln_ppl_ratio;    // mean of ln(PPL / base PPL)
  Estimate ppl_ratio;       // PPL / base PPL
};

// Tokenizes `text` with the model's BOS and no special-token parsing, then
// splits it into windows of n_ctx tokens. The first token of each window is
// replaced by BOS when the model adds one. Each window is evaluated from an
// empty cache, and positions n_ctx / 2 through n_ctx - 2 are scored against
// the text's own next tokens.
// With a KL base the windows are the ones the file contains (at most
// max_chunks). `progress` is called with (0, total) before the first window
// and with (done, total) after each.
// Throws Error when the text has fewer than 2 * n_ctx tokens (naming both
// counts) and when n_ctx is below 4 or exceeds the model's trained context.
// Also throws when both logits paths are set or the output cannot be written.
// A logits file that is unreadable or mismatched (another vocabulary, text or
// context size, a wrong magic, a truncated file) throws as well.
PerplexityResult evaluate_perplexity(const Model& model, const std::string& text, const PerplexityOptions& options,
                                     ThreadPool& pool,
                                     const std::function<void(uint32_t, uint32_t)>& progress = {});

}  // namespace edgelm
