// edgelm: run Gemma 2 and Llama GGUF models on the CPU.

#include <cstdio>
#include <exception>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"

int main(int argc, char** argv) {
  CLI::App app{"edgelm: run Gemma 2 and Llama models from GGUF files"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "stderr log level: debug, info, warn, error, off (default info)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::map<std::string, edgelm::cli::CommandRunner> commands;
  commands["run"] = edgelm::cli::add_run_command(app);
  commands["tokenize"] = edgelm::cli::add_tokenize_command(app);
  commands["logits"] = edgelm::cli::add_logits_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  edgelm::init_logging(log_level);
  try {
    for (auto* sub : app.get_subcommands()) return commands.at(sub->get_name())();
  } catch (const edgelm::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal failure: %s\n", e.what());
    return 2;
  }
  return 0;
}
