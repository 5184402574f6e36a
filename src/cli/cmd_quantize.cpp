// edgelm quantize: write a quantized copy of an f32, f16 or bf16 GGUF model,
// choosing each tensor's type as llama-quantize does.

#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/error.h"
#include "core/progress.h"
#include "core/temp_file_cleanup.h"
#include "quant/quantize_model.h"

namespace edgelm::cli {
namespace {

std::string preset_names() {
  std::string names;
  for (const QuantPreset& preset : quant_presets()) names += (names.empty() ? "" : ", ") + std::string(preset.name);
  return names;
}

// "25 f32, 38 q4_k, 5 q6_k"
std::string format_type_counts(const QuantizeSummary& summary) {
  std::string text;
  for (const auto& [type, count] : summary.tensors_per_type) {
    text += fmt::format("{}{} {}", text.empty() ? "" : ", ", count, dtype_name(type));
  }
  return text;
}

int quantize(const QuantizeRequest& request) {
  QuantizeSummary summary = quantize_model(request);

  const double bits_per_weight =
      summary.n_elements == 0 ? 0.0 : 8.0 * static_cast<double>(summary.output_tensor_bytes) / summary.n_elements;
  std::fprintf(stderr, "quantized %s (%s) -> %s (%s, %s, %.2f bits per weight) in %.2f s, threads: %zu\n",
               request.input_path.c_str(), format_bytes(summary.input_file_bytes).c_str(), request.output_path.c_str(),
               summary.preset_name.c_str(), format_bytes(summary.output_file_bytes).c_str(), bits_per_weight,
               summary.seconds, summary.n_threads);
  std::fprintf(stderr, "tensors: %zu (%s)\n", summary.n_tensors, format_type_counts(summary).c_str());
  return 0;
}

}  // namespace

CommandRunner add_quantize_command(CLI::App& app) {
  auto request = std::make_shared<QuantizeRequest>();
  CLI::App* command = app.add_subcommand("quantize", "write a quantized copy of an f32, f16 or bf16 GGUF model or a Hugging Face directory");
  command->add_option("input", request->input_path, "GGUF model (f32, f16 or bf16 weights) or Hugging Face model directory to read")->required();
  command->add_option("output", request->output_path, "GGUF file to write")->required();
  command->add_option("type", request->preset_name, "quantization type, any case: " + preset_names())->required();
  auto threads = std::make_shared<ModelOptions>();
  command->add_option("-t,--threads", threads->threads, "threads; 0 means one per online CPU (default 0)")
      ->check(CLI::Range(0, 1024));

  return [request, threads] {
    // Checked before anything is read, so a typo fails at once.
    find_quant_preset(request->preset_name);
    request->threads = thread_count(*threads);
    install_temp_file_cleanup();
    return quantize(*request);
  };
}

}  // namespace edgelm::cli
