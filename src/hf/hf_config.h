#pragma once
// The files of a Hugging Face model directory that describe the model:
// config.json, generation_config.json and tokenizer_config.json.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace edgelm {

enum class HfArchitecture { kGemma2, kLlama, kMistral };

// Llama 3.1's "rope_scaling": {"rope_type": "llama3", ...}.
struct HfLlama3RopeScaling {
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  uint32_t original_max_position_embeddings = 8192;
};

struct HfConfig {
  std::string dir;
  HfArchitecture arch = HfArchitecture::kLlama;
  std::string architecture_name;  // "Gemma2ForCausalLM", ...

  uint32_t vocab_size = 0;
  uint32_t hidden_size = 0;
  uint32_t intermediate_size = 0;
  uint32_t num_hidden_layers = 0;
  uint32_t num_attention_heads = 0;
  uint32_t num_key_value_heads = 0;  // num_attention_heads when absent
  // hidden_size / num_attention_heads when absent or null, except that an
  // absent head_dim is 256 for Gemma 2 (transformers' Gemma2Config default).
  uint32_t head_dim = 0;
  uint32_t max_position_embeddings = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;  // "rope_parameters" (transformers 5) wins over the top-level key
  // Only rope_type "llama3", for Llama and Mistral; "default" means none and
  // other types throw.
  std::optional<HfLlama3RopeScaling> rope_scaling;

  // Gemma 2 only. An absent key takes transformers' Gemma2Config default
  // (256, 4096, 50 and 30); null means the feature is off.
  std::optional<double> query_pre_attn_scalar;
  std::optional<uint32_t> sliding_window;
  std::optional<double> attn_logit_softcapping;
  std::optional<double> final_logit_softcapping;

  bool tie_word_embeddings = false;  // when absent: true for Gemma 2, false for Llama and Mistral

  // Token ids from config.json, overridden by generation_config.json where
  // it sets them. eos_token_ids contains every id that ends generation.
  std::optional<uint32_t> bos_token_id;
  std::vector<uint32_t> eos_token_ids;
  std::optional<uint32_t> pad_token_id;

  // Reads `dir`/config.json and, when present, generation_config.json.
  // Throws Error naming the file and key: a missing or malformed file, an
  // architecture other than Gemma2ForCausalLM, LlamaForCausalLM and
  // MistralForCausalLM (the message lists those), a missing or
  // non-positive size, heads that do not divide.
  static HfConfig load(const std::string& dir);
};

}  // namespace edgelm
