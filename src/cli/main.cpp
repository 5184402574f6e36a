// edgelm: run Gemma 2 and Llama GGUF models on the CPU.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"

namespace {

constexpr const char* kVersion = "edgelm 0.1.0";

// "an integer" for an option whose CLI11 type name is INT, and so on.
std::string expected_value(const std::string& type_name) {
  if (type_name == "INT") return "an integer";
  if (type_name == "UINT") return "a non-negative integer";
  if (type_name == "FLOAT") return "a number";
  return "a value of type " + type_name;
}

// Every name of an option, short ones first: "-n/--n-gen", or "--temp".
std::string option_names(const CLI::Option& option) {
  std::string names;
  for (const std::string& name : option.get_snames()) names += (names.empty() ? "-" : "/-") + name;
  for (const std::string& name : option.get_lnames()) names += (names.empty() ? "--" : "/--") + name;
  return names;
}

// Rewrites CLI11's "Could not convert: --n-gen = abc" as "invalid value 'abc'
// for -n/--n-gen: expected an integer", naming the option whichever form was
// typed. Other messages are returned unchanged.
std::string explain_conversion(const CLI::App& command, const std::string& message) {
  const std::string prefix = "Could not convert: ";
  const size_t equals = message.find(" = ");
  if (message.rfind(prefix, 0) != 0 || equals == std::string::npos) return message;

  const std::string name = message.substr(prefix.size(), equals - prefix.size());
  const std::string value = message.substr(equals + 3);
  const CLI::Option* option = command.get_option_no_throw(name);
  if (option == nullptr) return message;
  return fmt::format("invalid value '{}' for {}: expected {}", value, option_names(*option),
                     expected_value(option->get_type_name()));
}

// Prints a command-line mistake as one error line, as every other error is.
// A mistake within a command points to that command's help; one in the
// command name lists the commands.
int report_parse_error(const CLI::App& app, const CLI::ParseError& e, int argc, char** argv) {
  std::string message = e.what();
  const CLI::App* command = nullptr;
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (argc >= 2 && sub->get_name() == argv[1]) command = sub;
  }
  if (command != nullptr) {
    if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr) message = explain_conversion(*command, message);
    std::fprintf(stderr, "error: %s (see 'edgelm %s --help')\n", message.c_str(), command->get_name().c_str());
    return 1;
  }

  if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && argc >= 2 && argv[1][0] != '-' &&
      message.find("subcommand") != std::string::npos) {
    message = fmt::format("unknown command '{}'", argv[1]);
  }
  std::string commands;
  for (const CLI::App* sub : app.get_subcommands({})) commands += (commands.empty() ? "" : ", ") + sub->get_name();
  std::fprintf(stderr, "error: %s (commands: %s; see 'edgelm COMMAND --help')\n", message.c_str(), commands.c_str());
  return 1;
}

// Fails when stdout could not be written completely, for example on a full disk.
int check_stdout() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::fprintf(stderr, "error: writing to standard output failed: %s\n", std::strerror(errno));
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"edgelm: run Gemma 2 and Llama models from GGUF files or Hugging Face directories"};
  app.require_subcommand(1);
  app.fallthrough();  // global options such as --log-level may follow the command
  app.set_version_flag("--version", kVersion);
  std::string log_level = "info";
  app.add_option("--log-level", log_level,
                 "stderr log level: debug, info, warn, error, off (default info); "
                 "the speed line of 'run' is printed at every level")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "off"}));

  // A repeated option takes its last value, as in llama.cpp's tools.
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);

  std::map<std::string, edgelm::cli::CommandRunner> commands;
  commands["run"] = edgelm::cli::add_run_command(app);
  commands["tokenize"] = edgelm::cli::add_tokenize_command(app);
  commands["logits"] = edgelm::cli::add_logits_command(app);
  commands["quantize"] = edgelm::cli::add_quantize_command(app);
  commands["chat"] = edgelm::cli::add_chat_command(app);
  commands["template"] = edgelm::cli::add_template_command(app);
  commands["serve"] = edgelm::cli::add_serve_command(app);
  commands["convert"] = edgelm::cli::add_convert_command(app);
  commands["perplexity"] = edgelm::cli::add_perplexity_command(app);
  commands["quant-report"] = edgelm::cli::add_quant_report_command(app);
  commands["plan"] = edgelm::cli::add_plan_command(app);
  commands["synth"] = edgelm::cli::add_synth_command(app);
  commands["bench"] = edgelm::cli::add_bench_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version requests exit 0 through CLI11; mistakes become one error line.
    if (e.get_exit_code() == 0) return app.exit(e);
    return report_parse_error(app, e, argc, argv);
  }

  edgelm::init_logging(log_level);
  int status = 0;
  try {
    for (auto* sub : app.get_subcommands()) status = commands.at(sub->get_name())();
  } catch (const edgelm::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal failure: %s\n", e.what());
    return 2;
  }
  return status != 0 ? status : check_stdout();
}
