#pragma once
// Published shapes of well-known models, and the GGUF tensors that llama.cpp's
// converter and llama-quantize would write for them, so that memory can be
// planned without the model file.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/hparams.h"
#include "quant/presets.h"

namespace edgelm {

// One model's shape, from the config.json that its publisher released.
struct ModelShape {
  std::string_view name;  // "gemma-2-9b"
  Architecture arch = Architecture::kLlama;
  uint32_t n_layer = 0;
  uint32_t n_embd = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;
  uint32_t n_ff = 0;
  uint32_t n_vocab = 0;
  uint32_t n_ctx_train = 0;     // max_position_embeddings
  uint32_t sliding_window = 0;  // 0: every layer attends to the whole context
  bool tied_output = false;     // the output head reuses token_embd, so the file has no output.weight
  bool rope_freqs = false;      // Llama 3.1's RoPE scaling, which the converter stores as rope_freqs.weight
  uint32_t n_merges = 0;        // BPE merges in the tokenizer; 0 for SentencePiece vocabularies
};

// Every built-in shape, in a fixed order.
std::span<const ModelShape> model_shapes();

// Finds a shape by name, ignoring case. Throws Error listing the known names.
const ModelShape& find_model_shape(std::string_view name);

// The hyperparameters edgelm would read from this shape's GGUF file: the
// sliding window on even layers for Gemma 2, none for Llama.
HParams shape_hparams(const ModelShape& shape);

// Lists the tensors of the shape's GGUF file under `type`, in
// llama_tensor_order. A float type (f32, f16 or bf16) is written as the
// converter does: norms and rope_freqs F32 and every matrix in that type. A
// llama-quantize preset such as q8_0 or Q4_K_M gets the types that
// choose_tensor_types picks for an f16 file. Throws Error for an unknown
// type, listing the valid ones.
std::vector<TensorDesc> shape_tensors(const ModelShape& shape, std::string_view type);

}  // namespace edgelm
