#pragma once
// The edgelm subcommands. Each registers its options on the app and returns
// the function that runs it once the command line is parsed.

#include <functional>

#include <CLI/CLI.hpp>

namespace edgelm::cli {

using CommandRunner = std::function<int()>;

CommandRunner add_run_command(CLI::App& app);
CommandRunner add_tokenize_command(CLI::App& app);
CommandRunner add_logits_command(CLI::App& app);
CommandRunner add_quantize_command(CLI::App& app);
CommandRunner add_chat_command(CLI::App& app);
CommandRunner add_template_command(CLI::App& app);
CommandRunner add_serve_command(CLI::App& app);
CommandRunner add_convert_command(CLI::App& app);
CommandRunner add_perplexity_command(CLI::App& app);
CommandRunner add_quant_report_command(CLI::App& app);
CommandRunner add_plan_command(CLI::App& app);
CommandRunner add_synth_command(CLI::App& app);
CommandRunner add_bench_command(CLI::App& app);

}  // namespace edgelm::cli
