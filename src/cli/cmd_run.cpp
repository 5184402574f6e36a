// edgelm run: generate text from a prompt; only the generated text goes to stdout.

#include <unistd.h>

#include <cstdio>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/generator.h"

namespace edgelm::cli {
namespace {

struct RunOptions {
  ModelOptions model;
  int32_t n_predict = -1;
  int64_t seed = -1;  // -1: random
  SamplerConfig sampler;
};

int run(RunOptions options) {
  if (options.n_predict < -1) {
    fail("-n {} is invalid; give a number of tokens, or -1 to generate until the end of generation", options.n_predict);
  }
  if (options.seed < -1) fail("--seed {} is invalid; give 0 or more, or -1 for a random seed", options.seed);
  options.sampler.seed = options.seed == -1 ? 0xFFFFFFFFu : static_cast<uint64_t>(options.seed);
  Sampler sampler(options.sampler);
  uint32_t threads = thread_count(options.model);

  auto model = load_model(options.model);
  std::vector<int32_t> prompt = prompt_tokens(options.model, *model);
  uint32_t n_ctx = context_length(options.model, *model);

  // -n -1 generates until an end-of-generation token or the context is full.
  int32_t n_predict = options.n_predict;
  if (n_predict < 0) {
    if (prompt.size() >= n_ctx) {
      fail("the prompt has {} tokens but the context has room for {}; raise -c or shorten the prompt", prompt.size(), n_ctx);
    }
    n_predict = static_cast<int32_t>(n_ctx - prompt.size());
  }

  ThreadPool pool(threads);
  Context context(*model, n_ctx, pool);
  spdlog::info("context {} tokens, {} threads, prompt {} tokens, seed {}", n_ctx, pool.size(), prompt.size(),
               sampler.seed());

  bool ends_with_newline = true;
  GenerationStats stats = generate(context, prompt, n_predict, sampler, [&](std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    ends_with_newline = text.back() == '\n';
    return true;
  });
  // End the output with a newline, so a shell prompt does not follow the text on its line.
  if (!ends_with_newline) std::fputc('\n', stdout);

  // In a terminal, a blank line sets the speed line apart from the text.
  if (::isatty(STDOUT_FILENO) && ::isatty(STDERR_FILENO)) std::fputc('\n', stderr);
  std::fprintf(stderr, "prefill: %zu tokens in %.3f s (%.1f tok/s); decode: %zu tokens in %.3f s (%.1f tok/s)\n",
               stats.n_prompt, stats.prefill_seconds, stats.prefill_tokens_per_second(), stats.n_generated,
               stats.decode_seconds, stats.decode_tokens_per_second());
  return 0;
}

}  // namespace

CommandRunner add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* command = app.add_subcommand("run", "generate text from a prompt");
  add_model_options(*command, options->model, /*with_prompt=*/true);

  SamplerConfig& s = options->sampler;
  command->add_option("-n,--n-predict", options->n_predict,
                      "tokens to generate (default -1: until end of generation or a full context)");
  command->add_option("--temp", s.temperature, "sampling temperature; 0 is greedy (default 0.8)");
  command->add_option("--top-k", s.top_k, "keep the k most likely tokens; 0 keeps all (default 40)");
  command->add_option("--top-p", s.top_p, "keep the smallest set with this total probability; 1 keeps all (default 0.95)");
  command->add_option("--min-p", s.min_p, "drop tokens below this fraction of the top probability (default 0.05)");
  command->add_option("--repeat-penalty", s.repeat_penalty, "penalty for recently seen tokens; 1 disables (default 1)");
  command->add_option("--repeat-last-n", s.repeat_last_n, "how many recent tokens the penalty covers (default 64)");
  command->add_option("--seed", options->seed, "random seed for sampling; -1 picks one and logs it (default -1)");

  return [options, command] {
    if (command->count("--prompt") == 0 && options->model.prompt_ids.empty()) {
      fail("no prompt: give text with -p or token ids with --prompt-ids");
    }
    return run(*options);
  };
}

}  // namespace edgelm::cli
