// Synthetic model files: the plan (tensors and metadata) and the streamed write.

#include "synth/synthetic_model.h"

#include <cctype>
#include <chrono>
#include <cstring>
#include <memory>

#include <fmt/format.h>

#include "core/error.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "gguf/gguf_writer.h"
#include "hf/gguf_metadata_builder.h"
#include "hf/hf_checkpoint.h"
#include "hf/model_name.h"
#include "synth/random_weights.h"
#include "synth/synthetic_vocab.h"

namespace edgelm::synth {
namespace {

// GGML_QNT_VERSION, which the converter and llama-quantize write.
constexpr uint32_t kQuantizationVersion = 2;

// llama.cpp's LLAMA_FTYPE numbers of the converter's float outputs.
constexpr uint32_t kFileTypeF32 = 0;
constexpr uint32_t kFileTypeF16 = 1;
constexpr uint32_t kFileTypeBF16 = 32;

// Root mean square of the weight matrices, about that of freshly initialised
// transformer weights.
constexpr ValueSpread kMatrixSpread{0.0f, 0.02f};

// Norm vectors: scales near 1 (Gemma's files store 1 + w, so 1 is "no change" for both architectures).
constexpr ValueSpread kNormSpread{1.0f, 0.05f};

bool is_gemma(const ModelShape& shape) { return shape.arch == Architecture::kGemma2; }

// The shape as a config.json, with the values that ModelShape leaves out
// taken from the published configs. Gemma 2 (all sizes): rms_norm_eps 1e-6,
// soft-caps 50 and 30. Llama 3.1: rms_norm_eps 1e-5, rope_theta 500000 and
// llama3 RoPE scaling (factor 8, low 1, high 4, original context 8192).
// Mistral NeMo: rms_norm_eps 1e-5, rope_theta 1000000.
HfConfig shape_config(const ModelShape& shape) {
  HfConfig config;
  config.vocab_size = shape.n_vocab;
  config.hidden_size = shape.n_embd;
  config.intermediate_size = shape.n_ff;
  config.num_hidden_layers = shape.n_layer;
  config.num_attention_heads = shape.n_head;
  config.num_key_value_heads = shape.n_head_kv;
  config.head_dim = shape.head_dim;
  config.max_position_embeddings = shape.n_ctx_train;
  config.tie_word_embeddings = shape.tied_output;
  if (shape.sliding_window > 0) config.sliding_window = shape.sliding_window;

  if (is_gemma(shape)) {
    config.arch = HfArchitecture::kGemma2;
    config.architecture_name = "Gemma2ForCausalLM";
    config.rms_norm_eps = 1e-6;
    config.attn_logit_softcapping = 50.0;
    config.final_logit_softcapping = 30.0;
  } else if (vocab_style(shape) == VocabStyle::kTekken) {
    config.arch = HfArchitecture::kMistral;
    config.architecture_name = "MistralForCausalLM";
    config.rms_norm_eps = 1e-5;
    config.rope_theta = 1e6;
  } else {
    config.arch = HfArchitecture::kLlama;
    config.architecture_name = "LlamaForCausalLM";
    config.rms_norm_eps = 1e-5;
    config.rope_theta = 500000.0;
  }
  if (shape.rope_freqs) {
    config.rope_scaling = HfLlama3RopeScaling{
        .factor = 8.0, .low_freq_factor = 1.0, .high_freq_factor = 4.0, .original_max_position_embeddings = 8192};
  }
  return config;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool is_float_type_name(const std::string& type) { return type == "f32" || type == "f16" || type == "bf16"; }

// general.file_type as the converter writes it: the float type of the
// matrices, or F16 for the file that llama-quantize starts from.
uint32_t converter_file_type(const std::string& type) {
  if (type == "f32") return kFileTypeF32;
  if (type == "bf16") return kFileTypeBF16;
  return kFileTypeF16;
}

ModelShape apply_overrides(const ModelShape& published, const SynthRequest& request) {
  ModelShape shape = published;
  if (request.n_layer != 0) {
    if (request.n_layer > published.n_layer) {
      fail("--layers {} is invalid for {}; give 1 to {}, the published block count", request.n_layer, published.name,
           published.n_layer);
    }
    shape.n_layer = request.n_layer;
  }
  if (request.n_vocab != 0) {
    const uint32_t min_vocab = min_vocab_size(vocab_style(published));
    if (request.n_vocab < min_vocab || request.n_vocab > published.n_vocab) {
      fail("--vocab {} is invalid for {}; give {} to {} tokens (the smallest holds the special and byte tokens, the "
           "largest is the published vocabulary)",
           request.n_vocab, published.name, min_vocab, published.n_vocab);
    }
    shape.n_vocab = request.n_vocab;
  }
  return shape;
}

// Moves `key` to the end with `value`, as llama-quantize's gguf_set_val_u32 does.
void set_at_end(GgufMetadata& metadata, const std::string& key, uint32_t value) {
  std::erase_if(metadata, [&](const auto& entry) { return entry.first == key; });
  metadata.emplace_back(key, GgufValue{GgufType::UINT32, uint64_t{value}});
}

GgufMetadata build_metadata(const SyntheticModel& model) {
  const ModelShape& shape = model.shape;
  const HfConfig config = shape_config(shape);

  GgufMetadataBuilder metadata;
  metadata.add_string("general.architecture", is_gemma(shape) ? "gemma2" : "llama");
  metadata.add_string("general.type", "model");
  metadata.add_string("general.name", fmt::format("synthetic {}", shape.name));
  metadata.add_string("general.size_label", parameter_count_label(model.n_params));

  if (is_gemma(shape)) {
    add_gemma2_hyperparameters(config, converter_file_type(model.type), metadata);
  } else {
    add_llama_hyperparameters(config, converter_file_type(model.type), metadata);
  }
  metadata.add_uint32("general.quantization_version", kQuantizationVersion);
  add_vocab_metadata(make_synthetic_vocab(shape, shape.n_vocab), metadata);

  GgufMetadata entries = metadata.take();
  if (!is_float_type_name(model.type)) {
    set_at_end(entries, "general.quantization_version", kQuantizationVersion);
    set_at_end(entries, "general.file_type", find_quant_preset(model.type).file_type);
  }
  return entries;
}

// FNV-1a of a tensor name, so each tensor's weights depend on its name and
// the seed only, not on its position in the file.
uint64_t name_hash(std::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : name) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

uint64_t element_count(const TensorDesc& tensor) {
  uint64_t count = 1;
  for (uint64_t dim : tensor.dims) count *= dim;
  return count;
}

// Fills `out` with the data of one tensor.
void generate_tensor(const TensorDesc& tensor, const HfConfig& config, uint64_t seed, ThreadPool& pool,
                     std::vector<uint8_t>& out) {
  if (tensor.name == "rope_freqs.weight") {
    const std::vector<float> factors = llama3_rope_factors(config);
    if (tensor.type != DType::F32 || element_count(tensor) != factors.size()) {
      fail("rope_freqs.weight is planned as {} with {} elements, but Llama 3.1's factors are {} f32 values",
           dtype_name(tensor.type), element_count(tensor), factors.size());
    }
    out.resize(factors.size() * sizeof(float));
    std::memcpy(out.data(), factors.data(), out.size());
    return;
  }

  const ValueSpread& spread = tensor.dims.size() == 1 ? kNormSpread : kMatrixSpread;
  fill_random_tensor(tensor.type, element_count(tensor), spread, mix_seed(seed, name_hash(tensor.name)), pool, out);
}

}  // namespace

SyntheticModel plan_synthetic_model(const SynthRequest& request) {
  const ModelShape& published = find_model_shape(request.shape_name);

  SyntheticModel model;
  model.type = lower(request.type);
  model.shape = apply_overrides(published, request);
  model.tensors = shape_tensors(model.shape, model.type);
  for (const TensorDesc& tensor : model.tensors) {
    model.n_params += element_count(tensor);
    model.tensor_bytes += row_bytes(tensor.type, tensor.dims[0]) * (element_count(tensor) / tensor.dims[0]);
  }
  model.metadata = build_metadata(model);
  return model;
}

SynthSummary write_synthetic_model(const SyntheticModel& model, const SynthRequest& request) {
  const auto start = std::chrono::steady_clock::now();
  if (request.output_path.empty()) fail("the output path is empty; name the GGUF file to write with -o");

  GgufWriter writer;
  for (const auto& [key, value] : model.metadata) writer.set(key, value);
  for (const TensorDesc& tensor : model.tensors) writer.add_tensor(tensor.name, tensor.dims, tensor.type);
  writer.open(request.output_path);

  ThreadPool pool(request.threads);
  std::unique_ptr<ProgressBar> progress;
  if (request.show_progress) {
    progress = std::make_unique<ProgressBar>("synth", model.tensor_bytes, ProgressUnit::kBytes);
  }

  // One tensor at a time in a reused buffer, so memory peaks at the largest
  // tensor. NOTE: GgufWriter takes a tensor's data in one call, so the
  // embedding of a large vocabulary is held whole: 0.6 GiB for gemma-2-2b
  // q8_0, 2.2 GiB for gemma-2-27b bf16.
  const HfConfig config = shape_config(model.shape);
  std::vector<uint8_t> data;
  for (const TensorDesc& tensor : model.tensors) {
    generate_tensor(tensor, config, request.seed, pool, data);
    writer.write_tensor(data.data(), data.size());
    if (progress) progress->advance(data.size());
  }
  writer.finish();
  if (progress) progress->finish();

  SynthSummary summary;
  summary.file_bytes = writer.bytes_written();
  summary.n_threads = pool.size();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return summary;
}

}  // namespace edgelm::synth
