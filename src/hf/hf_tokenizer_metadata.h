#pragma once
// The tokenizer.* GGUF keys of a Hugging Face model directory, as
// convert_hf_to_gguf.py writes them: the vocabulary from tokenizer.model
// (SentencePiece, tokenizer.ggml.model "llama") or tokenizer.json (byte-level
// BPE, "gpt2"), then the keys of hf_special_vocab.h.

#include "hf/gguf_metadata_builder.h"
#include "hf/hf_config.h"

namespace edgelm {

// Appends the tokenizer keys for `config.dir`. Gemma 2 needs tokenizer.model;
// Llama and Mistral use tokenizer.model when present, else tokenizer.json.
// Throws Error naming the file when no usable tokenizer file is present or
// one is malformed.
void add_tokenizer_metadata(const HfConfig& config, GgufMetadataBuilder& metadata);

}  // namespace edgelm
