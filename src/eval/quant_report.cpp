// Quantization report: the measurement loop over the base and each type, and
// the recommendation.

#include "eval/quant_report.h"

#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/error.h"
#include "core/progress.h"
#include "core/temp_file_cleanup.h"
#include "core/thread_pool.h"
#include "eval/divergence.h"
#include "eval/report_chart.h"
#include "model/context.h"
#include "model/model.h"
#include "quant/presets.h"
#include "quant/quantize_model.h"

namespace edgelm {
namespace {

// A folder made with mkdtemp and removed with its contents when the object
// goes out of scope, so an Error thrown mid-report leaves nothing behind.
class TemporaryFolder {
 public:
  explicit TemporaryFolder(const std::string& parent) {
    std::error_code error;
    const std::filesystem::path base = parent.empty() ? std::filesystem::temp_directory_path(error) : std::filesystem::path(parent);
    std::string pattern = (base / "edgelm-quant-report-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      fail("{}: creating a temporary folder there failed ({}); set TMPDIR to a writable directory", base.string(),
           std::strerror(errno));
    }
    path_ = pattern;
    registration_ = TempFileRegistration(pattern);
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TemporaryFolder(const TemporaryFolder&) = delete;
  TemporaryFolder& operator=(const TemporaryFolder&) = delete;

  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
  TempFileRegistration registration_;  // removed (once empty) if a signal ends the process
};

void check_options(const QuantReportOptions& options) {
  if (options.types.empty()) fail("no quantization types given; list them, such as q8_0,q4_k_m");

  std::set<std::string> seen;
  for (const std::string& type : options.types) {
    const QuantPreset& preset = find_quant_preset(type);
    if (!seen.insert(std::string(preset.name)).second) {
      fail("type '{}' is listed twice; list each quantization type once", type);
    }
  }

  if (!(options.max_kl >= 0.0)) fail("maximum mean KL {} is invalid; give a value of 0 or more nats", options.max_kl);
  if (!(options.min_same_top1 >= 0.0 && options.min_same_top1 <= 1.0)) {
    fail("minimum same-top-1 fraction {} is invalid; give a value from 0 to 1", options.min_same_top1);
  }
  if (options.decode_prompt_tokens < 1 || options.decode_tokens < 1 || options.decode_runs < 1) {
    fail("decode speed settings are invalid (prompt {} tokens, {} generated, {} runs); each must be 1 or more",
         options.decode_prompt_tokens, options.decode_tokens, options.decode_runs);
  }
}

// The base's type name: the type with the most weight bytes. Throws
// Error when a tensor is quantized, since the report measures quantization
// from unquantized weights.
std::string base_type_name(const GgufFile& file) {
  std::map<DType, uint64_t> bytes_per_type;
  for (const GgufTensor& tensor : file.tensors()) {
    if (tensor.type != DType::F32 && tensor.type != DType::F16 && tensor.type != DType::BF16) {
      fail("{}: tensor '{}' is {}, but the base must have f32, f16 or bf16 weights; start from the unquantized model",
           file.path(), tensor.name, dtype_name(tensor.type));
    }
    bytes_per_type[tensor.type] += tensor.n_bytes;
  }
  if (bytes_per_type.empty()) fail("{}: the model has no tensors", file.path());

  const auto largest = std::max_element(bytes_per_type.begin(), bytes_per_type.end(),
                                        [](const auto& a, const auto& b) { return a.second < b.second; });
  std::string name(dtype_name(largest->first));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::toupper(c); });
  return name;
}

double bits_per_weight(const GgufFile& file) {
  uint64_t bytes = 0;
  uint64_t elements = 0;
  for (const GgufTensor& tensor : file.tensors()) {
    bytes += tensor.n_bytes;
    elements += tensor.n_elements();
  }
  return elements == 0 ? 0.0 : 8.0 * static_cast<double>(bytes) / static_cast<double>(elements);
}

// Bytes of a GGUF file, or of every regular file in a model directory.
uint64_t model_bytes(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_directory(path, error)) return std::filesystem::file_size(path);

  uint64_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path)) {
    if (entry.is_regular_file()) total += entry.file_size();
  }
  return total;
}

PerplexityResult measure_perplexity(const Model& model, const std::string& label, const QuantReportOptions& options,
                                    PerplexityOptions perplexity_options, ThreadPool& pool) {
  perplexity_options.n_ctx = options.n_ctx;
  perplexity_options.n_batch = std::min<uint32_t>(perplexity_options.n_batch, options.n_ctx);
  perplexity_options.max_chunks = options.max_chunks;

  // The window count is known only once the text is tokenized, so the bar starts at the first report.
  std::unique_ptr<ProgressBar> bar;
  auto progress = [&](uint32_t done, uint32_t total) {
    if (!options.show_progress) return;
    if (!bar) bar = std::make_unique<ProgressBar>("perplexity " + label, total);
    bar->advance(done - bar->done());
    if (done == total) bar->finish();
  };
  return evaluate_perplexity(model, options.text, perplexity_options, pool, progress);
}

// Tokens per second of greedy decoding: `n_generate` one-token evaluations
// after the prompt, timed without the prompt. Every run generates the full
// count, even past an end-of-generation token, so all models do equal work.
// Returns the median over `runs`.
double measure_decode_speed(const Model& model, const std::vector<int32_t>& prompt, uint32_t n_generate, uint32_t runs,
                            ThreadPool& pool) {
  const uint32_t n_ctx = static_cast<uint32_t>(prompt.size()) + n_generate;
  const uint32_t n_ctx_train = model.hparams().n_ctx_train;
  if (n_ctx_train > 0 && n_ctx > n_ctx_train) {
    fail("{}: the decode speed run needs {} positions but the model's trained context is {}; "
         "generate fewer tokens",
         model.file().path(), n_ctx, n_ctx_train);
  }

  const size_t n_vocab = model.hparams().n_vocab;
  Context context(model, n_ctx, pool);
  std::vector<double> speeds;
  for (uint32_t run = 0; run < runs; ++run) {
    context.reset();
    const float* logits = context.eval(prompt.data(), prompt.size(), LogitsMode::kLast);
    auto token = static_cast<int32_t>(argmax(logits, n_vocab));

    const auto start = std::chrono::steady_clock::now();
    for (uint32_t i = 0; i < n_generate; ++i) {
      logits = context.eval(&token, 1, LogitsMode::kLast);
      token = static_cast<int32_t>(argmax(logits, n_vocab));
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    speeds.push_back(seconds > 0.0 ? n_generate / seconds : 0.0);
  }

  std::sort(speeds.begin(), speeds.end());
  const size_t middle = speeds.size() / 2;
  return speeds.size() % 2 == 1 ? speeds[middle] : (speeds[middle - 1] + speeds[middle]) / 2.0;
}

// Fills the measured columns of `row` from one model.
void measure_row(QuantReportRow& row, const Model& model, const QuantReportOptions& options,
                 const PerplexityOptions& perplexity_options, const std::vector<int32_t>& decode_prompt,
                 ThreadPool& pool, QuantReport& report) {
  const PerplexityResult result = measure_perplexity(model, row.type, options, perplexity_options, pool);
  row.ppl = result.ppl;
  if (result.has_kl) {
    row.kl_mean = result.kl_mean;
    row.kl_max = result.kl_max;
    row.same_top1 = result.same_top1;
  } else {
    row.same_top1 = {1.0, 0.0};
  }
  report.n_chunks = result.n_chunks;
  report.n_scored = result.n_scored;

  spdlog::info("measuring decode speed of {}: {} tokens after a {}-token prompt, runs: {}", row.type,
               options.decode_tokens, decode_prompt.size(), options.decode_runs);
  row.decode_tokens_per_second =
      measure_decode_speed(model, decode_prompt, options.decode_tokens, options.decode_runs, pool);
}

// Formatting of the markdown table and the lines around it.
std::string format_percent(double fraction) { return fmt::format("{:.2f}%", 100.0 * fraction); }

// "model.gguf", or "tiny-gemma2" for "models/tiny-gemma2/".
std::string model_name(const std::string& path) {
  std::filesystem::path normal = std::filesystem::path(path).lexically_normal();
  if (normal.filename().empty()) normal = normal.parent_path();
  return normal.filename().string();
}

std::string base_label(const QuantReport& report) {
  return report.rows.empty() ? std::string("the base") : report.rows.front().type;
}

std::string format_row_markdown(const QuantReportRow& row) {
  const std::string type = row.is_base ? row.type + " (base)" : row.type;
  const std::string ppl = fmt::format("{:.4f} ± {:.4f}", row.ppl.value, row.ppl.error);
  std::string kl_mean = "0";
  std::string kl_max = "0";
  std::string same_top1 = "100%";
  if (!row.is_base) {
    kl_mean = fmt::format("{:.6f} ± {:.6f}", row.kl_mean.value, row.kl_mean.error);
    kl_max = fmt::format("{:.4f}", row.kl_max);
    same_top1 = fmt::format("{:.2f} ± {:.2f}%", 100.0 * row.same_top1.value, 100.0 * row.same_top1.error);
  }
  return fmt::format("| {} | {} | {:.2f} | {} | {} | {} | {} | {:.1f} |\n", type, format_bytes(row.file_bytes),
                     row.bits_per_weight, ppl, kl_mean, kl_max, same_top1, row.decode_tokens_per_second);
}

nlohmann::json estimate_json(const Estimate& estimate) {
  return {{"value", estimate.value}, {"error", estimate.error}};
}

}  // namespace

QuantReport run_quant_report(const QuantReportOptions& options) {
  check_options(options);
  TemporaryFolder folder(options.temp_parent);
  ThreadPool pool(options.threads);

  QuantReport report;
  report.base_path = options.base_path;
  report.text_name = options.text_name;
  report.n_ctx = options.n_ctx;
  report.decode_tokens = options.decode_tokens;
  report.decode_runs = options.decode_runs;
  report.threads = pool.size();
  report.max_kl = options.max_kl;
  report.min_same_top1 = options.min_same_top1;

  // The base: its distributions are saved for the KL of every type, and it
  // stays loaded because each type is quantized from its weights.
  spdlog::info("loading the base model {}", options.base_path);
  const std::unique_ptr<Model> base = Model::load(options.base_path);
  QuantReportRow base_row;
  base_row.type = base_type_name(base->file());
  base_row.is_base = true;
  base_row.file_bytes = model_bytes(options.base_path);
  base_row.bits_per_weight = bits_per_weight(base->file());

  // The speed prompt is the start of the text. Every type has the base's tokenizer, so one prompt serves all.
  std::vector<int32_t> decode_prompt = base->tokenizer().encode(options.text, /*add_bos=*/true, /*parse_special=*/false);
  if (decode_prompt.size() > options.decode_prompt_tokens) decode_prompt.resize(options.decode_prompt_tokens);
  if (decode_prompt.empty()) decode_prompt.push_back(base->tokenizer().bos_id());
  report.decode_prompt_tokens = static_cast<uint32_t>(decode_prompt.size());

  const std::string logits_path = folder.file("base-logits.bin");
  const TempFileRegistration logits_registration(logits_path);
  PerplexityOptions base_options;
  base_options.save_logits_path = logits_path;
  measure_row(base_row, *base, options, base_options, decode_prompt, pool, report);
  report.rows.push_back(base_row);

  PerplexityOptions quantized_options;
  quantized_options.kl_base_path = logits_path;
  for (const std::string& type : options.types) {
    const QuantPreset& preset = find_quant_preset(type);
    QuantReportRow row;
    row.type = std::string(preset.name);

    // Each quantized file is removed once measured, so the folder has at most one at a time.
    const std::string model_path = folder.file(row.type + ".gguf");
    QuantizeRequest request;
    request.output_path = model_path;
    request.preset_name = row.type;
    request.threads = pool.size();
    request.show_progress = options.show_progress;
    request.progress_label = "quantize " + row.type;
    const QuantizeSummary summary = quantize_model(base->file(), request);
    const TempFileRegistration model_registration(model_path);

    row.file_bytes = summary.output_file_bytes;
    row.bits_per_weight = summary.n_elements == 0 ? 0.0
                                                  : 8.0 * static_cast<double>(summary.output_tensor_bytes) /
                                                        static_cast<double>(summary.n_elements);
    row.quantize_seconds = summary.seconds;
    {
      const std::unique_ptr<Model> model = Model::load(model_path);
      measure_row(row, *model, options, quantized_options, decode_prompt, pool, report);
    }
    std::filesystem::remove(model_path);
    report.rows.push_back(row);
  }

  report.recommended = recommend_row(report.rows, options.max_kl, options.min_same_top1);
  return report;
}

size_t recommend_row(const std::vector<QuantReportRow>& rows, double max_kl, double min_same_top1) {
  size_t best = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const QuantReportRow& row = rows[i];
    if (row.is_base) continue;
    if (row.kl_mean.value > max_kl || row.same_top1.value < min_same_top1) continue;
    if (best == 0 || row.file_bytes < rows[best].file_bytes) best = i;
  }
  return best;
}

std::string format_report_markdown(const QuantReport& report) {
  std::string text = fmt::format("Quantization report for {} on {}\n\n", report.base_path, report.text_name);
  text += fmt::format("- perplexity and KL: {} windows of {} tokens, {} predictions scored per model\n", report.n_chunks,
                      report.n_ctx, report.n_scored);
  text += fmt::format("- decode speed: {} tokens generated greedily after a {}-token prompt, median of {} runs, {} threads\n\n",
                      report.decode_tokens, report.decode_prompt_tokens, report.decode_runs, report.threads);

  text += "| type | size | bits/weight | PPL | mean KL (nats) | max KL (nats) | same top-1 | decode (tokens/s) |\n";
  text += "|---|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const QuantReportRow& row : report.rows) text += format_row_markdown(row);

  text += fmt::format("\nThresholds: mean KL <= {:g} nats and same top-1 >= {}.\n", report.max_kl,
                      format_percent(report.min_same_top1));
  if (report.recommended != 0 && report.recommended < report.rows.size()) {
    const QuantReportRow& row = report.rows[report.recommended];
    text += fmt::format("Recommendation: {} ({}), the smallest type within both thresholds.\n", row.type,
                        format_bytes(row.file_bytes));
  } else {
    text += fmt::format("Recommendation: no type is within both thresholds; keep the base ({}).\n", base_label(report));
  }
  return text;
}

std::string format_report_json(const QuantReport& report) {
  nlohmann::json rows = nlohmann::json::array();
  for (const QuantReportRow& row : report.rows) {
    rows.push_back({
        {"type", row.type},
        {"base", row.is_base},
        {"file_bytes", row.file_bytes},
        {"bits_per_weight", row.bits_per_weight},
        {"ppl", estimate_json(row.ppl)},
        {"kl_mean", estimate_json(row.kl_mean)},
        {"kl_max", row.kl_max},
        {"same_top1", estimate_json(row.same_top1)},
        {"decode_tokens_per_second", row.decode_tokens_per_second},
        {"quantize_seconds", row.quantize_seconds},
    });
  }

  const bool has_recommendation = report.recommended < report.rows.size();
  nlohmann::json json = {
      {"base", report.base_path},
      {"text", report.text_name},
      {"n_ctx", report.n_ctx},
      {"n_chunks", report.n_chunks},
      {"n_scored", report.n_scored},
      {"decode", {{"prompt_tokens", report.decode_prompt_tokens},
                  {"generated_tokens", report.decode_tokens},
                  {"runs", report.decode_runs}}},
      {"threads", report.threads},
      {"thresholds", {{"max_kl", report.max_kl}, {"min_same_top1", report.min_same_top1}}},
      {"rows", rows},
      {"recommended", has_recommendation ? report.rows[report.recommended].type : std::string()},
      {"recommended_is_base", report.recommended == 0},
  };
  return json.dump(2) + "\n";
}

std::string render_report_chart(const QuantReport& report) {
  LogScatterChart chart;
  chart.title = fmt::format("Mean KL from the {} base vs file size: {}", base_label(report),
                            model_name(report.base_path));
  chart.x_label = "file size (MiB)";
  chart.y_label = "mean KL divergence from the base (nats, log scale)";
  for (const QuantReportRow& row : report.rows) {
    if (row.is_base) continue;
    chart.points.push_back({row.type, static_cast<double>(row.file_bytes) / (1024.0 * 1024.0), row.kl_mean.value});
  }
  if (report.max_kl > 0.0) chart.line = ChartLine{fmt::format("max KL {:g} nats", report.max_kl), report.max_kl};
  return render_log_scatter_svg(chart);
}

}  // namespace edgelm
