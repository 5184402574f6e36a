#pragma once
// A tokenizer read from a SentencePiece tokenizer.model, encoding through
// libsentencepiece itself, so its ids are SentencePiece's by construction.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/special_tokens.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace sentencepiece {
class SentencePieceProcessor;
}  // namespace sentencepiece

namespace edgelm {

class SentencePieceModel final : public Tokenizer {
 public:
  // Loads a serialized SentencePiece ModelProto. Throws Error naming the file
  // when it cannot be read or libsentencepiece rejects it.
  static std::unique_ptr<SentencePieceModel> from_file(const std::string& path);

  ~SentencePieceModel() override;
  SentencePieceModel(const SentencePieceModel&) = delete;
  SentencePieceModel& operator=(const SentencePieceModel&) = delete;

  // SentencePiece matches user-defined symbols itself. With `parse_special`
  // the texts of control and unknown pieces (such as "<bos>") become their
  // ids too, and the text between them is encoded piece by piece, each with
  // the model's dummy prefix if it has one. SentencePiece replaces each
  // malformed UTF-8 byte with U+FFFD before encoding.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const override;

  // "▁" as a space, <0xNN> byte pieces as that byte, control and unknown
  // pieces empty unless `show_special`, unused pieces empty.
  std::string token_bytes(int32_t id, bool show_special = false) const override;

  size_t n_vocab() const override { return vocab_.tokens.size(); }
  int32_t bos_id() const override { return vocab_.bos_id; }
  int32_t eos_id() const override { return vocab_.eos_id; }
  // EOS and the end-of-turn pieces that end_of_generation_ids finds, such as "<end_of_turn>".
  bool is_end_of_generation(int32_t id) const override;
  std::string_view piece(int32_t id) const override;

 private:
  SentencePieceModel(std::unique_ptr<sentencepiece::SentencePieceProcessor> processor, Vocab vocab);

  void encode_text(std::string_view text, std::vector<int32_t>& ids) const;
  void check_id(int32_t id) const;

  std::unique_ptr<sentencepiece::SentencePieceProcessor> processor_;
  // The pieces and their types as libsentencepiece reports them. It does not
  // report user-defined symbols, so they are typed NORMAL here.
  Vocab vocab_;
  SpecialTokenSplitter splitter_;  // control and unknown pieces
  std::vector<int32_t> end_of_generation_ids_;  // sorted
};

}  // namespace edgelm
