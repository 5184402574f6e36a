// edgelm logits: print the top logits at every prompt position, one JSON object a line.

#include <algorithm>
#include <cstdio>
#include <numeric>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "model/context.h"

namespace edgelm::cli {
namespace {

struct LogitsOptions {
  ModelOptions model;
  int32_t top = 8;
};

int print_logits(const LogitsOptions& options) {
  if (options.top < 1) fail("--top {} is invalid; give the number of logits to list per position, 1 or more", options.top);
  uint32_t threads = thread_count(options.model);
  auto model = load_model(options.model);
  std::vector<int32_t> prompt = prompt_tokens(options.model, *model);
  uint32_t n_ctx = options.model.n_ctx > 0 ? context_length(options.model, *model)
                                           : std::min<uint32_t>(model->hparams().n_ctx_train,
                                                                std::max<uint32_t>(prompt.size(), 1));
  if (prompt.size() > n_ctx) fail("the prompt has {} tokens but the context has room for {}; raise -c", prompt.size(), n_ctx);

  ThreadPool pool(threads);
  Context context(*model, n_ctx, pool);
  const float* logits = context.eval(prompt.data(), prompt.size(), LogitsMode::kAll);

  const size_t n_vocab = model->hparams().n_vocab;
  const size_t top = std::min<size_t>(options.top, n_vocab);
  std::vector<int32_t> order(n_vocab);
  for (size_t pos = 0; pos < prompt.size(); ++pos) {
    const float* row = logits + pos * n_vocab;
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + top, order.end(), [row](int32_t a, int32_t b) {
      return row[a] > row[b] || (row[a] == row[b] && a < b);
    });

    nlohmann::json line;
    line["pos"] = pos;
    line["top"] = nlohmann::json::array();
    for (size_t i = 0; i < top; ++i) line["top"].push_back({order[i], row[order[i]]});
    std::printf("%s\n", line.dump().c_str());
  }
  return 0;
}

}  // namespace

CommandRunner add_logits_command(CLI::App& app) {
  auto options = std::make_shared<LogitsOptions>();
  CLI::App* command = app.add_subcommand("logits", "print the highest logits at every prompt position as JSON lines");
  add_model_options(*command, options->model, /*with_prompt=*/true);
  command->add_option("--top", options->top, "logits to list per position (default 8)");

  return [options, command] {
    if (command->count("--prompt") == 0 && options->model.prompt_ids.empty()) {
      fail("no prompt: give text with -p or token ids with --prompt-ids");
    }
    return print_logits(*options);
  };
}

}  // namespace edgelm::cli
