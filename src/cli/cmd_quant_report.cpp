// edgelm quant-report: quantize a base model to several types and compare
// their size, perplexity, divergence from the base and decode speed.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/temp_file_cleanup.h"
#include "eval/quant_report.h"

namespace edgelm::cli {
namespace {

struct QuantReportCliOptions {
  QuantReportOptions report;
  ModelOptions threads;  // only -t
  std::string text_path;
  std::string output_dir = ".";
};

void write_text_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) fail("{}: writing the report failed: {}; check that -o names a writable directory", path, std::strerror(errno));
}

int quant_report(QuantReportCliOptions& options) {
  options.report.text = read_text_file(options.text_path);
  options.report.text_name = options.text_path;
  options.report.threads = thread_count(options.threads);

  // The output folder is checked before the long measurement starts, but
  // created only after it, so a failed run leaves no empty folder.
  std::error_code error;
  const std::filesystem::path output(options.output_dir);
  if (std::filesystem::exists(output, error) && !std::filesystem::is_directory(output, error)) {
    fail("{}: is a file, not a directory; pass a directory for the report with -o", options.output_dir);
  }
  const std::filesystem::path parent = std::filesystem::absolute(output, error).parent_path();
  if (!std::filesystem::exists(output, error) && !std::filesystem::is_directory(parent, error)) {
    fail("{}: the parent directory {} does not exist; pass a directory for the report with -o", options.output_dir,
         parent.string());
  }

  const QuantReport report = run_quant_report(options.report);

  std::filesystem::create_directories(output, error);
  if (error || !std::filesystem::is_directory(output)) {
    fail("{}: creating the output directory failed: {}; pass a writable directory with -o", options.output_dir,
         error ? error.message() : "a file of that name exists");
  }

  const std::filesystem::path output_dir(options.output_dir);
  const std::string json_path = (output_dir / "report.json").string();
  const std::string chart_path = (output_dir / "report.svg").string();
  write_text_file(json_path, format_report_json(report));
  write_text_file(chart_path, render_report_chart(report));

  std::fputs(format_report_markdown(report).c_str(), stdout);
  std::fprintf(stderr, "wrote %s and %s\n", json_path.c_str(), chart_path.c_str());
  return 0;
}

}  // namespace

CommandRunner add_quant_report_command(CLI::App& app) {
  auto options = std::make_shared<QuantReportCliOptions>();
  QuantReportOptions& report = options->report;
  CLI::App* command = app.add_subcommand(
      "quant-report",
      "quantize a model to several types and compare size, perplexity, KL divergence from the base and decode speed");

  command->add_option("-m,--model", report.base_path,
                      "base model: GGUF file with f32, f16 or bf16 weights, or Hugging Face model directory")
      ->required();
  command->add_option("-f,--file", options->text_path, "text file to measure perplexity and KL divergence on")
      ->required();
  command->add_option("--types", report.types, "quantization types to compare, comma-separated, any case")
      ->delimiter(',')
      ->capture_default_str();
  command->add_option("-c,--ctx-size", report.n_ctx, "tokens per perplexity window")
      ->check(CLI::Range(8, 1 << 20))
      ->capture_default_str();
  command->add_option("--chunks", report.max_chunks, "windows to score; -1 scores all that fit (default -1)")
      ->check(CLI::Range(-1, 1 << 30));
  command->add_option("-t,--threads", options->threads.threads, "threads; 0 means one per online CPU (default 0)")
      ->check(CLI::Range(0, 1024));
  command->add_option("-o,--output-dir", options->output_dir,
                      "directory for report.json and report.svg, created if missing")
      ->capture_default_str();
  command->add_option("--max-kl", report.max_kl, "recommend only types with at most this mean KL divergence, in nats")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  command->add_option("--min-same-top1", report.min_same_top1,
                      "recommend only types that pick the base's top token at least this fraction of the time (0 to 1)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  command->add_option("--decode-tokens", report.decode_tokens, "tokens generated per decode speed run")
      ->check(CLI::Range(1, 1 << 16))
      ->capture_default_str();

  return [options] {
    // A signal that ends the process deletes the quantized file and the saved base logits.
    // NOTE: the temporary folder itself, then empty, stays behind in that case.
    install_temp_file_cleanup();
    return quant_report(*options);
  };
}

}  // namespace edgelm::cli
