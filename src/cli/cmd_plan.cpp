// edgelm plan: predict the memory of a deployment before loading the model,
// and with --check measure it.

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "gguf/gguf_file.h"
#include "hf/hf_checkpoint.h"
#include "plan/memory_check.h"
#include "plan/memory_plan.h"
#include "plan/model_shapes.h"

namespace edgelm::cli {
namespace {

// `edgelm serve` caps the default context at this many tokens per sequence.
constexpr uint32_t kServeDefaultContextCap = 8192;

struct PlanOptions {
  std::string model_path;
  std::string shape;
  std::string type;
  int64_t n_ctx = 0;
  int64_t n_parallel = 1;
  int64_t n_threads = 0;
  std::string kv_type = "f32";
  bool json = false;
  bool check = false;
};

// A model to plan: its hyperparameters and tensors, from a file or a shape.
struct PlannedModel {
  std::string name;
  HParams hparams;
  std::vector<TensorDesc> tensors;
  RuntimeOverhead overhead;
};

void check_options(const PlanOptions& options) {
  if (!options.model_path.empty() && !options.shape.empty()) {
    fail("-m and --shape cannot be used together; give -m FILE for a model file or --shape NAME --type T for a "
         "published shape");
  }
  if (options.model_path.empty() && options.shape.empty()) {
    fail("plan needs a model: give -m FILE (GGUF file or Hugging Face directory) or --shape NAME --type T");
  }
  if (!options.shape.empty() && options.type.empty()) {
    fail("--shape {} needs --type, the weight type: f32, f16, bf16 or a quantization such as q8_0 or q4_k_m",
         options.shape);
  }
  if (!options.model_path.empty() && !options.type.empty()) {
    fail("--type {} applies to --shape only; the tensors of {} already have their types", options.type,
         options.model_path);
  }
  if (options.check && options.model_path.empty()) {
    fail("--check loads the model, so it needs -m FILE rather than --shape");
  }
  if (options.n_parallel < 1 || options.n_parallel > 1024) {
    fail("--parallel {} is invalid; give 1 to 1024 sequences", options.n_parallel);
  }
  if (options.n_ctx < 0 || options.n_ctx > (int64_t{1} << 24)) {
    fail("-c {} is invalid; give 1 to {} tokens, or 0 for the model's trained length", options.n_ctx, 1 << 24);
  }
  if (options.n_threads < 0 || options.n_threads > 1024) {
    fail("-t {} is invalid; give 1 to 1024 threads, or 0 for one per online CPU", options.n_threads);
  }
}

PlannedModel open_planned_file(const std::string& path) {
  // Only the header is parsed: tensor pages of the mapping stay untouched, and
  // a Hugging Face directory keeps its Q and K rows as stored, as `run` loads it.
  std::unique_ptr<GgufFile> file;
  if (is_hf_model_dir(path)) {
    file = open_hf_model(path, HfTensorLayout::kRun).file;
  } else {
    file = GgufFile::open(path);
  }

  PlannedModel model;
  model.name = path;
  model.hparams = HParams::from_gguf(*file);
  for (const GgufTensor& tensor : file->tensors()) model.tensors.push_back({tensor.name, tensor.dims, tensor.type});
  model.overhead = estimate_runtime_overhead(*file, model.tensors);
  return model;
}

PlannedModel planned_shape(const std::string& shape_name, const std::string& type) {
  const ModelShape& shape = find_model_shape(shape_name);
  PlannedModel model;
  model.name = fmt::format("{} ({})", shape.name, type);
  model.hparams = shape_hparams(shape);
  model.tensors = shape_tensors(shape, type);
  model.overhead = estimate_runtime_overhead(model.tensors, shape.n_vocab, shape.n_merges, 0);
  return model;
}

// -c resolved as the command being planned resolves it: 0 is the trained
// length, which `serve` (more than one sequence) caps.
uint32_t resolve_context(const PlanOptions& options, const HParams& hp) {
  if (options.n_ctx > 0) return static_cast<uint32_t>(options.n_ctx);
  if (options.n_parallel > 1) return std::min(hp.n_ctx_train, kServeDefaultContextCap);
  return hp.n_ctx_train;
}

// "1.23 GiB" from 1 GiB up, else "12.34 MiB".
std::string human_size(uint64_t bytes) {
  const double mib = static_cast<double>(bytes) / (1 << 20);
  if (mib >= 1024.0) return fmt::format("{:.2f} GiB", mib / 1024.0);
  return fmt::format("{:.2f} MiB", mib);
}

void print_row(const std::string& label, uint64_t bytes) {
  std::printf("%s\n", fmt::format("  {:<34} {:>12} {:>16}", label, human_size(bytes), bytes).c_str());
}

void print_table(const MemoryPlan& plan, const MemoryCheck* check) {
  const Deployment& deployment = plan.deployment;
  std::printf("%s\n", fmt::format("model: {}", plan.model).c_str());
  const std::string context = fmt::format("context: {} tokens x {} sequence(s), KV cache {}, batch {} tokens, {} threads",
                                          deployment.n_ctx, deployment.n_parallel, kv_type_name(deployment.kv_type),
                                          deployment.batch_rows, deployment.n_threads);
  std::printf("%s\n", context.c_str());
  std::printf("%s\n", fmt::format("  {:<34} {:>12} {:>16}", "part", "size", "bytes").c_str());

  print_row("weights", plan.weights_bytes);
  for (const auto& [type, bytes] : plan.weights_by_type) print_row("  " + type, bytes);
  print_row("KV cache", plan.kv.total_bytes());
  print_row("  global layers", plan.kv.global_bytes);
  print_row("  sliding-window layers", plan.kv.sliding_bytes);
  print_row("KV cache without SWA", plan.kv.without_swa_bytes);
  print_row("compute buffers", plan.compute_bytes);
  print_row("runtime overhead", plan.overhead.total_bytes());
  print_row("  program baseline (estimate)", plan.overhead.baseline_bytes);
  print_row("  code touched by a run (estimate)", plan.overhead.load_bytes);
  print_row("  vocabulary (estimate)", plan.overhead.vocab_bytes);
  print_row("  file header", plan.overhead.metadata_bytes);
  print_row("  norm vectors as float", plan.overhead.norm_copy_bytes);
  print_row("total", plan.total_bytes());

  if (deployment.kv_type != KvType::kF32) {
    std::printf("note: edgelm itself stores the KV cache in f32; the %s figure is for engines that store it narrower\n",
                std::string(kv_type_name(deployment.kv_type)).c_str());
  }
  if (check != nullptr) {
    std::printf("%s\n", fmt::format("check: resident {} ({} bytes) after filling the context; plan {} ({} bytes) with "
                                    "the measured baseline {} ({} bytes); difference {:+.2f} %",
                                    human_size(check->measured_bytes), check->measured_bytes,
                                    human_size(check->planned_bytes), check->planned_bytes,
                                    human_size(check->baseline_bytes), check->baseline_bytes,
                                    100.0 * check->relative_difference)
                            .c_str());
  }
}

nlohmann::json plan_json(const MemoryPlan& plan, const MemoryCheck* check) {
  const Deployment& deployment = plan.deployment;
  nlohmann::json json;
  json["model"] = plan.model;
  json["n_ctx"] = deployment.n_ctx;
  json["parallel"] = deployment.n_parallel;
  json["kv_type"] = kv_type_name(deployment.kv_type);
  json["kv_type_runs_in_edgelm"] = deployment.kv_type == KvType::kF32;
  json["batch_tokens"] = deployment.batch_rows;
  json["sliding_rewind"] = deployment.rewind;
  json["threads"] = deployment.n_threads;

  json["weights_bytes"] = plan.weights_bytes;
  json["weights_by_type"] = plan.weights_by_type;

  json["kv_bytes"] = plan.kv.total_bytes();
  json["kv_global_bytes"] = plan.kv.global_bytes;
  json["kv_sliding_bytes"] = plan.kv.sliding_bytes;
  json["kv_bytes_without_swa"] = plan.kv.without_swa_bytes;

  json["compute_bytes"] = plan.compute_bytes;
  json["overhead_bytes"] = plan.overhead.total_bytes();
  json["overhead"] = {{"baseline_bytes", plan.overhead.baseline_bytes},
                      {"load_bytes", plan.overhead.load_bytes},
                      {"vocab_bytes", plan.overhead.vocab_bytes},
                      {"metadata_bytes", plan.overhead.metadata_bytes},
                      {"norm_copy_bytes", plan.overhead.norm_copy_bytes}};

  json["total_bytes"] = plan.total_bytes();
  if (check != nullptr) {
    json["check"] = {{"baseline_bytes", check->baseline_bytes},
                     {"measured_bytes", check->measured_bytes},
                     {"planned_bytes", check->planned_bytes},
                     {"relative_difference", check->relative_difference}};
  }
  return json;
}

int run_plan(const PlanOptions& options) {
  // Taken first, before any file is opened, for --check's baseline.
  const uint64_t baseline_bytes = options.check ? resident_bytes() : 0;
  check_options(options);
  const KvType kv_type = parse_kv_type(options.kv_type);

  PlannedModel model =
      options.model_path.empty() ? planned_shape(options.shape, options.type) : open_planned_file(options.model_path);
  const uint32_t n_threads = options.n_threads == 0 ? static_cast<uint32_t>(ThreadPool::hardware_threads())
                                                    : static_cast<uint32_t>(options.n_threads);
  const uint32_t n_ctx = resolve_context(options, model.hparams);
  if (model.hparams.n_ctx_train > 0 && n_ctx > model.hparams.n_ctx_train) {
    spdlog::warn("-c {} is longer than the {} tokens the model was trained on", n_ctx, model.hparams.n_ctx_train);
  }
  const Deployment deployment =
      default_deployment(n_ctx, static_cast<uint32_t>(options.n_parallel), kv_type, n_threads);
  const MemoryPlan plan = plan_memory(model.name, model.hparams, model.tensors, deployment, model.overhead);

  MemoryCheck check;
  if (options.check) {
    check = check_memory(options.model_path, plan, baseline_bytes);
  }
  const MemoryCheck* measured = options.check ? &check : nullptr;

  if (options.json) {
    std::printf("%s\n", plan_json(plan, measured).dump().c_str());
  } else {
    print_table(plan, measured);
  }
  return 0;
}

}  // namespace

CommandRunner add_plan_command(CLI::App& app) {
  auto options = std::make_shared<PlanOptions>();
  CLI::App* command = app.add_subcommand(
      "plan", "predict the memory of running a model (weights, KV cache, compute buffers) without loading it");
  command->add_option("-m,--model", options->model_path, "GGUF model file or Hugging Face model directory");
  command->add_option("--shape", options->shape,
                      "a published model shape instead of a file: gemma-2-2b, gemma-2-9b, gemma-2-27b, "
                      "llama-3.1-8b, llama-3.1-70b, mistral-nemo-12b");
  command->add_option("--type", options->type,
                      "weight type of --shape: f32, f16, bf16 or a llama-quantize type such as q8_0 or q4_k_m");
  command->add_option("-c,--ctx-size", options->n_ctx,
                      fmt::format("context length per sequence in tokens; 0 means the trained length, capped at "
                                  "{} when --parallel is above 1 as serve caps it (default 0)",
                                  kServeDefaultContextCap));
  command->add_option("--parallel", options->n_parallel,
                      "sequences with their own KV cache: 1 plans `run` and `chat`, more plans `serve --parallel N` "
                      "(default 1)");
  command->add_option("--kv-type", options->kv_type,
                      "KV cache element type: f32, bf16 or q8_0 (default f32; edgelm itself runs f32 only)");
  command->add_option("-t,--threads", options->n_threads, "threads; 0 means one per online CPU (default 0)");
  command->add_flag("--json", options->json, "print one JSON object instead of the table");
  command->add_flag("--check", options->check,
                    "with -m: load the model, fill the whole context and compare the resident memory with the plan");

  return [options] { return run_plan(*options); };
}

}  // namespace edgelm::cli
