#pragma once
// SentencePiece BPE (GGUF tokenizer.ggml.model "llama"): merges by piece score,
// "▁" for spaces and <0xNN> byte fallback, as SentencePiece and llama.cpp do.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace edgelm {

class SpmTokenizer final : public Tokenizer {
 public:
  // Validates `vocab` (see validate_vocab) and builds the lookup tables.
  explicit SpmTokenizer(Vocab vocab);
  SpmTokenizer(const SpmTokenizer&) = delete;
  SpmTokenizer& operator=(const SpmTokenizer&) = delete;

  // Besides what Tokenizer::encode describes: raw text after the start or a
  // special token gets a leading space when add_space_prefix is set (as in
  // llama.cpp), and with `add_bos` an EOS is appended when add_eos is set.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const override;
  std::string token_bytes(int32_t id, bool show_special = false) const override;

  size_t n_vocab() const override { return vocab_.tokens.size(); }
  int32_t bos_id() const override { return vocab_.bos_id; }
  int32_t eos_id() const override { return vocab_.eos_id; }
  bool is_end_of_generation(int32_t id) const override;
  std::string_view piece(int32_t id) const override;

  const Vocab& vocab() const { return vocab_; }

 private:
  // How a merged UNUSED piece was formed: its left and right parts.
  using MergeSplits = std::unordered_map<std::string_view, std::pair<std::string_view, std::string_view>>;

  struct Scratch;

  // Encodes raw text (no special tokens) and appends the ids.
  void encode_text(std::string_view text, bool space_prefix, std::vector<int32_t>& ids) const;
  // Merges the characters of `text` (spaces already "▁") and appends the ids
  // of the final symbols. `previous_unknown` carries the run of unknown
  // characters across calls.
  void encode_run(std::string_view text, Scratch& scratch, bool& previous_unknown, std::vector<int32_t>& ids) const;
  // Appends the ids of one final symbol: its piece, the parts of an UNUSED
  // piece, its byte tokens, or an unknown token (one per run of unknowns, as
  // in SentencePiece).
  void emit_piece(std::string_view text, const MergeSplits& unused_merges, bool& previous_unknown,
                  std::vector<int32_t>& ids) const;
  // The id of a piece that merges may produce, or -1.
  int32_t find_piece(std::string_view text) const;
  void check_id(int32_t id) const;

  Vocab vocab_;
  SpecialTokenSplitter splitter_;
  // Pieces SentencePiece merges into: NORMAL, USER_DEFINED and UNUSED (and
  // UNDEFINED, treated as NORMAL). Keys point into vocab_.tokens.
  std::unordered_map<std::string_view, int32_t> piece_ids_;
  std::array<int32_t, 256> byte_ids_;  // byte fallback token per byte value, or -1
  std::vector<int16_t> token_byte_;    // byte value of each BYTE token, or -1
  std::vector<int32_t> end_of_generation_ids_;  // sorted

  // Characters that come right before a "▁" inside some piece. A "▁" after
  // any other character starts a word that no merge crosses, so text can be
  // encoded word by word, with a cache. Keys point into vocab_.tokens.
  std::unordered_set<std::string_view> characters_before_inner_space_;
  // False when UNUSED pieces exist: how SentencePiece splits them again
  // depends on merges anywhere in the text, so the text is merged as a whole.
  bool encode_by_word_ = true;
};

}  // namespace edgelm
