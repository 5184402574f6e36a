// edgelm synth: write a GGUF file with the published shape of a well-known
// model and random weights, for speed benchmarks without the real weights.

#include <cstdio>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/options.h"
#include "core/progress.h"
#include "core/temp_file_cleanup.h"
#include "hf/model_name.h"
#include "synth/synthetic_model.h"

namespace edgelm::cli {
namespace {

std::string shape_names() {
  std::string names;
  for (const ModelShape& shape : model_shapes()) names += (names.empty() ? "" : ", ") + std::string(shape.name);
  return names;
}

std::string type_names() {
  std::string names = "f32, f16, bf16";
  for (const QuantPreset& preset : quant_presets()) {
    std::string name(preset.name);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    names += ", " + name;
  }
  return names;
}

int synthesize(const synth::SynthRequest& request) {
  // Planned first, so an unknown shape or type fails before the output is created.
  const synth::SyntheticModel model = synth::plan_synthetic_model(request);
  install_temp_file_cleanup();
  const synth::SynthSummary summary = synth::write_synthetic_model(model, request);

  std::fprintf(stderr, "%s\n",
               fmt::format("wrote {} ({}, {} {}, {} parameters, {} tensors, seed {}) in {:.2f} s, threads: {}",
                           request.output_path, format_bytes(summary.file_bytes), model.shape.name, model.type,
                           parameter_count_label(model.n_params), model.tensors.size(), request.seed, summary.seconds,
                           summary.n_threads)
                   .c_str());
  return 0;
}

}  // namespace

CommandRunner add_synth_command(CLI::App& app) {
  auto request = std::make_shared<synth::SynthRequest>();
  auto threads = std::make_shared<ModelOptions>();
  CLI::App* command = app.add_subcommand(
      "synth", "write a GGUF model with a published model's shape, a synthetic tokenizer and random weights, for "
               "speed benchmarks");
  command->add_option("--shape", request->shape_name, "model shape: " + shape_names())->required();
  command->add_option("--type", request->type, "weight type, any case: " + type_names())->required();
  command->add_option("-o,--output", request->output_path, "GGUF file to write")->required();
  command->add_option("--seed", request->seed,
                      "seed of the random weights; the same seed writes the same file (default 1)");
  command->add_option("--layers", request->n_layer,
                      "number of blocks, fewer than published for quick tests; 0 means the published count "
                      "(default 0)");
  command->add_option("--vocab", request->n_vocab,
                      "vocabulary size in tokens, smaller than published for quick tests; 0 means the published size "
                      "(default 0). A Llama 3 vocabulary keeps its 256 special tokens in the last ids");
  // thread_count rejects more than 1024 threads with a message naming the limit.
  command->add_option("-t,--threads", threads->threads, "threads; 0 means one per online CPU (default 0)");

  return [request, threads] {
    request->threads = thread_count(*threads);
    return synthesize(*request);
  };
}

}  // namespace edgelm::cli
