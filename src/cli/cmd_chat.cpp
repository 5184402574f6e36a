// edgelm chat: an interactive conversation in the terminal, or one message a line from a pipe.

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>

#include "chat/chat_template.h"
#include "chat/gguf_chat_template.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/log.h"
#include "engine/chat_session.h"

namespace edgelm::cli {
namespace {

struct ChatOptions {
  ModelOptions model;
  std::string system_prompt;
  int32_t n_predict = -1;
  int64_t seed = -1;
  SamplerConfig sampler;
};

// Ctrl-C stops the reply being generated; at the input prompt it ends the chat.
std::atomic<bool> g_cancel{false};
std::atomic<bool> g_generating{false};

void on_interrupt(int) {
  if (g_generating.load()) {
    g_cancel.store(true);
  } else {
    static const char kBye[] = "\n";
    [[maybe_unused]] ssize_t written = ::write(STDOUT_FILENO, kBye, sizeof(kBye) - 1);
    ::_exit(0);
  }
}

void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
}

// The model's own chat template, rendered with a generation prompt for the next reply.
ChatSession::Renderer make_renderer(const Model& model) {
  ModelChatTemplate chat_template = read_chat_template(model.file());
  return [chat_template](const std::vector<ChatMessage>& messages) {
    return apply_chat_template(chat_template.template_text, chat_template.bos_token, chat_template.eos_token, messages,
                               /*add_generation_prompt=*/true, chat_template.architecture);
  };
}

int chat(ChatOptions options) {
  if (options.n_predict < -1) fail("-n {} is invalid; give a number of tokens, or -1 for until the end of the turn", options.n_predict);
  if (options.seed < -1) fail("--seed {} is invalid; give 0 or more, or -1 for a random seed", options.seed);
  options.sampler.seed = options.seed == -1 ? 0xFFFFFFFFu : static_cast<uint64_t>(options.seed);
  Sampler sampler(options.sampler);
  uint32_t threads = thread_count(options.model);

  auto model = load_model(options.model);
  ThreadPool pool(threads);
  Context context(*model, context_length(options.model, *model), pool);
  if (options.n_predict >= static_cast<int32_t>(context.n_ctx())) {
    fail("-n {} does not fit in the context of {} tokens; lower -n or raise -c", options.n_predict, context.n_ctx());
  }
  ChatSession session(context, sampler, make_renderer(*model), options.system_prompt);

  const bool interactive = ::isatty(STDIN_FILENO) != 0;
  if (interactive) {
    install_interrupt_handler();
    std::fprintf(stderr, "chat with %s: /reset clears the history, /exit quits, Ctrl-C stops a reply\n",
                 options.model.model_path.c_str());
  }

  std::string line;
  for (;;) {
    if (interactive) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      session.reset();
      if (interactive) std::fputs("(history cleared)\n", stdout);
      continue;
    }
    if (line.empty()) continue;

    g_cancel.store(false);
    g_generating.store(true);
    GenerationStats stats;
    try {
      stats = session.reply(line, options.n_predict, [](std::string_view text) {
        std::fwrite(text.data(), 1, text.size(), stdout);
        std::fflush(stdout);
        return true;
      }, g_cancel);
    } catch (const Error& e) {
      g_generating.store(false);
      if (!interactive) throw;
      std::fprintf(stderr, "error: %s\n", e.what());
      continue;
    }
    g_generating.store(false);

    std::fputc('\n', stdout);
    std::fflush(stdout);
    if (stats.stop_reason == StopReason::kCancelled) std::fputs("(stopped)\n", stderr);
    if (stats.stop_reason == StopReason::kLength && context.n_past() + 1 >= context.n_ctx()) {
      std::fputs("(the context is full: /reset to start over, or raise -c)\n", stderr);
    }
    spdlog::debug("reply: {} tokens, {:.1f} tok/s", stats.n_generated, stats.decode_tokens_per_second());
  }
  return 0;
}

}  // namespace

CommandRunner add_chat_command(CLI::App& app) {
  auto options = std::make_shared<ChatOptions>();
  CLI::App* command = app.add_subcommand("chat", "chat with a model in the terminal, or one message a line from stdin");
  add_model_options(*command, options->model, /*with_prompt=*/false);

  SamplerConfig& s = options->sampler;
  command->add_option("--system", options->system_prompt, "system message (folded into the first user turn for Gemma)");
  command->add_option("-n,--n-predict", options->n_predict, "maximum tokens per reply (default -1: until the end of the turn)");
  command->add_option("--temp", s.temperature, "sampling temperature; 0 is greedy (default 0.8)");
  command->add_option("--top-k", s.top_k, "keep the k most likely tokens; 0 keeps all (default 40)");
  command->add_option("--top-p", s.top_p, "keep the smallest set with this total probability (default 0.95)");
  command->add_option("--min-p", s.min_p, "drop tokens below this fraction of the top probability (default 0.05)");
  command->add_option("--repeat-penalty", s.repeat_penalty, "penalty for recently seen tokens; 1 disables (default 1)");
  command->add_option("--seed", options->seed, "random seed; -1 picks one and logs it (default -1)");

  return [options] { return chat(*options); };
}

}  // namespace edgelm::cli
