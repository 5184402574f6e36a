#pragma once
// Byte-level BPE (GGUF tokenizer.ggml.model "gpt2", as Llama 3 uses): the
// pre-tokenizer splits text into words, each word's bytes become GPT-2's
// byte-level characters, and the merges apply by rank, as in llama.cpp.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/bpe_merges.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace edgelm {

class BpeTokenizer final : public Tokenizer {
 public:
  // Validates `vocab` (see validate_vocab), selects the pre-tokenizer named
  // by vocab.pre and builds the merge table. A missing eot_id or eom_id is
  // found by token text. Throws Error for an unknown pre-tokenizer or a
  // malformed merge.
  explicit BpeTokenizer(Vocab vocab);
  BpeTokenizer(const BpeTokenizer&) = delete;
  BpeTokenizer& operator=(const BpeTokenizer&) = delete;

  // Besides what Tokenizer::encode describes: text is read as llama.cpp reads
  // it, so malformed UTF-8 becomes U+FFFD (see decode_lenient_utf8), and with
  // `add_bos` an EOS is appended when add_eos is set.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const override;
  // NORMAL tokens as the raw bytes their byte-level characters encode,
  // USER_DEFINED tokens as their text, CONTROL and UNKNOWN tokens as empty
  // text unless `show_special`, and other types as empty text (as llama.cpp).
  // A NORMAL token's characters outside the byte-level alphabet are copied as
  // they are, where llama.cpp writes an "[UNK_BYTE_0x...]" marker.
  std::string token_bytes(int32_t id, bool show_special = false) const override;

  size_t n_vocab() const override { return vocab_.tokens.size(); }
  int32_t bos_id() const override { return vocab_.bos_id; }
  int32_t eos_id() const override { return vocab_.eos_id; }
  // EOS, EOT (<|eot_id|>) and EOM (<|eom_id|>), and tokens with other end texts.
  bool is_end_of_generation(int32_t id) const override;
  std::string_view piece(int32_t id) const override;

  const Vocab& vocab() const { return vocab_; }

 private:
  struct Scratch;

  // Encodes raw text (no special tokens) and appends the ids.
  void encode_text(std::string_view text, Scratch& scratch, std::vector<int32_t>& ids) const;
  // Encodes one word of raw bytes and appends the ids.
  void encode_word(std::string_view word, Scratch& scratch, std::vector<int32_t>& ids) const;
  // Appends the ids for one symbol left after merging.
  void emit_symbol(int32_t symbol, std::string_view bytes, std::vector<int32_t>& ids) const;
  void check_id(int32_t id) const;

  Vocab vocab_;
  SpecialTokenSplitter splitter_;
  PreTokenizer pre_tokenizer_;

  // Raw bytes of each token whose text is all byte-level characters (other
  // tokens have their text here as it is).
  std::vector<std::string> token_raw_bytes_;
  // Token texts to ids, and raw bytes to ids; keys point into vocab_.tokens
  // and token_raw_bytes_. The first of duplicate texts keeps the lower id.
  std::unordered_map<std::string_view, int32_t> text_ids_;
  std::unordered_map<std::string_view, int32_t> raw_ids_;

  BpeMerges merges_;
  std::array<int32_t, 256> byte_symbols_;  // symbol of each byte's character, or -1
  std::vector<int32_t> end_of_generation_ids_;  // sorted
};

}  // namespace edgelm
