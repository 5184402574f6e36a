#include "engine/generator.h"

#include <chrono>

#include "core/error.h"

namespace edgelm {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

double GenerationStats::prefill_tokens_per_second() const {
  return prefill_seconds > 0 ? n_prompt / prefill_seconds : 0.0;
}

double GenerationStats::decode_tokens_per_second() const {
  // The first generated token comes from the prefill's logits, so decode time
  // covers n_generated - 1 forward passes.
  return decode_seconds > 0 && n_generated > 1 ? (n_generated - 1) / decode_seconds : 0.0;
}

GenerationStats generate(Context& context, const std::vector<int32_t>& prompt, int32_t n_predict, Sampler& sampler,
                         const TextCallback& on_text) {
  if (prompt.empty()) fail("the prompt is empty; give some text with -p or ids with --prompt-ids");
  size_t needed = context.n_past() + prompt.size() + static_cast<size_t>(std::max(n_predict, 0));
  if (needed > context.n_ctx()) {
    fail("the prompt ({} tokens) plus -n {} needs {} positions but the context has room for {}; raise -c or lower -n",
         prompt.size(), n_predict, needed, context.n_ctx());
  }

  const Tokenizer& tokenizer = context.model().tokenizer();
  const size_t n_vocab = context.model().hparams().n_vocab;
  GenerationStats stats;
  stats.n_prompt = prompt.size();

  auto start = std::chrono::steady_clock::now();
  const float* logits = context.eval(prompt.data(), prompt.size(), LogitsMode::kLast);
  stats.prefill_seconds = seconds_since(start);

  std::vector<int32_t> history = prompt;
  TokenTextStream text(tokenizer);
  auto decode_start = std::chrono::steady_clock::now();

  for (;;) {
    if (stats.n_generated >= static_cast<size_t>(std::max(n_predict, 0))) {
      stats.stop_reason = StopReason::kLength;
      break;
    }
    int32_t token = sampler.sample(logits, n_vocab, history);
    if (tokenizer.is_end_of_generation(token)) {
      stats.stop_reason = StopReason::kEndOfGeneration;
      break;
    }
    stats.n_generated++;
    stats.tokens.push_back(token);
    history.push_back(token);

    std::string piece = text.push(token);
    if (!piece.empty() && !on_text(piece)) {
      stats.stop_reason = StopReason::kCancelled;
      break;
    }
    if (stats.n_generated >= static_cast<size_t>(n_predict)) {
      stats.stop_reason = StopReason::kLength;
      break;
    }
    logits = context.eval(&token, 1, LogitsMode::kLast);
  }

  std::string rest = text.finish();
  if (!rest.empty()) on_text(rest);
  stats.decode_seconds = seconds_since(decode_start);
  return stats;
}

}  // namespace edgelm
