#pragma once
// The vocabulary a tokenizer is built from, as plain data so tests can make one
// without a GGUF file.

#include <cstdint>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace edgelm {

// Fields mirror the tokenizer.ggml.* metadata keys. Ids of -1 mean "none".
struct Vocab {
  std::string model = "llama";      // tokenizer.ggml.model
  std::vector<std::string> tokens;  // tokenizer.ggml.tokens, indexed by id
  std::vector<float> scores;        // tokenizer.ggml.scores (empty means all 0)
  std::vector<TokenType> types;     // tokenizer.ggml.token_type (empty means all NORMAL)
  std::string pre;                  // tokenizer.ggml.pre, the pre-tokenizer (empty when absent)
  std::vector<std::string> merges;  // tokenizer.ggml.merges: "left right", highest priority first

  int32_t bos_id = -1;
  int32_t eos_id = -1;
  int32_t unk_id = -1;
  int32_t eot_id = -1;  // end of turn
  int32_t eom_id = -1;  // end of message (Llama 3.1 tool calls)
  int32_t pad_id = -1;

  bool add_bos = true;           // tokenizer.ggml.add_bos_token
  bool add_eos = false;          // tokenizer.ggml.add_eos_token
  bool add_space_prefix = true;  // tokenizer.ggml.add_space_prefix

  float score(int32_t id) const { return scores.empty() ? 0.0f : scores[id]; }
  TokenType type(int32_t id) const { return types.empty() ? TokenType::NORMAL : types[id]; }
};

// Reads the tokenizer.ggml.* keys. Missing BOS/EOS ids and flags take the
// defaults llama.cpp uses. SentencePiece vocabularies get BOS 1, EOS 2, and
// add_bos and add_space_prefix true. Byte-level BPE ("gpt2") gets BOS and EOS
// 11, no space prefix, and add_bos as the pre-tokenizer sets it (true for
// Llama 3). A missing unknown id is looked up by token type, then by the text
// "<unk>". Throws Error naming the key and value for arrays of different
// lengths, unknown token types, ids out of range and, for "gpt2", an unknown
// tokenizer.ggml.pre.
Vocab read_vocab(const GgufFile& file);

// Checks the invariants the tokenizers rely on, and throws Error naming the
// tokenizer.ggml.* key and the bad value.
void validate_vocab(const Vocab& vocab);

}  // namespace edgelm
