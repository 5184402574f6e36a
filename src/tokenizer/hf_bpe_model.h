#pragma once
// The BPE model of a Hugging Face tokenizer.json ("model": {"type": "BPE"}):
// the vocabulary, merges applied lowest rank first, byte fallback and
// unknown-token fusing, as the Hugging Face tokenizers library applies them.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/hf_json.h"

namespace edgelm::hf {

class BpeModel {
 public:
  // Reads the "model" object at `where`. Throws Error naming the field for
  // another model type, dropout, subword prefixes or suffixes, ids out of
  // range, and merges whose pieces are not in the vocabulary.
  static BpeModel from_json(const Json& model, const JsonPath& where);

  // Appends the ids of one pre-tokenized word. Each character starts as its
  // own piece; a character missing from the vocabulary becomes its UTF-8
  // byte tokens (<0xNN>) with byte_fallback, else the unknown token (one per
  // run of unknown characters with fuse_unk). Malformed UTF-8 bytes count as
  // characters missing from the vocabulary. Throws Error when a character has
  // neither byte tokens nor an unknown token to become.
  void encode_word(std::string_view word, std::vector<int32_t>& ids) const;

  // Id of a vocabulary piece, or -1.
  int32_t find(std::string_view piece) const;

  // Number of id slots: the highest vocabulary id + 1.
  size_t size() const { return offsets_.size() - 1; }
  // The piece with this id, empty for an id that no piece has. `id` must be below size().
  std::string_view piece(int32_t id) const;

  int32_t unk_id() const { return unk_id_; }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  // Rank and result of merging two adjacent pieces.
  struct Merge {
    int32_t rank;
    int32_t merged_id;
  };

  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }

  void read_vocab(const Json& vocab, const JsonPath& where);
  void read_merges(const Json& merges, const JsonPath& where);
  // Appends the starting symbols for one character that is not a piece.
  void add_unknown_character(std::string_view character, std::vector<int32_t>& symbol_ids) const;

  // All pieces back to back; piece i is text_[offsets_[i], offsets_[i + 1]).
  // A vector rather than a string, so that moving the model keeps the buffer
  // that the keys of ids_ point into.
  std::vector<char> text_;
  std::vector<uint32_t> offsets_ = {0};
  std::unordered_map<std::string_view, int32_t> ids_;  // keys point into text_
  std::unordered_map<uint64_t, Merge> merges_;         // by pair_key(left id, right id)
  std::vector<int32_t> byte_ids_;                      // <0xNN> id per byte value, or -1

  int32_t unk_id_ = -1;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
};

}  // namespace edgelm::hf
