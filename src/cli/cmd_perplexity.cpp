// edgelm perplexity: perplexity of a model over a text file, and its KL
// divergence from a base model's saved distributions.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "eval/perplexity.h"

namespace edgelm::cli {
namespace {

struct PerplexityCommandOptions {
  ModelOptions model;
  std::string text_path;
  uint32_t n_batch = 2048;
  int32_t max_chunks = -1;
  std::string save_logits_path;
  std::string kl_base_path;
  bool json = false;
};

// -c resolved: 0 means the trained context. A longer window is an error here
// (evaluate_perplexity rejects it too), where other commands only warn.
uint32_t window_size(int64_t n_ctx, const Model& model) {
  const uint32_t trained = model.hparams().n_ctx_train;
  if (n_ctx < 0) fail("-c {} is invalid; give a number of tokens, or 0 for the trained length {}", n_ctx, trained);
  if (n_ctx == 0) return trained;
  if (n_ctx > trained) {
    fail("context size {} is larger than the {} tokens the model was trained on; use -c {} or less", n_ctx, trained,
         trained);
  }
  return static_cast<uint32_t>(n_ctx);
}

nlohmann::json result_json(const PerplexityResult& result, uint32_t n_ctx) {
  nlohmann::json json;
  json["ppl"] = result.ppl.value;
  json["ppl_stderr"] = result.ppl.error;
  json["n_tokens"] = result.n_tokens;
  json["n_chunks"] = result.n_chunks;
  json["n_ctx"] = n_ctx;
  json["n_scored"] = result.n_scored;
  json["chunk_ppl"] = result.chunk_ppl;
  json["seconds"] = result.seconds;
  if (result.has_kl) {
    json["base_ppl"] = result.base_ppl.value;
    json["base_ppl_stderr"] = result.base_ppl.error;
    json["kl_mean"] = result.kl_mean.value;
    json["kl_mean_stderr"] = result.kl_mean.error;
    json["kl_max"] = result.kl_max;
    json["same_top1"] = result.same_top1.value;
    json["same_top1_stderr"] = result.same_top1.error;
    json["ln_ppl_ratio"] = result.ln_ppl_ratio.value;
    json["ln_ppl_ratio_stderr"] = result.ln_ppl_ratio.error;
    json["ppl_ratio"] = result.ppl_ratio.value;
    json["ppl_ratio_stderr"] = result.ppl_ratio.error;
  }
  return json;
}

// The running perplexity after each window, then the final lines, in the
// form llama-perplexity prints them.
void print_text(const PerplexityResult& result) {
  for (size_t i = 0; i < result.chunk_ppl.size(); ++i) std::printf("[%zu]%.4f,", i + 1, result.chunk_ppl[i]);
  std::printf("\n");
  std::printf("Final estimate: PPL = %.4f +/- %.5f\n", result.ppl.value, result.ppl.error);
  if (!result.has_kl) return;

  std::printf("Mean PPL(Q)                   : %10.6f +/- %10.6f\n", result.ppl.value, result.ppl.error);
  std::printf("Mean PPL(base)                : %10.6f +/- %10.6f\n", result.base_ppl.value, result.base_ppl.error);
  std::printf("Mean ln(PPL(Q)/PPL(base))     : %10.6f +/- %10.6f\n", result.ln_ppl_ratio.value,
              result.ln_ppl_ratio.error);
  std::printf("Mean PPL(Q)/PPL(base)         : %10.6f +/- %10.6f\n", result.ppl_ratio.value, result.ppl_ratio.error);
  std::printf("Mean    KLD: %10.6f +/- %10.6f\n", result.kl_mean.value, result.kl_mean.error);
  std::printf("Maximum KLD: %10.6f\n", result.kl_max);
  std::printf("Same top p: %6.3f +/- %5.3f %%\n", 100.0 * result.same_top1.value, 100.0 * result.same_top1.error);
}

int run_perplexity(const PerplexityCommandOptions& options) {
  uint32_t threads = thread_count(options.model);
  const std::string text = read_text_file(options.text_path);
  auto model = load_model(options.model);

  PerplexityOptions perplexity;
  perplexity.n_ctx = window_size(options.model.n_ctx, *model);
  perplexity.n_batch = options.n_batch;
  perplexity.max_chunks = options.max_chunks;
  perplexity.save_logits_path = options.save_logits_path;
  perplexity.kl_base_path = options.kl_base_path;

  ThreadPool pool(threads);
  spdlog::info("perplexity over {}: context {} tokens, batch {}, {} threads", options.text_path, perplexity.n_ctx,
               std::min(perplexity.n_batch, perplexity.n_ctx), pool.size());

  // The window count is known only after tokenizing, so the bar starts at the first report.
  std::unique_ptr<ProgressBar> bar;
  auto progress = [&bar](uint32_t done, uint32_t total) {
    if (!bar) bar = std::make_unique<ProgressBar>("perplexity", total);
    bar->advance(done - bar->done());
    if (done == total) bar->finish();
  };
  PerplexityResult result = evaluate_perplexity(*model, text, perplexity, pool, progress);
  bar.reset();

  if (options.json) {
    std::printf("%s\n", result_json(result, perplexity.n_ctx).dump().c_str());
  } else {
    print_text(result);
  }
  if (!options.save_logits_path.empty()) spdlog::info("saved the base distributions to {}", options.save_logits_path);
  return 0;
}

}  // namespace

CommandRunner add_perplexity_command(CLI::App& app) {
  auto options = std::make_shared<PerplexityCommandOptions>();
  options->model.n_ctx = 512;
  CLI::App* command = app.add_subcommand(
      "perplexity", "measure perplexity over a text file as llama-perplexity does, and KL divergence from a base model");

  command->add_option("-m,--model", options->model.model_path, "GGUF model file or Hugging Face model directory")
      ->required();
  command->add_option("-f,--file", options->text_path, "text file to score")->required();
  command->add_option("-c,--ctx-size", options->model.n_ctx,
                      "tokens per window; 0 means the model's trained length (default 512)");
  command->add_option("-b,--batch-size", options->n_batch,
                      "tokens per forward pass, capped at the window size (default 2048)");
  command->add_option("--chunks", options->max_chunks, "windows to score; -1 scores all that fit (default -1)");
  command->add_option("-t,--threads", options->model.threads, "threads; 0 means one per online CPU (default 0)");
  command->add_option("--isa", options->model.isa,
                      "highest SIMD instruction set to use: auto, avx3, avx2, sse4, ssse3, scalar "
                      "(default: EDGELM_ISA or auto)");
  command->add_flag("--mmap", options->model.mmap, kMmapHelp);
  auto* save = command->add_option("--save-logits", options->save_logits_path,
                                   "write this model's distributions to a file, as the base for --kl-base");
  auto* base = command->add_option("--kl-base", options->kl_base_path,
                                   "compare with distributions saved by --save-logits (same text and -c)");
  save->excludes(base);
  base->excludes(save);
  command->add_flag("--json", options->json, "print the results as one JSON object on stdout");

  return [options] { return run_perplexity(*options); };
}

}  // namespace edgelm::cli
