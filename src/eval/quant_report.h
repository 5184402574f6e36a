#pragma once
// Quantization report: quantizes a base model to several types and measures
// each one's size, perplexity, divergence from the base and decode speed.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "eval/perplexity.h"

namespace edgelm {

struct QuantReportOptions {
  std::string base_path;  // GGUF file with f32, f16 or bf16 weights, or a Hugging Face directory
  std::string text;       // evaluation text
  std::string text_name;  // file the text came from, for the report
  std::vector<std::string> types = {"q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"};  // preset names, any case
  uint32_t n_ctx = 512;     // tokens per perplexity window
  int32_t max_chunks = -1;  // windows to score; -1: all that fit
  size_t threads = 0;       // 0: one per online CPU
  uint32_t decode_prompt_tokens = 16;  // prompt length of the speed runs, BOS included
  uint32_t decode_tokens = 64;         // tokens generated greedily per speed run
  uint32_t decode_runs = 3;            // speed runs per model; the report keeps the median
  double max_kl = 0.01;         // recommendation threshold on mean KL, in nats
  double min_same_top1 = 0.95;  // recommendation threshold on the same-top-1 fraction
  std::string temp_parent;      // where the temporary folder goes; empty: the system's temporary directory
  bool show_progress = true;    // progress bars on stderr
};

// One measured model: the base or one quantization type.
struct QuantReportRow {
  std::string type;  // "F32", "BF16", "F16" for the base, else the preset name, such as "Q4_K_M"
  bool is_base = false;
  uint64_t file_bytes = 0;  // the GGUF file; for a Hugging Face base, all files of its directory
  double bits_per_weight = 0.0;  // tensor data bits per element, padding excluded
  Estimate ppl;
  Estimate kl_mean;  // nats; zero for the base
  double kl_max = 0.0;
  Estimate same_top1;  // fraction of positions; one for the base
  double decode_tokens_per_second = 0.0;  // median of the speed runs
  double quantize_seconds = 0.0;  // zero for the base
};

struct QuantReport {
  std::string base_path;
  std::string text_name;
  uint32_t n_ctx = 0;
  uint32_t n_chunks = 0;
  uint64_t n_scored = 0;  // predictions scored per model
  uint32_t decode_prompt_tokens = 0;
  uint32_t decode_tokens = 0;
  uint32_t decode_runs = 0;
  size_t threads = 0;
  double max_kl = 0.0;
  double min_same_top1 = 0.0;
  std::vector<QuantReportRow> rows;  // the base first, then the types in the order requested
  size_t recommended = 0;            // index into rows; 0 (the base) when no type meets the thresholds
};

// Quantizes the base to each type in a temporary folder, measures every
// model and picks the recommendation. The folder and everything in it are
// removed before returning, also when an Error is thrown. Throws Error for
// an unknown type (before any work), a base with quantized tensors, a text
// too short for two windows, and whatever loading or quantizing throws.
QuantReport run_quant_report(const QuantReportOptions& options);

// Returns the index of the smallest row, by file size, whose mean KL is at
// most max_kl and whose same-top-1 fraction is at least min_same_top1, or
// the base row (0) when no quantized row qualifies. Compares the point
// estimates, not their uncertainties.
size_t recommend_row(const std::vector<QuantReportRow>& rows, double max_kl, double min_same_top1);

// The table in markdown, one line per row, with the thresholds and the
// recommendation below it.
std::string format_report_markdown(const QuantReport& report);

// The report as pretty-printed JSON, with the same numbers as the table.
std::string format_report_json(const QuantReport& report);

// The SVG chart: file size on x, mean KL on a log y axis, one labelled point
// per quantized type and a line at the KL threshold.
std::string render_report_chart(const QuantReport& report);

}  // namespace edgelm
