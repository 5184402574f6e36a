// edgelm bench: prefill and decode speed of a model file on this machine,
// with the memory-bandwidth roofline of decoding.

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench/model_bench.h"
#include "cli/commands.h"
#include "cli/options.h"
#include "gguf/gguf_file.h"
#include "core/count_noun.h"
#include "core/error.h"
#include "kernels/matvec.h"

namespace edgelm::cli {
namespace {

// Limits of the options. Larger values are typing mistakes rather than
// benchmarks: a prompt of 64 Ki tokens is evaluated in a single batch.
constexpr int64_t kMaxTokens = 65536;
constexpr int64_t kMaxRepetitions = 1000;
constexpr int64_t kMaxThreads = 1024;
constexpr int64_t kMaxBandwidthMib = int64_t{1} << 20;

struct BenchOptions {
  std::string model_path;
  int64_t n_prompt = 512;
  int64_t n_gen = 128;
  int64_t n_threads = 0;
  int64_t repetitions = 5;
  int64_t bandwidth_mib = 0;
  std::string isa;
  bool mmap = false;
  bool json = false;
};

void check_options(const BenchOptions& options) {
  if (options.n_prompt < 0 || options.n_prompt > kMaxTokens) {
    fail("-p {} is invalid; give 0 to {} prompt tokens (0 skips the prefill test)", options.n_prompt, kMaxTokens);
  }
  if (options.n_gen < 0 || options.n_gen > kMaxTokens) {
    fail("-n {} is invalid; give 0 to {} generated tokens (0 skips the decode test)", options.n_gen, kMaxTokens);
  }
  if (options.n_prompt == 0 && options.n_gen == 0) {
    fail("-p 0 and -n 0 leave nothing to measure; give a positive -p or -n");
  }
  if (options.repetitions < 1 || options.repetitions > kMaxRepetitions) {
    fail("-r {} is invalid; give 1 to {} repetitions", options.repetitions, kMaxRepetitions);
  }
  if (options.n_threads < 0 || options.n_threads > kMaxThreads) {
    fail("-t {} is invalid; give 1 to {} threads, or 0 for one per online CPU", options.n_threads, kMaxThreads);
  }
  if (options.bandwidth_mib < 0 || options.bandwidth_mib > kMaxBandwidthMib) {
    fail("--bandwidth-mib {} is invalid; give 1 to {} MiB, or 0 for the default", options.bandwidth_mib,
         kMaxBandwidthMib);
  }
  check_model_path_exists(options.model_path);
}

// "1.23 GiB" from 1 GiB up, "12.34 MiB" from 1 MiB up, else "12.34 KiB".
std::string human_size(uint64_t bytes) {
  const double kib = static_cast<double>(bytes) / 1024.0;
  if (kib >= 1024.0 * 1024.0) return fmt::format("{:.2f} GiB", kib / (1024.0 * 1024.0));
  if (kib >= 1024.0) return fmt::format("{:.2f} MiB", kib / 1024.0);
  return fmt::format("{:.2f} KiB", kib);
}

void print_line(const std::string& line) { std::printf("%s\n", line.c_str()); }

// Columns that UTF-8 `text` takes in a terminal, counting each code point as
// one: continuation bytes (10xxxxxx) do not start a column.
size_t display_width(const std::string& text) {
  size_t columns = 0;
  for (unsigned char byte : text) columns += (byte & 0xC0) != 0x80 ? 1 : 0;
  return columns;
}

// A markdown table like llama-bench's: one row per test, t/s as median ± stddev.
void print_speed_table(const BenchReport& report) {
  struct Row {
    std::string test;
    std::string speed;
  };
  std::vector<Row> rows;
  if (report.prefill) {
    rows.push_back({fmt::format("pp{}", report.n_prompt),
                    fmt::format("{:.2f} ± {:.2f}", report.prefill->tok_s.median, report.prefill->tok_s.stddev)});
  }
  if (report.decode) {
    rows.push_back({fmt::format("tg{}", report.n_gen),
                    fmt::format("{:.2f} ± {:.2f}", report.decode->tok_s.median, report.decode->tok_s.stddev)});
  }

  const std::string model =
      fmt::format("{} ({})", std::filesystem::path(report.model_path).filename().string(), report.architecture);
  const std::string size = human_size(report.weights_bytes);
  const std::string threads = std::to_string(report.n_threads);
  const size_t model_width = std::max<size_t>(model.size(), 5);
  const size_t size_width = std::max<size_t>(size.size(), 4);
  size_t test_width = 4;
  size_t speed_width = 3;
  for (const Row& row : rows) {
    test_width = std::max(test_width, row.test.size());
    speed_width = std::max(speed_width, display_width(row.speed));
  }

  print_line(fmt::format("| {:<{}} | {:>{}} | {:>7} | {:<{}} | {:>{}} |", "model", model_width, "size", size_width,
                         "threads", "test", test_width, "t/s", speed_width));
  print_line(fmt::format("| {:-<{}} | {:->{}}: | {:->6}: | {:-<{}} | {:->{}}: |", "", model_width, "", size_width - 1, "",
                         "", test_width, "", speed_width - 1));
  for (const Row& row : rows) {
    // Padded by hand: fmt's width counts "±" as one column only in some versions.
    const std::string speed = std::string(speed_width - display_width(row.speed), ' ') + row.speed;
    print_line(fmt::format("| {:<{}} | {:>{}} | {:>7} | {:<{}} | {} |", model, model_width, size, size_width, threads,
                           row.test, test_width, speed));
  }
}

void print_text(const BenchReport& report) {
  print_speed_table(report);
  for (const std::string& warning : report.warnings) print_line("warning: " + warning);
  print_line("");
  print_line(fmt::format("cpu: {}; kernels: {}; load: {:.3f} s ({}); file: {}; resident after the tests: {}",
                         report.cpu, report.isa, report.load_s, report.mapped ? "mapped" : "read into memory",
                         human_size(report.file_bytes), human_size(report.rss_bytes)));
  print_line(fmt::format("KV cache: {} for a context of {} tokens", human_size(report.kv_bytes),
                         report.n_prompt + report.n_gen));

  const BandwidthResult& bandwidth = report.bandwidth;
  print_line(fmt::format("memory read bandwidth: {:.2f} GB/s, fastest of {} over {} with {} (median {:.2f} GB/s)",
                         bandwidth.best_gb_per_s, count_noun(bandwidth.pass_gb_per_s.size(), "pass", "passes"),
                         human_size(bandwidth.buffer_bytes), count_noun(bandwidth.n_threads, "thread"),
                         bandwidth.median_gb_per_s));
  print_line(fmt::format("bytes per decoded token: {:.2f} MB (weights {:.2f} MB, KV cache {:.3f} MB); "
                         "roofline {:.2f} tok/s",
                         report.bytes_per_token / 1e6, report.weight_bytes_per_token / 1e6,
                         report.kv_read_bytes_per_token / 1e6, report.roofline_tok_s));
  if (report.roofline_fraction) {
    print_line(fmt::format("decode reaches {:.1f} % of the roofline", 100.0 * *report.roofline_fraction));
  }
}

// prefill_tok_s and its spread, or nulls for a skipped test.
void add_speed_fields(nlohmann::json& json, const std::string& prefix, const std::optional<SpeedTest>& test) {
  if (!test) {
    for (const char* suffix : {"", "_min", "_max", "_stddev", "_samples"}) json[prefix + suffix] = nullptr;
    return;
  }
  json[prefix] = test->tok_s.median;
  json[prefix + "_min"] = test->tok_s.min;
  json[prefix + "_max"] = test->tok_s.max;
  json[prefix + "_stddev"] = test->tok_s.stddev;
  json[prefix + "_samples"] = test->samples_tok_s;
}

nlohmann::json report_json(const BenchReport& report, uint64_t seed) {
  nlohmann::json json;
  json["model"] = report.model_path;
  json["architecture"] = report.architecture;
  json["file_bytes"] = report.file_bytes;
  json["weights_bytes"] = report.weights_bytes;
  json["cpu"] = report.cpu;
  json["isa"] = report.isa;
  json["threads"] = report.n_threads;
  json["n_prompt"] = report.n_prompt;
  json["n_gen"] = report.n_gen;
  json["repetitions"] = report.repetitions;
  json["seed"] = seed;
  json["load_s"] = report.load_s;
  json["mapped"] = report.mapped;
  json["warnings"] = report.warnings;

  add_speed_fields(json, "prefill_tok_s", report.prefill);
  add_speed_fields(json, "decode_tok_s", report.decode);

  json["rss_bytes"] = report.rss_bytes;
  json["kv_bytes"] = report.kv_bytes;
  json["weight_bytes_per_token"] = report.weight_bytes_per_token;
  json["kv_read_bytes_per_token"] = report.kv_read_bytes_per_token;
  json["bytes_per_token"] = report.bytes_per_token;

  const BandwidthResult& bandwidth = report.bandwidth;
  json["bandwidth_gb_s"] = bandwidth.best_gb_per_s;
  json["bandwidth_method"] = fmt::format("fastest of {} passes", bandwidth.pass_gb_per_s.size());
  json["bandwidth_gb_s_median"] = bandwidth.median_gb_per_s;
  json["bandwidth_pass_gb_s"] = bandwidth.pass_gb_per_s;
  json["bandwidth_buffer_bytes"] = bandwidth.buffer_bytes;
  json["roofline_tok_s"] = report.roofline_tok_s;
  json["roofline_fraction"] = report.roofline_fraction ? nlohmann::json(*report.roofline_fraction) : nullptr;
  return json;
}

int run_bench(const BenchOptions& options) {
  check_options(options);

  // --isa wins over EDGELM_ISA, which init_isa applies.
  init_isa();
  if (!options.isa.empty()) set_max_isa(options.isa);

  BenchSettings settings;
  settings.model_path = options.model_path;
  settings.n_prompt = static_cast<uint32_t>(options.n_prompt);
  settings.n_gen = static_cast<uint32_t>(options.n_gen);
  settings.repetitions = static_cast<int>(options.repetitions);
  settings.n_threads = static_cast<size_t>(options.n_threads);
  settings.bandwidth_buffer_bytes = static_cast<uint64_t>(options.bandwidth_mib) << 20;
  settings.mmap = options.mmap;
  const BenchReport report = run_model_bench(settings);

  if (options.json) {
    print_line(report_json(report, settings.seed).dump());
  } else {
    print_text(report);
  }
  return 0;
}

}  // namespace

CommandRunner add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = app.add_subcommand(
      "bench", "measure prefill and decode speed of a model (as llama-bench does) and the memory-bandwidth roofline");
  command->add_option("-m,--model", options->model_path, "GGUF model file or Hugging Face model directory")->required();
  command->add_option("-p,--n-prompt", options->n_prompt,
                      "prompt tokens evaluated in one pass from an empty context; 0 skips the prefill test (default 512)");
  command->add_option("-n,--n-gen", options->n_gen,
                      "tokens decoded one at a time from an empty context; 0 skips the decode test (default 128)");
  command->add_option("-t,--threads", options->n_threads, "threads; 0 means one per online CPU (default 0)");
  command->add_option("-r,--repetitions", options->repetitions,
                      "timed runs of each test after one untimed warm-up run (default 5)");
  command->add_option("--bandwidth-mib", options->bandwidth_mib,
                      "MiB of the buffer read to measure memory bandwidth; 0 means 1024 or 4 times the last-level "
                      "cache, whichever is larger (default 0)");
  command->add_option("--isa", options->isa,
                      "highest SIMD instruction set to use: auto, avx3, avx2, sse4, ssse3, scalar (default: EDGELM_ISA or auto)");
  command->add_flag("--mmap", options->mmap, kMmapHelp);
  command->add_flag("--json", options->json, "print one JSON object instead of the table");

  return [options] { return run_bench(*options); };
}

}  // namespace edgelm::cli
