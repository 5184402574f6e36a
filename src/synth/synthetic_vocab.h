#pragma once
// A synthetic tokenizer for a published model shape: a vocabulary of any
// size with the real model's tokenizer kind, special tokens and byte tokens,
// and made-up ordinary pieces, written as the tokenizer.* GGUF keys.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "hf/gguf_metadata_builder.h"
#include "plan/model_shapes.h"

namespace edgelm::synth {

// The tokenizer family of a shape.
enum class VocabStyle {
  kGemma,   // SentencePiece ("llama"): <pad> 0, <eos> 1, <bos> 2, <unk> 3, turn tokens 106 and 107, <0x00>..<0xFF>
  kLlama3,  // byte-level BPE ("gpt2", pre "llama-bpe"): 256 special tokens in the last ids
  kTekken,  // Mistral NeMo's byte-level BPE ("gpt2", pre "tekken"): 1000 special tokens first
};

VocabStyle vocab_style(const ModelShape& shape);

// Smallest vocabulary a style can be written with: its special and byte
// tokens plus one ordinary token (a BPE vocabulary needs at least one merge).
uint32_t min_vocab_size(VocabStyle style);

struct SyntheticVocab {
  VocabStyle style = VocabStyle::kGemma;
  std::vector<std::string> tokens;
  std::vector<float> scores;        // SentencePiece only
  std::vector<int32_t> token_types;  // llama.cpp's token types: 1 normal, 2 unknown, 3 control, 6 byte
  std::vector<std::string> merges;  // BPE only, "left right", each naming two tokens whose concatenation is a token
  uint32_t bos_id = 0;
  uint32_t eos_id = 0;
  std::optional<uint32_t> unk_id;
  std::optional<uint32_t> pad_id;
};

// Builds the vocabulary of `shape` with `n_vocab` tokens. The BPE styles get
// shape.n_merges merges at the full vocabulary size and a proportional
// share of them when `n_vocab` is smaller. Throws Error when `n_vocab` is
// below min_vocab_size.
SyntheticVocab make_synthetic_vocab(const ModelShape& shape, uint32_t n_vocab);

// Appends the tokenizer.* keys in the order llama.cpp's converter writes
// them, with the chat template of the model family (builtin_templates.h).
void add_vocab_metadata(SyntheticVocab vocab, GgufMetadataBuilder& metadata);

}  // namespace edgelm::synth
