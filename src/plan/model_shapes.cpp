// Built-in model shapes and the tensor lists of their GGUF files.

#include "plan/model_shapes.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

#include "core/error.h"

namespace edgelm {
namespace {

// The values of each model's published config.json (hidden_size,
// num_hidden_layers, num_attention_heads, num_key_value_heads, head_dim,
// intermediate_size, vocab_size, max_position_embeddings, sliding_window,
// tie_word_embeddings). Llama 3's merge count is that of llama.cpp's
// ggml-vocab-llama-bpe.gguf. NOTE: the configs were transcribed, not read
// from files here, and only the tensor layout is tested against real files.
constexpr std::array<ModelShape, 6> kShapes = {{
    {"gemma-2-2b", Architecture::kGemma2, 26, 2304, 8, 4, 256, 9216, 256000, 8192, 4096, true, false, 0},
    {"gemma-2-9b", Architecture::kGemma2, 42, 3584, 16, 8, 256, 14336, 256000, 8192, 4096, true, false, 0},
    {"gemma-2-27b", Architecture::kGemma2, 46, 4608, 32, 16, 128, 36864, 256000, 8192, 4096, true, false, 0},
    {"llama-3.1-8b", Architecture::kLlama, 32, 4096, 32, 8, 128, 14336, 128256, 131072, 0, false, true, 280147},
    {"llama-3.1-70b", Architecture::kLlama, 80, 8192, 64, 8, 128, 28672, 128256, 131072, 0, false, true, 280147},
    // NOTE: the merge count of Mistral NeMo's tokenizer is an estimate. It
    // scales Llama 3's merges per token to this vocabulary and only feeds the
    // tokenizer memory estimate.
    {"mistral-nemo-12b", Architecture::kLlama, 40, 5120, 32, 8, 128, 14336, 131072, 1024000, 0, false, false,
     286298},
}};

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string shape_names() {
  std::string names;
  for (const ModelShape& shape : kShapes) names += (names.empty() ? "" : ", ") + std::string(shape.name);
  return names;
}

// The converter's tensors, every matrix in `matrix_type` and every vector F32.
std::vector<TensorDesc> converted_tensors(const ModelShape& shape, DType matrix_type) {
  const uint64_t d = shape.n_embd;
  const uint64_t q_dim = uint64_t{shape.n_head} * shape.head_dim;
  const uint64_t kv_dim = uint64_t{shape.n_head_kv} * shape.head_dim;
  const bool gemma = shape.arch == Architecture::kGemma2;

  std::vector<TensorDesc> tensors;
  tensors.push_back({"token_embd.weight", {d, shape.n_vocab}, matrix_type});
  tensors.push_back({"output_norm.weight", {d}, DType::F32});
  if (!shape.tied_output) tensors.push_back({"output.weight", {d, shape.n_vocab}, matrix_type});
  if (shape.rope_freqs) tensors.push_back({"rope_freqs.weight", {shape.head_dim / 2}, DType::F32});

  for (uint32_t il = 0; il < shape.n_layer; ++il) {
    const std::string prefix = fmt::format("blk.{}.", il);
    tensors.push_back({prefix + "attn_norm.weight", {d}, DType::F32});
    tensors.push_back({prefix + "attn_q.weight", {d, q_dim}, matrix_type});
    tensors.push_back({prefix + "attn_k.weight", {d, kv_dim}, matrix_type});
    tensors.push_back({prefix + "attn_v.weight", {d, kv_dim}, matrix_type});
    tensors.push_back({prefix + "attn_output.weight", {q_dim, d}, matrix_type});
    tensors.push_back({prefix + "ffn_norm.weight", {d}, DType::F32});
    tensors.push_back({prefix + "ffn_gate.weight", {d, shape.n_ff}, matrix_type});
    tensors.push_back({prefix + "ffn_up.weight", {d, shape.n_ff}, matrix_type});
    tensors.push_back({prefix + "ffn_down.weight", {uint64_t{shape.n_ff}, d}, matrix_type});
    if (gemma) {
      tensors.push_back({prefix + "post_attention_norm.weight", {d}, DType::F32});
      tensors.push_back({prefix + "post_ffw_norm.weight", {d}, DType::F32});
    }
  }

  std::stable_sort(tensors.begin(), tensors.end(),
                   [](const TensorDesc& a, const TensorDesc& b) { return llama_tensor_order(a.name, b.name); });
  return tensors;
}

}  // namespace

std::span<const ModelShape> model_shapes() { return kShapes; }

const ModelShape& find_model_shape(std::string_view name) {
  const std::string requested = lower(name);
  for (const ModelShape& shape : kShapes) {
    if (shape.name == requested) return shape;
  }
  fail("unknown model shape '{}'; known shapes are {}", name, shape_names());
}

HParams shape_hparams(const ModelShape& shape) {
  HParams hp;
  hp.arch = shape.arch;
  hp.arch_name = shape.arch == Architecture::kGemma2 ? "gemma2" : "llama";
  hp.n_vocab = shape.n_vocab;
  hp.n_ctx_train = shape.n_ctx_train;
  hp.n_embd = shape.n_embd;
  hp.n_layer = shape.n_layer;
  hp.n_head = shape.n_head;
  hp.n_head_kv = shape.n_head_kv;
  hp.head_dim = shape.head_dim;
  hp.head_dim_v = shape.head_dim;
  hp.n_ff = shape.n_ff;
  hp.n_rot = shape.head_dim;
  hp.sliding_window = shape.sliding_window;

  // Gemma 2 alternates: even layers (0, 2, 4, ...) slide, odd layers are global.
  hp.layer_is_sliding.assign(shape.n_layer, false);
  if (shape.sliding_window > 0) {
    for (uint32_t il = 0; il < shape.n_layer; il += 2) hp.layer_is_sliding[il] = true;
  }

  if (shape.arch == Architecture::kGemma2) {
    hp.rope_style = RopeStyle::kHalves;
    hp.activation = FfnActivation::kGeluTanh;
    hp.scale_embeddings = true;
    hp.post_norms = true;
  }
  return hp;
}

std::vector<TensorDesc> shape_tensors(const ModelShape& shape, std::string_view type) {
  const std::string requested = lower(type);
  if (requested == "f32") return converted_tensors(shape, DType::F32);
  if (requested == "f16") return converted_tensors(shape, DType::F16);
  if (requested == "bf16") return converted_tensors(shape, DType::BF16);

  // llama-quantize starts from the converter's f16 file; the rules see only names, shapes and counts.
  const QuantPreset* preset = nullptr;
  for (const QuantPreset& candidate : quant_presets()) {
    if (lower(candidate.name) == requested) preset = &candidate;
  }
  if (preset == nullptr) {
    std::string names = "f32, f16, bf16";
    for (const QuantPreset& candidate : quant_presets()) names += ", " + lower(candidate.name);
    fail("unknown weight type '{}'; valid types are {}", type, names);
  }

  std::vector<TensorDesc> tensors = converted_tensors(shape, DType::F16);
  QuantModelInfo info;
  info.architecture = shape.arch == Architecture::kGemma2 ? "gemma2" : "llama";
  info.n_layer = shape.n_layer;
  info.n_head = shape.n_head;
  info.n_head_kv = shape.n_head_kv;
  const std::vector<DType> types = choose_tensor_types(*preset, info, tensors);
  for (size_t i = 0; i < tensors.size(); ++i) tensors[i].type = types[i];
  return tensors;
}

}  // namespace edgelm
