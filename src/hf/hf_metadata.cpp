#include "hf/hf_metadata.h"

#include <filesystem>
#include <limits>

#include "core/error.h"
#include "hf/gguf_metadata_builder.h"
#include "hf/hf_json_file.h"
#include "hf/hf_tokenizer_metadata.h"
#include "hf/model_name.h"

namespace edgelm {

namespace {

using hf::fail_at;
using hf::Json;
using hf::JsonPath;

// general.quantization_version: the ggml quantization format version the converter writes.
constexpr uint32_t kQuantizationVersion = 2;

std::string path_in(const std::string& dir, std::string_view name) {
  return (std::filesystem::path(dir) / name).string();
}

int32_t as_int32(const Json& value, const JsonPath& where) {
  if (!value.is_number_integer()) {
    fail_at(where, "expected an integer, found {}", value.dump());
  }
  const bool fits = value.is_number_unsigned()
                        ? value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int32_t>::max())
                        : value.get<int64_t>() >= std::numeric_limits<int32_t>::min() &&
                              value.get<int64_t>() <= std::numeric_limits<int32_t>::max();
  if (!fits) {
    fail_at(where, "{} does not fit in a 32-bit integer", value.dump());
  }
  return static_cast<int32_t>(value.get<int64_t>());
}

double as_number(const Json& value, const JsonPath& where) {
  if (!value.is_number()) {
    fail_at(where, "expected a number, found {}", value.dump());
  }
  return value.get<double>();
}

// Recommended sampling settings from generation_config.json
// (general.sampling.*), which the converter writes before the name.
void add_sampling_metadata(const std::string& dir, GgufMetadataBuilder& metadata) {
  const std::string path = path_in(dir, "generation_config.json");
  const auto generation = hf::read_json_file_if_present(path);
  if (!generation || !generation->is_object()) {
    return;
  }
  const JsonPath where{path, ""};
  const auto field = [&](std::string_view key) { return hf::optional_field(*generation, key); };

  if (const Json* sequence = field("sequence")) {
    metadata.add_string("general.sampling.sequence", hf::as_string(*sequence, where / "sequence"));
  }

  enum class Kind { kInt32, kFloat32 };
  struct Setting {
    std::string_view json_key;
    const char* gguf_key;
    Kind kind;
  };
  static constexpr Setting kSettings[] = {
      {"top_k", "general.sampling.top_k", Kind::kInt32},
      {"top_p", "general.sampling.top_p", Kind::kFloat32},
      {"min_p", "general.sampling.min_p", Kind::kFloat32},
      {"xtc_probability", "general.sampling.xtc_probability", Kind::kFloat32},
      {"xtc_threshold", "general.sampling.xtc_threshold", Kind::kFloat32},
      {"temperature", "general.sampling.temp", Kind::kFloat32},
      {"penalty_last_n", "general.sampling.penalty_last_n", Kind::kInt32},
      {"penalty_repeat", "general.sampling.penalty_repeat", Kind::kFloat32},
      {"mirostat", "general.sampling.mirostat", Kind::kInt32},
      {"mirostat_tau", "general.sampling.mirostat_tau", Kind::kFloat32},
      {"mirostat_eta", "general.sampling.mirostat_eta", Kind::kFloat32},
  };
  for (const Setting& setting : kSettings) {
    std::string_view key = setting.json_key;
    const Json* value = field(key);
    // transformers names the repeat penalty "repetition_penalty".
    if (key == "penalty_repeat" && generation->find(key) == generation->end()) {
      key = "repetition_penalty";
      value = field(key);
    }
    if (value == nullptr) {
      continue;
    }
    if (setting.kind == Kind::kInt32) {
      metadata.add_int32(setting.gguf_key, as_int32(*value, where / key));
    } else {
      metadata.add_float32(setting.gguf_key, as_number(*value, where / key));
    }
  }
}

void add_name_metadata(const HfConfig& config, uint64_t n_params, GgufMetadataBuilder& metadata) {
  const Json config_json = hf::read_json_file(path_in(config.dir, "config.json"));
  std::optional<std::string> name_or_path;
  if (const Json* value = hf::optional_field(config_json, "_name_or_path"); value != nullptr && value->is_string()) {
    name_or_path = value->get<std::string>();
  }

  const ModelNameMetadata names = derive_model_name(config.dir, name_or_path, n_params);
  const auto add = [&](const char* key, const std::optional<std::string>& value) {
    if (value) metadata.add_string(key, *value);
  };
  add("general.name", names.name);
  add("general.version", names.version);
  add("general.organization", names.organization);
  add("general.finetune", names.finetune);
  add("general.basename", names.basename);
  add("general.size_label", names.size_label);
}

}  // namespace

// Gemma2Model.set_gguf_parameters: its own list, in its own order.
void add_gemma2_hyperparameters(const HfConfig& config, uint32_t file_type, GgufMetadataBuilder& metadata) {
  metadata.add_uint32("gemma2.context_length", config.max_position_embeddings);
  metadata.add_uint32("gemma2.embedding_length", config.hidden_size);
  metadata.add_uint32("gemma2.block_count", config.num_hidden_layers);
  metadata.add_uint32("gemma2.feed_forward_length", config.intermediate_size);
  metadata.add_uint32("gemma2.attention.head_count", config.num_attention_heads);
  metadata.add_uint32("gemma2.attention.head_count_kv", config.num_key_value_heads);
  metadata.add_float32("gemma2.attention.layer_norm_rms_epsilon", config.rms_norm_eps);
  metadata.add_uint32("gemma2.attention.key_length", config.head_dim);
  metadata.add_uint32("gemma2.attention.value_length", config.head_dim);
  metadata.add_uint32("general.file_type", file_type);

  // NOTE: a config that sets a soft-cap or the window to null gets no key;
  // the converter fails on such a config.
  if (config.attn_logit_softcapping) {
    metadata.add_float32("gemma2.attn_logit_softcapping", *config.attn_logit_softcapping);
  }
  if (config.final_logit_softcapping) {
    metadata.add_float32("gemma2.final_logit_softcapping", *config.final_logit_softcapping);
  }
  if (config.sliding_window) {
    metadata.add_uint32("gemma2.attention.sliding_window", *config.sliding_window);
  }
}

// TextModel.set_gguf_parameters, then LlamaModel's vocab size and RoPE
// dimensions. transformers fills head_dim, num_key_value_heads, rope_theta
// and rms_norm_eps when config.json leaves them out, so the converter writes
// their keys for every Llama and Mistral model. Llama 3 RoPE scaling adds no
// key: the converter writes it as the rope_freqs.weight tensor.
void add_llama_hyperparameters(const HfConfig& config, uint32_t file_type, GgufMetadataBuilder& metadata) {
  metadata.add_uint32("llama.block_count", config.num_hidden_layers);
  metadata.add_uint32("llama.context_length", config.max_position_embeddings);
  metadata.add_uint32("llama.embedding_length", config.hidden_size);
  metadata.add_uint32("llama.feed_forward_length", config.intermediate_size);
  metadata.add_uint32("llama.attention.head_count", config.num_attention_heads);
  metadata.add_uint32("llama.attention.head_count_kv", config.num_key_value_heads);
  metadata.add_float32("llama.rope.freq_base", config.rope_theta);
  metadata.add_float32("llama.attention.layer_norm_rms_epsilon", config.rms_norm_eps);
  metadata.add_uint32("llama.attention.key_length", config.head_dim);
  metadata.add_uint32("llama.attention.value_length", config.head_dim);
  metadata.add_uint32("general.file_type", file_type);
  metadata.add_uint32("llama.vocab_size", config.vocab_size);
  metadata.add_uint32("llama.rope.dimension_count", config.head_dim);
}

GgufMetadata hf_gguf_metadata(const HfConfig& config, const HfMetadataOptions& options) {
  GgufMetadataBuilder metadata;
  const bool is_gemma2 = config.arch == HfArchitecture::kGemma2;

  metadata.add_string("general.architecture", is_gemma2 ? "gemma2" : "llama");
  metadata.add_string("general.type", "model");
  add_sampling_metadata(config.dir, metadata);
  add_name_metadata(config, options.n_params, metadata);

  if (is_gemma2) {
    add_gemma2_hyperparameters(config, options.file_type, metadata);
  } else {
    add_llama_hyperparameters(config, options.file_type, metadata);
  }
  metadata.add_uint32("general.quantization_version", kQuantizationVersion);

  add_tokenizer_metadata(config, metadata);
  return metadata.take();
}

}  // namespace edgelm
