#include "model/hparams.h"

#include <cmath>

#include "core/error.h"
#include "gguf/gguf_file.h"

namespace edgelm {
namespace {

// Reads "<arch>.<suffix>" as an unsigned integer that must be present and positive.
uint32_t required_count(const GgufFile& file, const std::string& arch, const char* suffix) {
  std::string key = arch + "." + suffix;
  uint64_t value = file.get_uint(key);
  if (value == 0 || value > (1u << 30)) {
    fail("{}: metadata '{}' is {}, expected a positive count; the file is corrupt", file.path(), key, value);
  }
  return static_cast<uint32_t>(value);
}

uint32_t optional_count(const GgufFile& file, const std::string& arch, const char* suffix, uint32_t fallback) {
  auto value = file.find_uint(arch + "." + suffix);
  if (!value) return fallback;
  if (*value == 0 || *value > (1u << 30)) {
    fail("{}: metadata '{}.{}' is {}, expected a positive count", file.path(), arch, suffix, *value);
  }
  return static_cast<uint32_t>(*value);
}

void read_common(const GgufFile& file, HParams& hp) {
  const std::string& arch = hp.arch_name;
  hp.n_ctx_train = required_count(file, arch, "context_length");
  hp.n_embd = required_count(file, arch, "embedding_length");
  hp.n_layer = required_count(file, arch, "block_count");
  hp.n_ff = required_count(file, arch, "feed_forward_length");
  hp.n_head = required_count(file, arch, "attention.head_count");
  hp.n_head_kv = optional_count(file, arch, "attention.head_count_kv", hp.n_head);
  hp.head_dim = optional_count(file, arch, "attention.key_length", hp.n_embd / hp.n_head);
  hp.head_dim_v = optional_count(file, arch, "attention.value_length", hp.head_dim);
  hp.rms_eps = static_cast<float>(file.find_float(arch + ".attention.layer_norm_rms_epsilon").value_or(1e-5));
  hp.rope_base = static_cast<float>(file.find_float(arch + ".rope.freq_base").value_or(10000.0));
  hp.n_rot = optional_count(file, arch, "rope.dimension_count", hp.head_dim);

  if (hp.n_head % hp.n_head_kv != 0) {
    fail("{}: {} query heads is not a multiple of {} key/value heads", file.path(), hp.n_head, hp.n_head_kv);
  }
  if (hp.n_rot > hp.head_dim || hp.n_rot % 2 != 0) {
    fail("{}: rope.dimension_count {} must be even and at most the head size {}", file.path(), hp.n_rot, hp.head_dim);
  }

  // The vocabulary size comes from the token list when the architecture key is absent.
  auto n_vocab = file.find_uint(arch + ".vocab_size");
  if (n_vocab) {
    hp.n_vocab = static_cast<uint32_t>(*n_vocab);
  } else if (const auto* tokens = file.find("tokenizer.ggml.tokens")) {
    hp.n_vocab = static_cast<uint32_t>(std::get<GgufArray>(tokens->value).items.size());
  }
  hp.layer_is_sliding.assign(hp.n_layer, false);
}

void apply_gemma2_rules(const GgufFile& file, HParams& hp) {
  hp.rope_style = RopeStyle::kHalves;
  hp.activation = FfnActivation::kGeluTanh;
  hp.scale_embeddings = true;
  hp.post_norms = true;
  hp.attn_softcap = static_cast<float>(file.find_float("gemma2.attn_logit_softcapping").value_or(50.0));
  hp.final_softcap = static_cast<float>(file.find_float("gemma2.final_logit_softcapping").value_or(30.0));
  hp.sliding_window = optional_count(file, "gemma2", "attention.sliding_window", 4096);

  // Even layers (0, 2, 4, ...) use the sliding window, odd layers attend globally.
  for (uint32_t il = 0; il < hp.n_layer; ++il) hp.layer_is_sliding[il] = (il % 2 == 0);

  // GGUF does not store query_pre_attn_scalar. Gemma 2 27B (46 layers) scales
  // queries by 1/sqrt(d_model / n_head) = 1/sqrt(144); 2B and 9B by 1/sqrt(head_dim).
  float query_pre_attn_scalar = hp.n_layer == 46 ? static_cast<float>(hp.n_embd) / hp.n_head
                                                 : static_cast<float>(hp.head_dim);
  hp.query_scale = 1.0f / std::sqrt(query_pre_attn_scalar);
}

// Rejects values that would turn every logit into NaN or silently change the model.
void check_ranges(const GgufFile& file, const HParams& hp) {
  if (!(hp.rms_eps > 0.0f && hp.rms_eps < 1.0f)) {
    fail("{}: metadata '{}.attention.layer_norm_rms_epsilon' is {}, expected a small positive number such as 1e-6",
         file.path(), hp.arch_name, hp.rms_eps);
  }
  if (!(hp.rope_base > 1.0f) || std::isinf(hp.rope_base)) {
    fail("{}: metadata '{}.rope.freq_base' is {}, expected a finite value above 1 such as 10000", file.path(),
         hp.arch_name, hp.rope_base);
  }
  if (!(hp.attn_softcap >= 0.0f) || std::isinf(hp.attn_softcap)) {
    fail("{}: metadata '{}.attn_logit_softcapping' is {}, expected a positive finite value such as 50", file.path(),
         hp.arch_name, hp.attn_softcap);
  }
  if (!(hp.final_softcap >= 0.0f) || std::isinf(hp.final_softcap)) {
    fail("{}: metadata '{}.final_logit_softcapping' is {}, expected a positive finite value such as 30", file.path(),
         hp.arch_name, hp.final_softcap);
  }
}

}  // namespace

HParams HParams::from_gguf(const GgufFile& file) {
  HParams hp;
  hp.arch_name = file.get_string("general.architecture");

  if (hp.arch_name == "gemma2") {
    hp.arch = Architecture::kGemma2;
    read_common(file, hp);
    apply_gemma2_rules(file, hp);
  } else if (hp.arch_name == "llama") {
    hp.arch = Architecture::kLlama;
    read_common(file, hp);
    hp.rope_style = RopeStyle::kAdjacentPairs;
    hp.activation = FfnActivation::kSilu;
    hp.query_scale = 1.0f / std::sqrt(static_cast<float>(hp.head_dim));
  } else {
    fail("{}: unsupported architecture '{}'; edgelm runs 'gemma2' and 'llama' models", file.path(), hp.arch_name);
  }

  check_ranges(file, hp);
  if (hp.n_vocab == 0) {
    fail("{}: vocabulary size unknown: neither '{}.vocab_size' nor 'tokenizer.ggml.tokens' is present",
         file.path(), hp.arch_name);
  }
  return hp;
}

}  // namespace edgelm
