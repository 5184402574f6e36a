#pragma once
// Builds a Hugging Face LlamaForCausalLM checkpoint (config files, a SentencePiece
// tokenizer.model, F32, BF16 or float8 safetensors) from a "llama" GGUF file, so that
// the checkpoint reader can be tested against a trained model that only exists as GGUF.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "support/safetensors_builder.h"

namespace edgelm::testing {

// One checkpoint tensor with its Hugging Face name, shape (row-major) and values.
struct HfTensor {
  std::string name;
  std::string gguf_name;  // the tensor llama.cpp's converter makes of it
  std::vector<uint64_t> shape;
  std::vector<float> values;

  bool is_matrix() const { return shape.size() == 2; }
};

// The contents of a Llama checkpoint directory, before it is written.
struct HfLlamaCheckpoint {
  nlohmann::json config;
  nlohmann::json generation_config;
  nlohmann::json tokenizer_config;
  std::string tokenizer_model;  // serialized SentencePiece ModelProto
  std::vector<HfTensor> tensors;
  uint32_t head_dim = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;

  HfTensor* find(const std::string& name) {
    for (HfTensor& t : tensors) {
      if (t.name == name) return &t;
    }
    return nullptr;
  }
};

// llama.cpp's converter stores Q and K rows so that RoPE rotates adjacent
// pairs: within each head of `head_dim` rows, GGUF row 2i + j is Hugging
// Face row j * head_dim / 2 + i. These two functions apply that permutation
// and its inverse to row-major float rows.
inline std::vector<float> rows_in_gguf_order(const std::vector<float>& hf_rows, uint64_t n_cols, uint32_t head_dim) {
  std::vector<float> out(hf_rows.size());
  const uint64_t n_rows = hf_rows.size() / n_cols;
  const uint64_t half = head_dim / 2;
  for (uint64_t head_start = 0; head_start < n_rows; head_start += head_dim) {
    for (uint64_t i = 0; i < half; ++i) {
      for (uint64_t j = 0; j < 2; ++j) {
        const uint64_t gguf_row = head_start + 2 * i + j;
        const uint64_t hf_row = head_start + j * half + i;
        std::copy_n(hf_rows.begin() + hf_row * n_cols, n_cols, out.begin() + gguf_row * n_cols);
      }
    }
  }
  return out;
}

inline std::vector<float> rows_in_hf_order(const std::vector<float>& gguf_rows, uint64_t n_cols, uint32_t head_dim) {
  std::vector<float> out(gguf_rows.size());
  const uint64_t n_rows = gguf_rows.size() / n_cols;
  const uint64_t half = head_dim / 2;
  for (uint64_t head_start = 0; head_start < n_rows; head_start += head_dim) {
    for (uint64_t i = 0; i < half; ++i) {
      for (uint64_t j = 0; j < 2; ++j) {
        const uint64_t gguf_row = head_start + 2 * i + j;
        const uint64_t hf_row = head_start + j * half + i;
        std::copy_n(gguf_rows.begin() + gguf_row * n_cols, n_cols, out.begin() + hf_row * n_cols);
      }
    }
  }
  return out;
}

// ---- float8 (PyTorch's float8_e4m3fn) ----

// Value of an e4m3fn code: 1 sign bit, 4 exponent bits (bias 7) and 3 mantissa
// bits. Exponent 0 is subnormal, S.1111.111 is NaN and there is no infinity.
inline float e4m3_to_float(uint8_t code) {
  const int exponent = (code >> 3) & 0xF;
  const int mantissa = code & 0x7;
  if (exponent == 0xF && mantissa == 0x7) return std::nanf("");
  const float magnitude = exponent == 0 ? std::ldexp(static_cast<float>(mantissa), -9)
                                        : std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, exponent - 7);
  return (code & 0x80) != 0 ? -magnitude : magnitude;
}

// Nearest e4m3fn code to `x`, ties to the even code, which is round-to-nearest-even
// because codes of one sign grow with their value. Magnitudes above 448 saturate.
inline uint8_t float_to_e4m3(float x) {
  static const std::array<float, 127> magnitudes = [] {
    std::array<float, 127> values{};
    for (int code = 0; code < 127; ++code) values[code] = e4m3_to_float(static_cast<uint8_t>(code));
    return values;
  }();

  const uint8_t sign = std::signbit(x) ? 0x80 : 0x00;
  const float magnitude = std::min(std::fabs(x), 448.0f);
  const auto above = std::lower_bound(magnitudes.begin(), magnitudes.end(), magnitude);
  int code = static_cast<int>(above - magnitudes.begin());
  if (code > 0 && *above != magnitude) {
    const float distance_below = magnitude - magnitudes[code - 1];
    const float distance_above = *above - magnitude;
    if (distance_below < distance_above || (distance_below == distance_above && (code - 1) % 2 == 0)) --code;
  }
  return static_cast<uint8_t>(sign | code);
}

// A matrix quantized with one F32 scale for the whole tensor, as float8
// checkpoints with per-tensor "weight_scale" store it.
struct Float8Tensor {
  std::vector<uint8_t> codes;
  float scale = 1.0f;

  // code * scale in float, which is what a reader gets back.
  std::vector<float> dequantized() const {
    std::vector<float> values(codes.size());
    for (size_t i = 0; i < codes.size(); ++i) values[i] = e4m3_to_float(codes[i]) * scale;
    return values;
  }
};

// scale = max|w| / 448, so the largest weight maps to e4m3fn's largest value.
inline Float8Tensor quantize_e4m3(const std::vector<float>& values) {
  float max_abs = 0.0f;
  for (float v : values) max_abs = std::max(max_abs, std::fabs(v));

  Float8Tensor result;
  result.scale = max_abs > 0.0f ? max_abs / 448.0f : 1.0f;
  result.codes.reserve(values.size());
  for (float v : values) result.codes.push_back(float_to_e4m3(v / result.scale));
  return result;
}

// ---- SentencePiece model (protobuf wire format) ----

// The few protobuf encodings a ModelProto needs. Field numbers are those of
// sentencepiece_model.proto: ModelProto {1 pieces, 2 trainer_spec,
// 3 normalizer_spec}, SentencePiece {1 piece, 2 score, 3 type}.
class ProtoWriter {
 public:
  void varint_field(uint32_t field, uint64_t value) {
    tag(field, 0);
    varint(value);
  }
  void bytes_field(uint32_t field, const std::string& bytes) {
    tag(field, 2);
    varint(bytes.size());
    out_ += bytes;
  }
  void float_field(uint32_t field, float value) {
    tag(field, 5);
    char bytes[4];
    std::memcpy(bytes, &value, 4);
    out_.append(bytes, 4);
  }
  const std::string& bytes() const { return out_; }

 private:
  void tag(uint32_t field, uint32_t wire_type) { varint((uint64_t{field} << 3) | wire_type); }
  void varint(uint64_t value) {
    while (value >= 0x80) {
      out_ += static_cast<char>((value & 0x7F) | 0x80);
      value >>= 7;
    }
    out_ += static_cast<char>(value);
  }

  std::string out_;
};

// A BPE ModelProto with the GGUF's pieces, scores and types (GGUF's
// token_type numbers are SentencePiece's piece types). The normalizer is
// Llama 2's: no character normalization, a dummy prefix space, and whitespace
// kept verbatim. Byte fallback is on because the vocabulary has byte pieces.
inline std::string sentencepiece_model_from_gguf(const GgufFile& gguf) {
  const std::vector<std::string> pieces = gguf.get_string_array("tokenizer.ggml.tokens");
  const std::vector<float> scores = gguf.get_float_array("tokenizer.ggml.scores");
  const std::vector<int64_t> types = gguf.get_int_array("tokenizer.ggml.token_type");

  ProtoWriter model;
  for (size_t id = 0; id < pieces.size(); ++id) {
    ProtoWriter piece;
    piece.bytes_field(1, pieces[id]);
    piece.float_field(2, scores[id]);
    piece.varint_field(3, static_cast<uint64_t>(types[id]));
    model.bytes_field(1, piece.bytes());
  }

  constexpr uint64_t kBpe = 2;
  ProtoWriter trainer;
  trainer.varint_field(3, kBpe);                // model_type
  trainer.varint_field(4, pieces.size());       // vocab_size
  trainer.varint_field(35, 1);                  // byte_fallback
  trainer.varint_field(40, gguf.get_uint("tokenizer.ggml.unknown_token_id"));  // unk_id
  trainer.varint_field(41, gguf.get_uint("tokenizer.ggml.bos_token_id"));      // bos_id
  trainer.varint_field(42, gguf.get_uint("tokenizer.ggml.eos_token_id"));      // eos_id
  trainer.varint_field(43, ~uint64_t{0});       // pad_id -1: no padding piece
  model.bytes_field(2, trainer.bytes());

  ProtoWriter normalizer;
  normalizer.bytes_field(1, "identity");        // name
  normalizer.varint_field(3, 1);                // add_dummy_prefix
  normalizer.varint_field(4, 0);                // remove_extra_whitespaces
  normalizer.varint_field(5, 1);                // escape_whitespaces
  model.bytes_field(3, normalizer.bytes());
  return model.bytes();
}

// ---- the checkpoint ----

inline std::vector<float> gguf_tensor_values(const GgufFile& gguf, const std::string& name) {
  const GgufTensor* t = gguf.find_tensor(name);
  if (t == nullptr || t->type != DType::F32) fail("{}: tensor '{}' is missing or not F32", gguf.path(), name);
  std::vector<float> values(t->n_elements());
  std::memcpy(values.data(), t->data, t->n_bytes);
  return values;
}

// The Hugging Face tensor of GGUF tensor `gguf_name`: dims reversed into a
// row-major shape, and Q and K rows put back in Hugging Face order.
inline HfTensor hf_tensor_from_gguf(const GgufFile& gguf, const std::string& gguf_name, const std::string& hf_name,
                                    uint32_t head_dim) {
  const GgufTensor* t = gguf.find_tensor(gguf_name);
  if (t == nullptr) fail("{}: tensor '{}' is missing", gguf.path(), gguf_name);

  HfTensor result;
  result.name = hf_name;
  result.gguf_name = gguf_name;
  result.shape.assign(t->dims.rbegin(), t->dims.rend());
  result.values = gguf_tensor_values(gguf, gguf_name);
  if (hf_name.ends_with("q_proj.weight") || hf_name.ends_with("k_proj.weight")) {
    result.values = rows_in_hf_order(result.values, t->dims[0], head_dim);
  }
  return result;
}

// The checkpoint that llama.cpp's converter would turn into `gguf` (a
// "llama" file with F32 tensors and a SentencePiece vocabulary).
inline HfLlamaCheckpoint hf_llama_from_gguf(const GgufFile& gguf) {
  HfLlamaCheckpoint checkpoint;
  const uint32_t n_embd = static_cast<uint32_t>(gguf.get_uint("llama.embedding_length"));
  const uint32_t n_layer = static_cast<uint32_t>(gguf.get_uint("llama.block_count"));
  checkpoint.n_head = static_cast<uint32_t>(gguf.get_uint("llama.attention.head_count"));
  checkpoint.n_head_kv = static_cast<uint32_t>(gguf.get_uint("llama.attention.head_count_kv"));
  checkpoint.head_dim = n_embd / checkpoint.n_head;
  const bool tied = gguf.find_tensor("output.weight") == nullptr;
  const uint32_t bos = static_cast<uint32_t>(gguf.get_uint("tokenizer.ggml.bos_token_id"));
  const uint32_t eos = static_cast<uint32_t>(gguf.get_uint("tokenizer.ggml.eos_token_id"));

  checkpoint.config = {
      {"architectures", {"LlamaForCausalLM"}},
      {"model_type", "llama"},
      {"hidden_act", "silu"},
      {"hidden_size", n_embd},
      {"intermediate_size", gguf.get_uint("llama.feed_forward_length")},
      {"num_hidden_layers", n_layer},
      {"num_attention_heads", checkpoint.n_head},
      {"num_key_value_heads", checkpoint.n_head_kv},
      {"vocab_size", gguf.get_string_array("tokenizer.ggml.tokens").size()},
      {"rms_norm_eps", static_cast<float>(gguf.get_float("llama.attention.layer_norm_rms_epsilon"))},
      {"rope_theta", gguf.find_float("llama.rope.freq_base").value_or(10000.0)},
      {"max_position_embeddings", gguf.get_uint("llama.context_length")},
      {"tie_word_embeddings", tied},
      {"bos_token_id", bos},
      {"eos_token_id", eos},
      {"torch_dtype", "float32"},
  };
  checkpoint.generation_config = {{"bos_token_id", bos}, {"eos_token_id", eos}};
  checkpoint.tokenizer_config = {
      {"add_bos_token", true},
      {"add_eos_token", false},
      {"bos_token", "<s>"},
      {"eos_token", "</s>"},
      {"unk_token", "<unk>"},
      {"tokenizer_class", "LlamaTokenizer"},
  };
  checkpoint.tokenizer_model = sentencepiece_model_from_gguf(gguf);

  auto add = [&](const std::string& gguf_name, const std::string& hf_name) {
    checkpoint.tensors.push_back(hf_tensor_from_gguf(gguf, gguf_name, hf_name, checkpoint.head_dim));
  };
  add("token_embd.weight", "model.embed_tokens.weight");
  for (uint32_t il = 0; il < n_layer; ++il) {
    const std::string blk = "blk." + std::to_string(il) + ".";
    const std::string layer = "model.layers." + std::to_string(il) + ".";
    add(blk + "attn_norm.weight", layer + "input_layernorm.weight");
    add(blk + "attn_q.weight", layer + "self_attn.q_proj.weight");
    add(blk + "attn_k.weight", layer + "self_attn.k_proj.weight");
    add(blk + "attn_v.weight", layer + "self_attn.v_proj.weight");
    add(blk + "attn_output.weight", layer + "self_attn.o_proj.weight");
    add(blk + "ffn_norm.weight", layer + "post_attention_layernorm.weight");
    add(blk + "ffn_gate.weight", layer + "mlp.gate_proj.weight");
    add(blk + "ffn_up.weight", layer + "mlp.up_proj.weight");
    add(blk + "ffn_down.weight", layer + "mlp.down_proj.weight");
  }
  add("output_norm.weight", "model.norm.weight");
  if (!tied) add("output.weight", "lm_head.weight");
  return checkpoint;
}

// How the 2-D tensors are stored; 1-D tensors (the norms) are always F32.
enum class HfMatrixType {
  kF32,
  kBf16,    // rounded to nearest even
  kFloat8,  // F8_E4M3 with an F32 "<name>_scale" of shape [], see quantize_e4m3
};

struct HfWriteOptions {
  size_t n_shards = 1;  // more than 1: model-0000k-of-0000n.safetensors and an index
  HfMatrixType matrices = HfMatrixType::kF32;
};

// Writes the checkpoint into `dir`, which is emptied or created first.
inline void write_hf_dir(const HfLlamaCheckpoint& checkpoint, const std::string& dir,
                         const HfWriteOptions& options = {}) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  write_file_text(dir + "/config.json", checkpoint.config.dump(2));
  write_file_text(dir + "/generation_config.json", checkpoint.generation_config.dump(2));
  write_file_text(dir + "/tokenizer_config.json", checkpoint.tokenizer_config.dump(2));
  write_file_text(dir + "/tokenizer.model", checkpoint.tokenizer_model);

  // Each shard takes a consecutive run of tensors.
  const size_t n_shards = std::max<size_t>(options.n_shards, 1);
  const size_t per_shard = (checkpoint.tensors.size() + n_shards - 1) / n_shards;
  nlohmann::json weight_map = nlohmann::json::object();
  uint64_t total_size = 0;

  for (size_t shard = 0; shard < n_shards; ++shard) {
    char shard_name[64];
    std::snprintf(shard_name, sizeof(shard_name), "model-%05zu-of-%05zu.safetensors", shard + 1, n_shards);
    const std::string file_name = n_shards == 1 ? "model.safetensors" : shard_name;

    SafetensorsBuilder builder;
    const size_t begin = shard * per_shard;
    const size_t end = std::min(checkpoint.tensors.size(), begin + per_shard);
    for (size_t i = begin; i < end; ++i) {
      const HfTensor& t = checkpoint.tensors[i];
      const HfMatrixType type = t.is_matrix() ? options.matrices : HfMatrixType::kF32;
      if (type == HfMatrixType::kFloat8) {
        const Float8Tensor quantized = quantize_e4m3(t.values);
        builder.add(t.name, "F8_E4M3", t.shape, quantized.codes);
        builder.add_f32(t.name + "_scale", {}, {quantized.scale});
        weight_map[t.name + "_scale"] = file_name;
        total_size += quantized.codes.size() + sizeof(float);
      } else if (type == HfMatrixType::kBf16) {
        builder.add_bf16(t.name, t.shape, t.values);
        total_size += t.values.size() * sizeof(uint16_t);
      } else {
        builder.add_f32(t.name, t.shape, t.values);
        total_size += t.values.size() * sizeof(float);
      }
      weight_map[t.name] = file_name;
    }
    builder.write(dir + "/" + file_name);
  }

  if (n_shards > 1) {
    const nlohmann::json index = {{"metadata", {{"total_size", total_size}}}, {"weight_map", weight_map}};
    write_file_text(dir + "/model.safetensors.index.json", index.dump(2));
  }
}

}  // namespace edgelm::testing
