#pragma once
// The GGUF metadata of a Hugging Face model directory, with the keys, value
// types, order and values that llama.cpp's convert_hf_to_gguf.py writes.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf_file.h"
#include "hf/hf_config.h"
#include "tensor/dtype.h"

namespace edgelm {

using GgufMetadata = std::vector<std::pair<std::string, GgufValue>>;

struct HfMetadataOptions {
  // general.file_type: 0 all F32, 1 mostly F16, 7 mostly Q8_0, 32 mostly BF16
  // (llama_ftype numbering; quantize_model sets its own for the K-quants).
  uint32_t file_type = 0;
  // Number of model parameters, for general.size_label ("6.8M", "2.6B").
  uint64_t n_params = 0;
};

class GgufMetadataBuilder;

// Appends the hyperparameter keys that the converter writes for Gemma 2
// (gemma2.*, with general.file_type among them) or for Llama and Mistral
// (llama.*), in its order.
void add_gemma2_hyperparameters(const HfConfig& config, uint32_t file_type, GgufMetadataBuilder& metadata);
void add_llama_hyperparameters(const HfConfig& config, uint32_t file_type, GgufMetadataBuilder& metadata);

// Builds every key in the converter's order. First come general.* keys:
// sampling settings from generation_config.json, then the name, basename,
// finetune and size label that model_name.h derives. Then the architecture's
// hyperparameters ("gemma2" or "llama", which Mistral models also use).
// Last come tokenizer.* keys from tokenizer.model (SentencePiece, "llama")
// or tokenizer.json (byte-level BPE, "gpt2", with tokenizer.ggml.pre chosen
// from its pre-tokenizer), then the special ids, add-token flags and chat
// templates of hf_special_vocab.h. Throws Error naming the file when no
// tokenizer file is present or one is malformed.
GgufMetadata hf_gguf_metadata(const HfConfig& config, const HfMetadataOptions& options);

}  // namespace edgelm
