#include "hf/hf_checkpoint.h"

#include <cmath>
#include <algorithm>
#include <cstring>
#include <map>
#include <deque>
#include <filesystem>
#include <optional>
#include <set>
#include <string_view>
#include <vector>

#include <fmt/ranges.h>

#include "core/error.h"
#include "hf/hf_metadata.h"
#include "safetensors/safetensors_checkpoint.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

// Storage behind the view's tensors: the mapped shards and the copies made
// for converted tensors. A deque keeps each buffer at a fixed address.
struct HfStorage {
  std::unique_ptr<SafetensorsCheckpoint> checkpoint;
  std::deque<std::vector<uint8_t>> buffers;
};

enum class TensorRole { kMatrix, kNorm, kQuery, kKey };

// Destination of one Hugging Face tensor in the GGUF file, with its
// expected shape in Hugging Face (row-major) order.
struct TensorTarget {
  std::string gguf_name;
  TensorRole role = TensorRole::kMatrix;
  std::vector<uint64_t> shape;
};

bool is_gemma(const HfConfig& c) { return c.arch == HfArchitecture::kGemma2; }

// The tensors a checkpoint of `c`'s architecture must hold, by Hugging Face name.
std::map<std::string, TensorTarget> expected_tensors(const HfConfig& c) {
  const uint64_t n_embd = c.hidden_size;
  const uint64_t q_dim = uint64_t{c.num_attention_heads} * c.head_dim;
  const uint64_t kv_dim = uint64_t{c.num_key_value_heads} * c.head_dim;
  const uint64_t n_ff = c.intermediate_size;

  std::map<std::string, TensorTarget> targets;
  targets["model.embed_tokens.weight"] = {"token_embd.weight", TensorRole::kMatrix, {c.vocab_size, n_embd}};
  targets["model.norm.weight"] = {"output_norm.weight", TensorRole::kNorm, {n_embd}};

  for (uint32_t il = 0; il < c.num_hidden_layers; ++il) {
    const std::string hf = fmt::format("model.layers.{}.", il);
    const std::string gg = fmt::format("blk.{}.", il);
    auto add = [&](std::string_view hf_suffix, std::string_view gguf_suffix, TensorRole role,
                   std::vector<uint64_t> shape) {
      targets[hf + std::string(hf_suffix)] = {gg + std::string(gguf_suffix), role, std::move(shape)};
    };

    add("input_layernorm.weight", "attn_norm.weight", TensorRole::kNorm, {n_embd});
    add("self_attn.q_proj.weight", "attn_q.weight", TensorRole::kQuery, {q_dim, n_embd});
    add("self_attn.k_proj.weight", "attn_k.weight", TensorRole::kKey, {kv_dim, n_embd});
    add("self_attn.v_proj.weight", "attn_v.weight", TensorRole::kMatrix, {kv_dim, n_embd});
    add("self_attn.o_proj.weight", "attn_output.weight", TensorRole::kMatrix, {n_embd, q_dim});
    add("mlp.gate_proj.weight", "ffn_gate.weight", TensorRole::kMatrix, {n_ff, n_embd});
    add("mlp.up_proj.weight", "ffn_up.weight", TensorRole::kMatrix, {n_ff, n_embd});
    add("mlp.down_proj.weight", "ffn_down.weight", TensorRole::kMatrix, {n_embd, n_ff});

    // Gemma 2 normalizes before and after each block, Llama only before.
    if (is_gemma(c)) {
      add("post_attention_layernorm.weight", "post_attention_norm.weight", TensorRole::kNorm, {n_embd});
      add("pre_feedforward_layernorm.weight", "ffn_norm.weight", TensorRole::kNorm, {n_embd});
      add("post_feedforward_layernorm.weight", "post_ffw_norm.weight", TensorRole::kNorm, {n_embd});
    } else {
      add("post_attention_layernorm.weight", "ffn_norm.weight", TensorRole::kNorm, {n_embd});
    }
  }
  return targets;
}

// Tensors a checkpoint may hold that the GGUF file leaves out.
bool is_skipped_tensor(const HfConfig& c, std::string_view name) {
  if (SafetensorsCheckpoint::is_float8_scale(name)) return true;
  if (name.ends_with(".rotary_emb.inv_freq")) return true;  // recomputed from rope_theta
  // Gemma ties the output to the embedding, so llama.cpp's converter drops a stored copy.
  if (name == "lm_head.weight" && is_gemma(c)) return true;
  return false;
}

DType gguf_dtype(const SafetensorsTensor& t) {
  switch (t.dtype) {
    case SafetensorsDType::F32:
      return DType::F32;
    case SafetensorsDType::F16:
      return DType::F16;
    case SafetensorsDType::BF16:
      return DType::BF16;
    default:
      return DType::F32;  // converted by the caller
  }
}

// Row order of llama.cpp's converter for Q and K: within each head of
// `head_dim` rows, row 2i + j is stored row j * head_dim / 2 + i.
std::vector<uint8_t> permute_rows_for_gguf(const uint8_t* data, uint64_t n_rows, uint64_t row_bytes,
                                           uint32_t head_dim) {
  std::vector<uint8_t> out(n_rows * row_bytes);
  const uint64_t half = head_dim / 2;
  for (uint64_t head_start = 0; head_start < n_rows; head_start += head_dim) {
    for (uint64_t i = 0; i < half; ++i) {
      for (uint64_t j = 0; j < 2; ++j) {
        const uint64_t to = head_start + 2 * i + j;
        const uint64_t from = head_start + j * half + i;
        std::memcpy(out.data() + to * row_bytes, data + from * row_bytes, row_bytes);
      }
    }
  }
  return out;
}

}  // namespace

// Llama 3.1's long-context RoPE: one divisor per frequency, computed in
// float32 as llama.cpp's converter computes the "rope_freqs" tensor.
std::vector<float> llama3_rope_factors(const HfConfig& c) {
  const HfLlama3RopeScaling& s = *c.rope_scaling;
  const uint32_t dim = c.head_dim;
  const float old_context = static_cast<float>(s.original_max_position_embeddings);
  const float low_freq_wavelen = old_context / static_cast<float>(s.low_freq_factor);
  const float high_freq_wavelen = old_context / static_cast<float>(s.high_freq_factor);
  const float factor = static_cast<float>(s.factor);

  std::vector<float> factors;
  for (uint32_t i = 0; i < dim; i += 2) {
    const float freq =
        1.0f / std::pow(static_cast<float>(c.rope_theta), static_cast<float>(i) / static_cast<float>(dim));
    const float wavelen = 2.0f * static_cast<float>(M_PI) / freq;
    if (wavelen < high_freq_wavelen) {
      factors.push_back(1.0f);
    } else if (wavelen > low_freq_wavelen) {
      factors.push_back(factor);
    } else {
      const float smooth = (old_context / wavelen - static_cast<float>(s.low_freq_factor)) /
                           static_cast<float>(s.high_freq_factor - s.low_freq_factor);
      factors.push_back(1.0f / ((1.0f - smooth) / factor + smooth));
    }
  }
  return factors;
}

namespace {

class ViewBuilder {
 public:
  ViewBuilder(const HfConfig& config, HfTensorLayout layout, HfStorage& storage)
      : config_(config), layout_(layout), storage_(storage) {}

  void add_rope_factors() {
    if (config_.arch == HfArchitecture::kGemma2 || !config_.rope_scaling) return;
    std::vector<float> factors = llama3_rope_factors(config_);
    add_owned("rope_freqs.weight", {factors.size()}, DType::F32, factors.data(), factors.size() * sizeof(float));
  }

  void add(const SafetensorsTensor& t, const TensorTarget& target) {
    check_shape(t, target);
    const std::vector<uint64_t> dims(target.shape.rbegin(), target.shape.rend());

    if (target.role == TensorRole::kNorm) {
      add_norm(t, target.gguf_name, dims);
      return;
    }
    if (t.dtype == SafetensorsDType::F8_E4M3) {
      add_dequantized(t, target, dims);
      return;
    }

    const bool permute = layout_ == HfTensorLayout::kGguf && !is_gemma(config_) &&
                         (target.role == TensorRole::kQuery || target.role == TensorRole::kKey);
    if (permute) {
      const uint64_t row_bytes = t.n_bytes / target.shape[0];
      std::vector<uint8_t> permuted = permute_rows_for_gguf(t.data, target.shape[0], row_bytes, config_.head_dim);
      add_owned(target.gguf_name, dims, gguf_dtype(t), permuted.data(), permuted.size());
      return;
    }
    push(target.gguf_name, dims, gguf_dtype(t), t.data, t.n_bytes);
  }

  std::vector<GgufTensor> take() { return std::move(tensors_); }

 private:
  void check_shape(const SafetensorsTensor& t, const TensorTarget& target) const {
    if (t.shape != target.shape) {
      fail("{}: tensor '{}' has shape [{}], but config.json gives [{}]; the weights do not belong to this config",
           storage_.checkpoint->shard_path(t), t.name, fmt::join(t.shape, ", "), fmt::join(target.shape, ", "));
    }
    if (t.dtype == SafetensorsDType::kOther) {
      fail("{}: tensor '{}' has dtype {}; edgelm reads F32, F16, BF16 and F8_E4M3 weights",
           storage_.checkpoint->shard_path(t), t.name, t.dtype_name);
    }
  }

  void add_norm(const SafetensorsTensor& t, const std::string& name, const std::vector<uint64_t>& dims) {
    std::vector<float> values = storage_.checkpoint->to_float(t);
    // Exact in float32 for BF16 and F16 weights, as llama.cpp's converter computes it.
    if (is_gemma(config_)) {
      for (float& v : values) v += 1.0f;
    }
    add_owned(name, dims, DType::F32, values.data(), values.size() * sizeof(float));
  }

  // Float8 weights times their scales, stored as BF16 to run (half the
  // memory of F32) or F32 to convert (exact).
  void add_dequantized(const SafetensorsTensor& t, const TensorTarget& target, const std::vector<uint64_t>& dims) {
    std::vector<float> values = storage_.checkpoint->to_float(t);
    const bool permute = layout_ == HfTensorLayout::kGguf && !is_gemma(config_) &&
                         (target.role == TensorRole::kQuery || target.role == TensorRole::kKey);
    if (permute) {
      const uint64_t row_bytes = target.shape[1] * sizeof(float);
      std::vector<uint8_t> permuted = permute_rows_for_gguf(reinterpret_cast<const uint8_t*>(values.data()),
                                                            target.shape[0], row_bytes, config_.head_dim);
      std::memcpy(values.data(), permuted.data(), permuted.size());
    }

    if (layout_ == HfTensorLayout::kGguf) {
      add_owned(target.gguf_name, dims, DType::F32, values.data(), values.size() * sizeof(float));
      return;
    }
    // NOTE: rounding fp8 x scale to BF16 loses up to 2^-9 of each weight; convert to F32 to keep it exact.
    std::vector<uint16_t> halves(values.size());
    for (size_t i = 0; i < values.size(); ++i) halves[i] = f32_to_bf16(values[i]);
    add_owned(target.gguf_name, dims, DType::BF16, halves.data(), halves.size() * sizeof(uint16_t));
  }

  void add_owned(const std::string& name, const std::vector<uint64_t>& dims, DType type, const void* data,
                 size_t n_bytes) {
    std::vector<uint8_t>& buffer = storage_.buffers.emplace_back(n_bytes);
    std::memcpy(buffer.data(), data, n_bytes);
    push(name, dims, type, buffer.data(), n_bytes);
  }

  void push(const std::string& name, const std::vector<uint64_t>& dims, DType type, const uint8_t* data,
            uint64_t n_bytes) {
    GgufTensor t;
    t.name = name;
    t.dims = dims;
    t.type = type;
    t.data = data;
    t.n_bytes = n_bytes;
    tensors_.push_back(std::move(t));
  }

  const HfConfig& config_;
  HfTensorLayout layout_;
  HfStorage& storage_;
  std::vector<GgufTensor> tensors_;
};

}  // namespace

bool is_hf_model_dir(const std::string& path) {
  std::error_code error;
  return std::filesystem::is_directory(path, error);
}

namespace {

// "models/gemma/" names the model "gemma", as "models/gemma" does.
std::string without_trailing_slashes(std::string dir) {
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir;
}

}  // namespace

std::unique_ptr<GgufFile> open_hf_metadata(const std::string& path) {
  const std::string dir = without_trailing_slashes(path);
  GgufMetadata metadata = hf_gguf_metadata(HfConfig::load(dir), HfMetadataOptions{});
  return GgufFile::assemble(dir, std::move(metadata), {}, nullptr);
}

HfModel open_hf_model(const std::string& path, HfTensorLayout layout, uint32_t file_type) {
  const std::string dir = without_trailing_slashes(path);

  HfModel model;
  model.config = HfConfig::load(dir);
  const HfConfig& config = model.config;

  auto storage = std::make_shared<HfStorage>();
  storage->checkpoint = SafetensorsCheckpoint::open(dir);
  const SafetensorsCheckpoint& checkpoint = *storage->checkpoint;

  // llama.cpp's converter writes generated tensors first, then the
  // checkpoint's in shard order, each shard's by name.
  ViewBuilder builder(config, layout, *storage);
  builder.add_rope_factors();

  std::map<std::string, size_t> shard_rank;
  for (const SafetensorsTensor* t : checkpoint.tensors()) {
    shard_rank.emplace(checkpoint.shard_path(*t), shard_rank.size());
  }
  std::vector<const SafetensorsTensor*> ordered = checkpoint.tensors();
  std::sort(ordered.begin(), ordered.end(), [&](const SafetensorsTensor* a, const SafetensorsTensor* b) {
    const size_t rank_a = shard_rank.at(checkpoint.shard_path(*a));
    const size_t rank_b = shard_rank.at(checkpoint.shard_path(*b));
    if (rank_a != rank_b) return rank_a < rank_b;
    return a->name < b->name;
  });

  const std::map<std::string, TensorTarget> expected = expected_tensors(config);
  std::set<std::string> seen;
  for (const SafetensorsTensor* t : ordered) {
    if (is_skipped_tensor(config, t->name)) continue;

    if (t->name == "lm_head.weight") {
      builder.add(*t, {"output.weight", TensorRole::kMatrix, {config.vocab_size, config.hidden_size}});
      continue;
    }
    auto it = expected.find(t->name);
    if (it == expected.end()) {
      fail("{}: tensor '{}' is not part of a {} model with {} layers; the checkpoint does not match config.json",
           checkpoint.shard_path(*t), t->name, config.architecture_name, config.num_hidden_layers);
    }
    builder.add(*t, it->second);
    seen.insert(t->name);
  }

  for (const auto& [name, target] : expected) {
    if (!seen.contains(name)) {
      fail("{}: tensor '{}' is missing from the safetensors files; the checkpoint is incomplete", dir, name);
    }
  }

  // Without lm_head.weight the GGUF file has no output.weight, so it would
  // run with the embedding as its head.
  if (!is_gemma(config) && !config.tie_word_embeddings && checkpoint.find("lm_head.weight") == nullptr) {
    fail("{}: tensor 'lm_head.weight' is missing from the safetensors files, but config.json sets "
         "tie_word_embeddings to false; the checkpoint is incomplete",
         dir);
  }

  std::vector<GgufTensor> tensors = builder.take();
  for (const GgufTensor& t : tensors) model.n_params += t.n_elements();

  HfMetadataOptions options;
  options.file_type = file_type;
  options.n_params = model.n_params;
  GgufMetadata metadata = hf_gguf_metadata(config, options);

  model.rotates_halves = layout == HfTensorLayout::kRun;
  model.file = GgufFile::assemble(dir, std::move(metadata), std::move(tensors), std::move(storage));
  return model;
}

}  // namespace edgelm
