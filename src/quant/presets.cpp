#include "quant/presets.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>

#include "core/error.h"

namespace edgelm {
namespace {

// llama.cpp's LLAMA_FTYPE numbers.
enum FileType : uint32_t {
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 7,
  kQ5_0 = 8,
  kQ5_1 = 9,
  kQ2_K = 10,
  kQ3_K_S = 11,
  kQ3_K_M = 12,
  kQ3_K_L = 13,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
};

constexpr std::array<QuantPreset, 14> kPresets = {{
    {"Q4_0", kQ4_0, DType::Q4_0},
    {"Q4_1", kQ4_1, DType::Q4_1},
    {"Q8_0", kQ8_0, DType::Q8_0},
    {"Q5_0", kQ5_0, DType::Q5_0},
    {"Q5_1", kQ5_1, DType::Q5_1},
    {"Q2_K", kQ2_K, DType::Q2_K},
    {"Q3_K_S", kQ3_K_S, DType::Q3_K},
    {"Q3_K_M", kQ3_K_M, DType::Q3_K},
    {"Q3_K_L", kQ3_K_L, DType::Q3_K},
    {"Q4_K_S", kQ4_K_S, DType::Q4_K},
    {"Q4_K_M", kQ4_K_M, DType::Q4_K},
    {"Q5_K_S", kQ5_K_S, DType::Q5_K},
    {"Q5_K_M", kQ5_K_M, DType::Q5_K},
    {"Q6_K", kQ6_K, DType::Q6_K},
}};

// Name fragments of 2-D weights that llama-quantize leaves unquantized
// because they are small or precision-critical (routing, positions, convolutions).
constexpr std::string_view kKeptWeights[] = {
    "_norm.weight",          "ffn_gate_inp.weight",       "ffn_gate_tid2eid.weight",
    "altup",                 "laurel",                    "per_layer_model_proj",
    "ssm_conv1d",            "shortconv.conv.weight",     "indexer.k_proj.weight",
    "indexer.q_proj.weight", "time_mix_first.weight",     "time_mix_w0.weight",
    "time_mix_w1.weight",    "time_mix_w2.weight",        "time_mix_v0.weight",
    "time_mix_v1.weight",    "time_mix_v2.weight",        "time_mix_a0.weight",
    "time_mix_a1.weight",    "time_mix_a2.weight",        "time_mix_g1.weight",
    "time_mix_g2.weight",    "time_mix_decay_w1.weight",  "time_mix_decay_w2.weight",
    "time_mix_lerp_fused.weight", "attn_rel_b.weight",    ".position_embd",
    "sam.pos_embd",          "sam.neck.",                 "sam.net_",
    ".rel_pos",              ".patch_embd",               ".patch_merger",
    "a.rvq.codebook",        "mm.a.code_embd",
};

// The roles the rules tell apart, found by name as llama.cpp does.
enum class Role { kTokenEmbedding, kOutput, kAttentionV, kAttentionK, kAttentionQ, kAttentionOutput, kFfnUp,
                  kFfnGate, kFfnDown, kOther };

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

Role role_of(std::string_view name) {
  if (name == "output.weight") return Role::kOutput;
  if (name == "token_embd.weight" || name == "per_layer_token_embd.weight") return Role::kTokenEmbedding;
  // Fused QKV and MLA's kv_b projections count as attn_v because they carry the values.
  // NOTE: read from llama.cpp's source; no test model has fused QKV or kv_b tensors.
  if (contains(name, "attn_qkv.weight") || contains(name, "attn_kv_b.weight") || contains(name, "attn_v.weight")) {
    return Role::kAttentionV;
  }
  if (contains(name, "attn_k.weight")) return Role::kAttentionK;
  if (contains(name, "attn_q.weight")) return Role::kAttentionQ;
  if (contains(name, "attn_output.weight")) return Role::kAttentionOutput;
  if (contains(name, "ffn_up")) return Role::kFfnUp;
  if (contains(name, "ffn_gate")) return Role::kFfnGate;
  if (contains(name, "ffn_down")) return Role::kFfnDown;
  return Role::kOther;
}

// Layer number of a "blk.N." name, or -1; like sscanf("blk.%d.") it accepts a sign and leading zeros.
int layer_of(std::string_view name) {
  if (!name.starts_with("blk.")) return -1;
  std::string_view rest = name.substr(4);
  if (rest.starts_with('+')) rest.remove_prefix(1);
  int layer = -1;
  auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), layer);
  return error == std::errc() ? layer : -1;
}

// Layers that get more bits in the _M mixes: the first and last eighth and every third in between.
bool use_more_bits(int i_layer, int n_layer) {
  return i_layer < n_layer / 8 || i_layer >= 7 * n_layer / 8 || (i_layer - n_layer / 8) % 3 == 2;
}

// Dimensions as ggml counts them: trailing dimensions of size 1 do not count.
size_t effective_dims(const std::vector<uint64_t>& dims) {
  size_t n = 1;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] > 1) n = i + 1;
  }
  return n;
}

uint32_t block_size(DType type) { return dtype_info(type).block_size; }

// Applies llama_tensor_get_type's rules for one preset over a model's tensors,
// keeping the per-role counters that make the choice depend on position.
class TypeRules {
 public:
  TypeRules(const QuantPreset& preset, const QuantModelInfo& model, std::span<const TensorDesc> tensors)
      : preset_(preset), model_(model) {
    for (const TensorDesc& t : tensors) {
      const Role role = role_of(t.name);
      if (role == Role::kAttentionV) ++n_attention_v_;
      if (role == Role::kOutput) tied_embeddings_ = false;
    }
    n_ffn_down_ = static_cast<int>(model.n_layer);
    // llama.cpp's LLM_TYPE_70B: Llama with 80 layers and grouped-query attention.
    is_llama_70b_ = model.architecture == "llama" && model.n_expert != 8 && model.n_layer == 80 &&
                    model.n_head != model.n_head_kv;
  }

  DType choose(const TensorDesc& tensor) {
    if (!tensor_is_quantizable(tensor)) return tensor.type;
    const DType chosen = apply_mix(tensor, preset_.default_type);
    return fall_back(tensor, chosen);
  }

 private:
  bool is(FileType type) const { return preset_.file_type == type; }
  bool is_falcon() const { return model_.architecture == "falcon"; }
  uint32_t n_gqa() const { return model_.n_head_kv == 0 ? 0 : model_.n_head / model_.n_head_kv; }

  // The layer and layer count for an ffn_down tensor: its position among
  // ffn_down tensors, or for MoE models the layer in its name.
  int ffn_down_layer(const std::string& name) const {
    if (model_.n_expert <= 1) return i_ffn_down_;
    const int layer = layer_of(name);
    if (layer < 0 || layer >= n_ffn_down_) {
      fail("cannot find the layer of tensor '{}': expected a name like blk.N. with N below {}", name, n_ffn_down_);
    }
    return layer;
  }

  DType apply_mix(const TensorDesc& tensor, DType type) {
    const Role role = role_of(tensor.name);

    // The output head, or the token embedding when it doubles as the head.
    if (role == Role::kOutput || (tied_embeddings_ && role == Role::kTokenEmbedding)) {
      if (is_falcon() || tensor.dims[0] % block_size(type) != 0) return DType::Q8_0;
      return type == DType::Q8_0 ? type : DType::Q6_K;
    }

    switch (role) {
      case Role::kAttentionV:
        type = attention_v_type(type);
        ++i_attention_v_;
        return type;
      case Role::kAttentionK:
        return model_.n_expert == 8 ? DType::Q8_0 : type;
      case Role::kFfnDown:
        type = ffn_down_type(type, ffn_down_layer(tensor.name));
        ++i_ffn_down_;
        return type;
      case Role::kAttentionOutput:
        return attention_output_type(type);
      default:
        return type;
    }
  }

  DType attention_v_type(DType type) const {
    const int i = i_attention_v_;
    if (is(kQ2_K)) {
      type = n_gqa() >= 4 ? DType::Q4_K : DType::Q3_K;
    } else if (is(kQ3_K_M)) {
      type = i < 2 ? DType::Q5_K : DType::Q4_K;
    } else if (is(kQ3_K_L)) {
      type = DType::Q5_K;
    } else if ((is(kQ4_K_M) || is(kQ5_K_M)) && use_more_bits(i, n_attention_v_)) {
      type = DType::Q6_K;
    } else if (is(kQ4_K_S) && i < 4) {
      type = DType::Q5_K;
    }
    // 70B shares each attn_v among 8 query heads, so it is small enough to afford more bits.
    if (is_llama_70b_ && (type == DType::Q3_K || type == DType::Q4_K)) type = DType::Q5_K;
    if (model_.n_expert == 8) type = DType::Q8_0;
    return type;
  }

  DType ffn_down_type(DType type, int i_layer) const {
    const int n_layer = n_ffn_down_;
    if (is(kQ2_K)) return DType::Q3_K;
    if (is(kQ3_K_M)) {
      if (i_layer < n_layer / 16) return DType::Q5_K;
      return !is_falcon() || use_more_bits(i_layer, n_layer) ? DType::Q4_K : DType::Q3_K;
    }
    if (is(kQ3_K_L)) return is_falcon() ? DType::Q4_K : DType::Q5_K;
    if (is(kQ4_K_M)) {
      if (is_falcon()) {
        if (i_layer < n_layer / 16) return DType::Q6_K;
        return use_more_bits(i_layer, n_layer) ? DType::Q5_K : DType::Q4_K;
      }
      return use_more_bits(i_layer, n_layer) ? DType::Q6_K : type;
    }
    if (is(kQ5_K_M) && use_more_bits(i_layer, n_layer)) return DType::Q6_K;
    if (is(kQ4_K_S) && !is_falcon() && i_layer < n_layer / 8) return DType::Q5_K;
    return type;
  }

  DType attention_output_type(DType type) const {
    if (is_falcon()) return is(kQ3_K_L) ? DType::Q4_K : type;
    if (model_.n_expert == 8) {
      const bool bumped = is(kQ2_K) || is(kQ3_K_S) || is(kQ3_K_M) || is(kQ4_K_S) || is(kQ4_K_M);
      return bumped ? DType::Q5_K : type;
    }
    if (is(kQ2_K)) return DType::Q3_K;
    if (is(kQ3_K_M)) return DType::Q4_K;
    if (is(kQ3_K_L)) return DType::Q5_K;
    return type;
  }

  // Rows that do not fill whole 256-value super-blocks get a 32-block type
  // of similar size. Rows that no block type fits (such as 172 values) are
  // stored as F16, whatever the preset.
  DType fall_back(const TensorDesc& tensor, DType type) const {
    const uint64_t row_length = tensor.dims[0];
    if (row_length % block_size(type) == 0) return type;

    switch (type) {
      case DType::Q2_K:
      case DType::Q3_K:
        type = DType::Q4_0;
        break;
      case DType::Q4_K:
        type = DType::Q5_0;
        break;
      case DType::Q5_K:
        type = DType::Q5_1;
        break;
      case DType::Q6_K:
        type = DType::Q8_0;
        break;
      default:
        break;
    }
    return row_length % block_size(type) == 0 ? type : DType::F16;
  }

  const QuantPreset& preset_;
  const QuantModelInfo& model_;
  bool tied_embeddings_ = true;
  bool is_llama_70b_ = false;
  int n_attention_v_ = 0;
  int i_attention_v_ = 0;
  int n_ffn_down_ = 0;
  int i_ffn_down_ = 0;
};

// A count stored as a uint or as a per-layer array, of which layer 0 counts.
uint32_t find_layer0_count(const GgufFile& file, const std::string& key) {
  const GgufValue* value = file.find(key);
  if (value == nullptr) return 0;
  if (value->type == GgufType::ARRAY) {
    std::vector<int64_t> counts = file.get_int_array(key);
    return counts.empty() ? 0 : static_cast<uint32_t>(counts[0]);
  }
  return static_cast<uint32_t>(file.get_uint(key));
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

std::span<const QuantPreset> quant_presets() { return kPresets; }

const QuantPreset& find_quant_preset(std::string_view name) {
  const std::string requested = upper(name);
  for (const QuantPreset& preset : kPresets) {
    if (preset.name == requested) return preset;
  }
  std::string names;
  for (const QuantPreset& preset : kPresets) names += (names.empty() ? "" : ", ") + std::string(preset.name);
  fail("unknown quantization type '{}'; valid types are {}", name, names);
}

QuantModelInfo read_quant_model_info(const GgufFile& file) {
  QuantModelInfo info;
  info.architecture = file.get_string("general.architecture");
  const std::string& arch = info.architecture;
  info.n_layer = static_cast<uint32_t>(file.get_uint(arch + ".block_count"));
  info.n_head = find_layer0_count(file, arch + ".attention.head_count");
  info.n_head_kv = find_layer0_count(file, arch + ".attention.head_count_kv");
  if (!file.has(arch + ".attention.head_count_kv")) info.n_head_kv = info.n_head;
  info.n_expert = static_cast<uint32_t>(file.find_uint(arch + ".expert_count").value_or(0));
  return info;
}

bool tensor_is_quantizable(const TensorDesc& tensor) {
  if (effective_dims(tensor.dims) < 2) return false;
  if (!tensor.name.ends_with("weight")) return false;
  // Learned positions and BERT's token types, matched by full name.
  if (tensor.name == "position_embd.weight" || tensor.name == "token_types.weight") return false;
  return std::none_of(std::begin(kKeptWeights), std::end(kKeptWeights),
                      [&](std::string_view part) { return contains(tensor.name, part); });
}

std::vector<DType> choose_tensor_types(const QuantPreset& preset, const QuantModelInfo& model,
                                       std::span<const TensorDesc> tensors) {
  TypeRules rules(preset, model, tensors);
  std::vector<DType> types;
  types.reserve(tensors.size());
  for (const TensorDesc& tensor : tensors) types.push_back(rules.choose(tensor));
  return types;
}

bool llama_tensor_order(std::string_view a, std::string_view b) {
  const int layer_a = layer_of(a);
  const int layer_b = layer_of(b);
  if (layer_a != layer_b) return layer_a < layer_b;
  return a < b;
}

}  // namespace edgelm
