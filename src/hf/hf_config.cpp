#include "hf/hf_config.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <string_view>

#include "core/error.h"
#include "hf/hf_json_file.h"

namespace edgelm {

namespace {

using hf::fail_at;
using hf::Json;
using hf::JsonPath;
using hf::optional_field;

struct ArchitectureName {
  std::string_view name;
  HfArchitecture arch;
};

constexpr ArchitectureName kArchitectures[] = {
    {"Gemma2ForCausalLM", HfArchitecture::kGemma2},
    {"LlamaForCausalLM", HfArchitecture::kLlama},
    {"MistralForCausalLM", HfArchitecture::kMistral},
};

// Defaults of transformers' Gemma2Config for keys a Gemma 2 config.json may
// leave out. The converter reads the config through transformers, so it
// writes these values too.
constexpr uint32_t kGemma2DefaultHeadDim = 256;
constexpr double kGemma2DefaultQueryPreAttnScalar = 256.0;
constexpr uint32_t kGemma2DefaultSlidingWindow = 4096;
constexpr double kGemma2DefaultAttnLogitSoftcapping = 50.0;
constexpr double kGemma2DefaultFinalLogitSoftcapping = 30.0;

std::string supported_architectures() {
  std::string names;
  for (const ArchitectureName& entry : kArchitectures) {
    names += names.empty() ? "" : ", ";
    names += entry.name;
  }
  return names;
}

void read_architecture(const Json& config, const JsonPath& where, HfConfig& result) {
  const Json* list = optional_field(config, "architectures");
  if (list == nullptr) {
    fail_at(where / "architectures", "field is missing; it names the model class, one of {}", supported_architectures());
  }
  if (!list->is_array() || list->empty()) {
    fail_at(where / "architectures", "expected a non-empty array of model class names, found {}", list->dump());
  }

  result.architecture_name = hf::as_string((*list)[0], (where / "architectures")[0]);
  for (const ArchitectureName& entry : kArchitectures) {
    if (entry.name == result.architecture_name) {
      result.arch = entry.arch;
      return;
    }
  }
  fail_at(where / "architectures", "architecture \"{}\" is not supported; edgelm supports {}", result.architecture_name,
          supported_architectures());
}

// A JSON integer in [minimum, UINT32_MAX].
uint32_t as_uint32(const Json& value, const JsonPath& where, uint32_t minimum) {
  if (!value.is_number_integer()) {
    fail_at(where, "expected an integer, found {}", value.dump());
  }
  if (value.is_number_unsigned()) {
    const uint64_t number = value.get<uint64_t>();
    if (number > std::numeric_limits<uint32_t>::max()) {
      fail_at(where, "{} is too large; the maximum is {}", number, std::numeric_limits<uint32_t>::max());
    }
    if (number < minimum) {
      fail_at(where, "must be at least {}, found {}", minimum, number);
    }
    return static_cast<uint32_t>(number);
  }
  const int64_t number = value.get<int64_t>();
  if (number < static_cast<int64_t>(minimum)) {
    fail_at(where, "must be at least {}, found {}", minimum, number);
  }
  return static_cast<uint32_t>(number);
}

// A size the model cannot do without, such as hidden_size: a positive integer.
uint32_t required_size(const Json& config, std::string_view key, const JsonPath& where) {
  const Json* value = optional_field(config, key);
  if (value == nullptr) {
    fail_at(where / key, "field is missing; config.json must set it to a positive integer");
  }
  return as_uint32(*value, where / key, 1);
}

std::optional<uint32_t> optional_size(const Json& config, std::string_view key, const JsonPath& where) {
  const Json* value = optional_field(config, key);
  if (value == nullptr) {
    return std::nullopt;
  }
  return as_uint32(*value, where / key, 1);
}

double as_positive_number(const Json& value, const JsonPath& where) {
  if (!value.is_number()) {
    fail_at(where, "expected a number, found {}", value.dump());
  }
  const double number = value.get<double>();
  if (!(number > 0.0) || number == std::numeric_limits<double>::infinity()) {
    fail_at(where, "must be a positive number, found {}", value.dump());
  }
  return number;
}

double positive_number_or(const Json& config, std::string_view key, double default_value, const JsonPath& where) {
  const Json* value = optional_field(config, key);
  return value == nullptr ? default_value : as_positive_number(*value, where / key);
}

// A Gemma 2 setting that transformers fills with `default_value` when the key
// is absent; an explicit null turns the feature off.
template <typename T, typename Read>
std::optional<T> gemma2_setting(const Json& config, std::string_view key, T default_value, Read read) {
  const auto it = config.find(key);
  if (it == config.end()) {
    return default_value;
  }
  if (it->is_null()) {
    return std::nullopt;
  }
  return read(*it);
}

uint32_t token_id_of(const Json& value, const JsonPath& where) {
  return as_uint32(value, where, 0);
}

// Reads bos_token_id, eos_token_id (an id or a list of ids) and pad_token_id
// where `json` sets them, replacing what `result` holds.
void read_token_ids(const Json& json, const JsonPath& where, HfConfig& result) {
  if (const Json* bos = optional_field(json, "bos_token_id")) {
    result.bos_token_id = token_id_of(*bos, where / "bos_token_id");
  }

  if (const Json* eos = optional_field(json, "eos_token_id")) {
    const JsonPath eos_where = where / "eos_token_id";
    result.eos_token_ids.clear();
    if (eos->is_array()) {
      for (size_t i = 0; i < eos->size(); ++i) {
        result.eos_token_ids.push_back(token_id_of((*eos)[i], eos_where[i]));
      }
    } else {
      result.eos_token_ids.push_back(token_id_of(*eos, eos_where));
    }
  }

  if (const Json* pad = optional_field(json, "pad_token_id")) {
    result.pad_token_id = token_id_of(*pad, where / "pad_token_id");
  }
}

std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Reads RoPE settings. Files saved by transformers 5 keep them in
// "rope_parameters" (with rope_theta inside); older ones write "rope_theta"
// and "rope_scaling" at the top level.
void read_rope(const Json& config, const JsonPath& where, HfConfig& result) {
  std::string_view key = "rope_parameters";
  const Json* rope = optional_field(config, key);
  if (rope == nullptr) {
    key = "rope_scaling";
    rope = optional_field(config, key);
  }
  JsonPath rope_where = where / key;

  // Models with several attention types keep one entry per type; the
  // converter reads the full-attention one.
  if (const Json* full_attention = rope != nullptr ? optional_field(*rope, "full_attention") : nullptr) {
    rope = full_attention;
    rope_where = rope_where / "full_attention";
  }

  result.rope_theta = positive_number_or(config, "rope_theta", 10000.0, where);
  if (rope == nullptr) {
    return;
  }
  if (!rope->is_object()) {
    fail_at(rope_where, "expected a JSON object or null, found {}", rope->dump());
  }
  result.rope_theta = positive_number_or(*rope, "rope_theta", result.rope_theta, rope_where);

  const Json* type = optional_field(*rope, "rope_type");
  const JsonPath type_where = rope_where / (type != nullptr ? "rope_type" : "type");
  if (type == nullptr) {
    type = optional_field(*rope, "type");
  }
  if (type == nullptr) {
    fail_at(rope_where, "the RoPE scaling type is missing; set \"rope_type\"");
  }
  const std::string type_name = lowercase(hf::as_string(*type, type_where));
  if (type_name == "default") {
    return;
  }
  if (type_name != "llama3" || result.arch == HfArchitecture::kGemma2) {
    fail_at(type_where, "RoPE scaling type \"{}\" is not supported for {}; edgelm reads \"llama3\" scaling for Llama models, or none",
            hf::as_string(*type, type_where), result.architecture_name);
  }

  HfLlama3RopeScaling scaling;
  scaling.factor = positive_number_or(*rope, "factor", scaling.factor, rope_where);
  scaling.low_freq_factor = positive_number_or(*rope, "low_freq_factor", scaling.low_freq_factor, rope_where);
  scaling.high_freq_factor = positive_number_or(*rope, "high_freq_factor", scaling.high_freq_factor, rope_where);
  if (const auto original = optional_size(*rope, "original_max_position_embeddings", rope_where)) {
    scaling.original_max_position_embeddings = *original;
  }
  if (scaling.high_freq_factor <= scaling.low_freq_factor) {
    fail_at(rope_where / "high_freq_factor", "must be greater than low_freq_factor ({}), found {}", scaling.low_freq_factor,
            scaling.high_freq_factor);
  }
  result.rope_scaling = scaling;
}

void read_attention_shape(const Json& config, const JsonPath& where, HfConfig& result) {
  result.num_attention_heads = required_size(config, "num_attention_heads", where);
  result.num_key_value_heads =
      optional_size(config, "num_key_value_heads", where).value_or(result.num_attention_heads);
  if (result.num_attention_heads % result.num_key_value_heads != 0) {
    fail_at(where / "num_key_value_heads", "num_attention_heads ({}) is not a multiple of num_key_value_heads ({})",
            result.num_attention_heads, result.num_key_value_heads);
  }

  if (const auto head_dim = optional_size(config, "head_dim", where)) {
    result.head_dim = *head_dim;
  } else if (result.arch == HfArchitecture::kGemma2 && !config.contains("head_dim")) {
    result.head_dim = kGemma2DefaultHeadDim;
  } else {
    if (result.hidden_size % result.num_attention_heads != 0) {
      fail_at(where / "num_attention_heads", "hidden_size ({}) is not a multiple of num_attention_heads ({}); set head_dim",
              result.hidden_size, result.num_attention_heads);
    }
    result.head_dim = result.hidden_size / result.num_attention_heads;
  }

  // RoPE rotates pairs of dimensions, and the GGUF Q/K row order pairs them within each head.
  if (result.head_dim % 2 != 0) {
    fail_at(where / "head_dim", "head dimension {} is odd; RoPE needs an even head dimension", result.head_dim);
  }
}

void read_gemma2_settings(const Json& config, const JsonPath& where, HfConfig& result) {
  const auto number = [&](std::string_view key) {
    return [&, key](const Json& value) { return as_positive_number(value, where / key); };
  };
  result.query_pre_attn_scalar =
      gemma2_setting(config, "query_pre_attn_scalar", kGemma2DefaultQueryPreAttnScalar, number("query_pre_attn_scalar"));
  result.sliding_window = gemma2_setting(config, "sliding_window", kGemma2DefaultSlidingWindow,
                                         [&](const Json& value) { return as_uint32(value, where / "sliding_window", 1); });
  result.attn_logit_softcapping = gemma2_setting(config, "attn_logit_softcapping", kGemma2DefaultAttnLogitSoftcapping,
                                                 number("attn_logit_softcapping"));
  result.final_logit_softcapping = gemma2_setting(config, "final_logit_softcapping",
                                                  kGemma2DefaultFinalLogitSoftcapping, number("final_logit_softcapping"));
}

}  // namespace

HfConfig HfConfig::load(const std::string& dir) {
  const std::string config_path = (std::filesystem::path(dir) / "config.json").string();
  std::error_code error;
  if (!std::filesystem::is_regular_file(config_path, error)) {
    fail("{}: not a Hugging Face model directory because config.json is missing; pass a GGUF file or a directory "
         "with config.json, safetensors weights and tokenizer files",
         dir);
  }
  const Json config = hf::read_json_file(config_path);
  const JsonPath where{config_path, ""};
  if (!config.is_object()) {
    fail_at(where, "expected a JSON object, found {}", config.type_name());
  }

  HfConfig result;
  result.dir = dir;
  read_architecture(config, where, result);

  result.vocab_size = required_size(config, "vocab_size", where);
  result.hidden_size = required_size(config, "hidden_size", where);
  result.intermediate_size = required_size(config, "intermediate_size", where);
  result.num_hidden_layers = required_size(config, "num_hidden_layers", where);
  result.max_position_embeddings = required_size(config, "max_position_embeddings", where);
  read_attention_shape(config, where, result);
  result.rms_norm_eps = positive_number_or(config, "rms_norm_eps", result.rms_norm_eps, where);
  read_rope(config, where, result);

  const bool is_gemma2 = result.arch == HfArchitecture::kGemma2;
  if (is_gemma2) {
    read_gemma2_settings(config, where, result);
  }
  // transformers' Gemma2Config ties the embeddings by default, but
  // LlamaConfig and MistralConfig do not.
  result.tie_word_embeddings = hf::bool_field(config, "tie_word_embeddings", is_gemma2, where);

  read_token_ids(config, where, result);
  const std::string generation_path = (std::filesystem::path(dir) / "generation_config.json").string();
  if (const auto generation = hf::read_json_file_if_present(generation_path)) {
    const JsonPath generation_where{generation_path, ""};
    if (!generation->is_object()) {
      fail_at(generation_where, "expected a JSON object, found {}", generation->type_name());
    }
    read_token_ids(*generation, generation_where, result);
  }
  return result;
}

}  // namespace edgelm
