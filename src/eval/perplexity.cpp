#include "eval/perplexity.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "core/error.h"
#include "eval/log_prob_codes.h"
#include "eval/logits_file.h"
#include "model/context.h"

namespace edgelm {
namespace {

// Running sums of a value and its square.
struct Sums {
  double sum = 0.0;
  double sum_squares = 0.0;

  void add(double x) {
    sum += x;
    sum_squares += x * x;
  }
};

// Mean and standard error as llama-perplexity reports the KL statistics:
// the error is 0 for 10 values or fewer.
Estimate mean_with_error(const Sums& sums, uint64_t count) {
  if (count == 0) return {};
  const double mean = sums.sum / static_cast<double>(count);
  const double variance = sums.sum_squares / static_cast<double>(count) - mean * mean;
  const double error = variance > 0.0 && count > 10 ? std::sqrt(variance / static_cast<double>(count - 1)) : 0.0;
  return {mean, error};
}

// exp of a mean log value, with the error carried through the exponential.
Estimate exp_estimate(const Estimate& log_value) {
  const double value = std::exp(log_value.value);
  return {value, value * log_value.error};
}

// Perplexity from the negative log-likelihoods, as llama-perplexity's final
// estimate: the error has no 10-value floor.
Estimate perplexity_estimate(const Sums& nll, uint64_t count) {
  const double mean = nll.sum / static_cast<double>(count);
  const double variance = nll.sum_squares / static_cast<double>(count) - mean * mean;
  const double error = variance > 0.0 && count > 1 ? std::sqrt(variance / static_cast<double>(count - 1)) : 0.0;
  return exp_estimate({mean, error});
}

void check_options(const Model& model, const PerplexityOptions& options) {
  const uint32_t trained = model.hparams().n_ctx_train;
  if (options.n_ctx < 4) fail("context size {} is too small; perplexity needs -c 4 or more", options.n_ctx);
  if (trained > 0 && options.n_ctx > trained) {
    fail("context size {} is larger than the {} tokens the model was trained on; use -c {} or less", options.n_ctx,
         trained, trained);
  }
  if (options.n_batch == 0) fail("batch size 0 is invalid; give -b 1 or more");
  if (options.max_chunks == 0 || options.max_chunks < -1) {
    fail("--chunks {} is invalid; give a positive number of windows, or -1 for all", options.max_chunks);
  }
  if (!options.save_logits_path.empty() && !options.kl_base_path.empty()) {
    fail("--save-logits and --kl-base were both given; save the base model's logits in one run and compare in another");
  }
}

// Opens the KL base and checks that it was saved from this text, context size
// and vocabulary. Returns the number of windows to score.
uint32_t check_kl_base(const LogitsFileReader& base, const Model& model, const std::vector<int32_t>& tokens,
                       const PerplexityOptions& options) {
  const LogitsFileShape& shape = base.shape();
  if (shape.n_vocab != model.hparams().n_vocab) {
    fail("{}: saved with a vocabulary of {} tokens, but this model has {}; compare models that share a vocabulary",
         base.path(), shape.n_vocab, model.hparams().n_vocab);
  }
  if (shape.n_ctx != options.n_ctx) {
    fail("{}: saved with context size {}, but this run uses {}; run with -c {}", base.path(), shape.n_ctx,
         options.n_ctx, shape.n_ctx);
  }

  const std::vector<int32_t>& saved = base.tokens();
  if (saved.size() > tokens.size()) {
    fail("{}: saved from a text of at least {} tokens, but this text has {}; use the text the logits were saved from",
         base.path(), saved.size(), tokens.size());
  }
  auto mismatch = std::mismatch(saved.begin(), saved.end(), tokens.begin());
  if (mismatch.first != saved.end()) {
    fail("{}: saved from another text: token {} is {} in the file but {} in this text; use the same text file",
         base.path(), mismatch.first - saved.begin(), *mismatch.first, *mismatch.second);
  }

  uint32_t n_chunks = shape.n_chunks;
  if (options.max_chunks > 0) n_chunks = std::min<uint32_t>(n_chunks, options.max_chunks);
  return n_chunks;
}

// Totals over every scored position.
struct Totals {
  uint64_t count = 0;
  Sums nll;
  // With a KL base only.
  Sums nll_base;
  Sums nll_difference;
  Sums kl;
  double kl_max = 0.0;
  uint64_t same_top1 = 0;
};

}  // namespace

PerplexityResult evaluate_perplexity(const Model& model, const std::string& text, const PerplexityOptions& options,
                                     ThreadPool& pool, const std::function<void(uint32_t, uint32_t)>& progress) {
  const auto start_time = std::chrono::steady_clock::now();
  check_options(model, options);
  const uint32_t n_ctx = options.n_ctx;
  const uint32_t n_batch = std::min(options.n_batch, n_ctx);
  const size_t n_vocab = model.hparams().n_vocab;
  const Tokenizer& tokenizer = model.tokenizer();

  // Special-token texts stay plain text, as llama-perplexity tokenizes.
  const std::vector<int32_t> tokens = tokenizer.encode(text, /*add_bos=*/true, /*parse_special=*/false);
  const std::vector<int32_t> prefix = tokenizer.encode("", /*add_bos=*/true, /*parse_special=*/false);
  const bool add_bos = !prefix.empty() && prefix.front() == tokenizer.bos_id();
  if (tokens.size() < 2 * static_cast<size_t>(n_ctx)) {
    fail("the text has {} tokens, but context size {} needs at least {} (two windows); use a longer text or a "
         "smaller -c",
         tokens.size(), n_ctx, 2 * static_cast<size_t>(n_ctx));
  }

  // Targets index the logits rows, and the last one of each window is never evaluated, so check them here.
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || static_cast<size_t>(tokens[i]) >= n_vocab) {
      fail("token {} at position {} of the text is outside the model's {} logits; the tokenizer and the model "
           "disagree on the vocabulary size",
           tokens[i], i, n_vocab);
    }
  }

  uint32_t n_chunks = static_cast<uint32_t>(std::min<size_t>(tokens.size() / n_ctx, UINT32_MAX));
  if (options.max_chunks > 0) n_chunks = std::min<uint32_t>(n_chunks, options.max_chunks);

  std::unique_ptr<LogitsFileReader> base;
  if (!options.kl_base_path.empty()) {
    base = std::make_unique<LogitsFileReader>(options.kl_base_path);
    n_chunks = check_kl_base(*base, model, tokens, options);
  }
  const std::span<const int32_t> scored_tokens(tokens.data(), static_cast<size_t>(n_chunks) * n_ctx);

  std::unique_ptr<LogitsFileWriter> writer;
  if (!options.save_logits_path.empty()) {
    writer = std::make_unique<LogitsFileWriter>(
        options.save_logits_path, LogitsFileShape{n_ctx, static_cast<uint32_t>(n_vocab), n_chunks}, scored_tokens);
  }

  // Positions first .. n_ctx - 2 of each window are scored: each predicts the next token.
  const uint32_t first = n_ctx / 2;
  const uint32_t per_chunk = scored_per_chunk(n_ctx);
  const size_t record_bytes = log_prob_record_bytes(n_vocab);
  std::vector<double> nll(per_chunk);
  std::vector<BaseComparison> comparisons(base ? per_chunk : 0);
  std::vector<uint8_t> records(writer ? per_chunk * record_bytes : 0);

  PerplexityResult result;
  result.n_tokens = tokens.size();
  result.n_chunks = n_chunks;
  Totals totals;
  Context context(model, n_ctx, pool, n_batch);
  std::vector<int32_t> window(n_ctx);
  if (progress) progress(0, n_chunks);

  for (uint32_t chunk = 0; chunk < n_chunks; ++chunk) {
    const size_t chunk_start = static_cast<size_t>(chunk) * n_ctx;
    std::copy_n(tokens.begin() + chunk_start, n_ctx, window.begin());
    if (add_bos) window[0] = tokenizer.bos_id();
    context.reset();

    // The first half only fills the cache, and the last position predicts
    // nothing that is scored, so neither needs logits.
    for (uint32_t pos = 0; pos < first; pos += n_batch) {
      context.eval(window.data() + pos, std::min(n_batch, first - pos), LogitsMode::kNone);
    }
    for (uint32_t pos = first; pos < n_ctx - 1; pos += n_batch) {
      const uint32_t n = std::min(n_batch, n_ctx - 1 - pos);
      const float* logits = context.eval(window.data() + pos, n, LogitsMode::kAll);

      // Targets are the text's own tokens, never the BOS put in its place.
      pool.parallel_for(n, [&](size_t begin, size_t end) {
        for (size_t row = begin; row < end; ++row) {
          const size_t index = pos + row - first;
          const float* row_logits = logits + row * n_vocab;
          const int32_t target = tokens[chunk_start + pos + row + 1];
          if (base) {
            comparisons[index] = compare_with_base(row_logits, n_vocab, target, base->record(chunk, index));
          } else if (writer) {
            nll[index] = encode_log_probs(row_logits, n_vocab, target, records.data() + index * record_bytes);
          } else {
            nll[index] = negative_log_likelihood(row_logits, n_vocab, target);
          }
        }
      });
    }

    // Summed in position order, so the totals do not depend on the thread count.
    for (uint32_t index = 0; index < per_chunk; ++index) {
      if (base) {
        const BaseComparison& c = comparisons[index];
        totals.nll.add(c.nll);
        totals.nll_base.add(c.nll_base);
        totals.nll_difference.add(c.nll - c.nll_base);
        totals.kl.add(c.kl);
        totals.kl_max = std::max(totals.kl_max, c.kl);
        totals.same_top1 += c.same_top1 ? 1 : 0;
      } else {
        totals.nll.add(nll[index]);
      }
    }
    totals.count += per_chunk;
    if (writer) writer->write_chunk(records);

    result.chunk_ppl.push_back(std::exp(totals.nll.sum / static_cast<double>(totals.count)));
    if (progress) progress(chunk + 1, n_chunks);
  }
  if (writer) writer->finish();

  result.n_scored = totals.count;
  result.ppl = perplexity_estimate(totals.nll, totals.count);
  if (base) {
    result.has_kl = true;
    result.base_ppl = perplexity_estimate(totals.nll_base, totals.count);
    result.kl_mean = mean_with_error(totals.kl, totals.count);
    result.kl_max = totals.kl_max;

    const double rate = static_cast<double>(totals.same_top1) / static_cast<double>(totals.count);
    const double rate_error = totals.count > 1 ? std::sqrt(rate * (1.0 - rate) / static_cast<double>(totals.count - 1)) : 0.0;
    result.same_top1 = {rate, rate_error};

    result.ln_ppl_ratio = mean_with_error(totals.nll_difference, totals.count);
    result.ppl_ratio = exp_estimate(result.ln_ppl_ratio);
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
  return result;
}

}  // namespace edgelm
