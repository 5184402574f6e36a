#pragma once
// A tokenizer read from a Hugging Face tokenizer.json: added tokens, then the
// normalizer, pre-tokenizer and BPE model on the text between them, then the
// post-processor's BOS. Matches transformers.js on Gemma 3's file.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hf_added_tokens.h"
#include "tokenizer/hf_bpe_model.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/hf_text_steps.h"
#include "tokenizer/tokenizer.h"

namespace edgelm {

class HfTokenizer final : public Tokenizer {
 public:
  // Reads a tokenizer.json file. Throws Error naming the file, and the field
  // where there is one, when it cannot be read, is not valid JSON, or uses a
  // model, normalizer, pre-tokenizer, decoder or post-processor kind that
  // edgelm does not implement.
  static std::unique_ptr<HfTokenizer> from_file(const std::string& path);

  // Builds from parsed JSON; `source` names the file in errors.
  static std::unique_ptr<HfTokenizer> from_json(const hf::Json& json, std::string_view source);

  // pieces_ and the matchers point into the members, so the object stays put.
  HfTokenizer(const HfTokenizer&) = delete;
  HfTokenizer& operator=(const HfTokenizer&) = delete;

  // Finds added tokens first, the longest one at each position. Special ones
  // (such as "<start_of_turn>") match only with `parse_special`, the others
  // (such as Gemma's "\n\n" and runs of "▁") always. With `add_bos` the
  // post-processor's tokens are added. The leading ones are skipped when the
  // ids already begin with them, so a parsed "<bos>" is not doubled.
  std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const override;

  // The piece through the decoder (see hf::Decoder::token_bytes); special
  // added tokens are empty unless `show_special`.
  std::string token_bytes(int32_t id, bool show_special = false) const override;

  size_t n_vocab() const override { return pieces_.size(); }
  // The post-processor's first token, else the first of kBosTokenTexts present, else -1.
  int32_t bos_id() const override { return bos_id_; }
  // The first of kEosTokenTexts present, else -1.
  int32_t eos_id() const override { return eos_id_; }
  bool is_end_of_generation(int32_t id) const override;
  std::string_view piece(int32_t id) const override;

 private:
  HfTokenizer() = default;

  void build_token_table(std::string_view source);
  void read_post_processor(const hf::Json* processor, const hf::JsonPath& where, int depth);
  // The id of a model piece or added token with this text, or -1.
  int32_t find_token(std::string_view text) const;
  void check_id(int32_t id) const;
  // Encodes text between raw-matched added tokens: normalize, find the
  // normalized added tokens, pre-tokenize and run the model.
  void encode_segment(std::string_view text, bool at_text_start, bool parse_special, std::vector<int32_t>& ids) const;
  void encode_normalized(std::string text, bool at_text_start, std::vector<int32_t>& ids) const;

  hf::BpeModel model_;
  std::vector<hf::AddedToken> added_tokens_;
  hf::AddedTokenMatcher raw_matcher_;         // added tokens with normalized false
  hf::AddedTokenMatcher normalized_matcher_;  // added tokens with normalized true
  hf::Normalizer normalizer_;
  hf::PreTokenizer pre_tokenizer_;
  hf::Decoder decoder_;

  std::vector<int32_t> prefix_ids_;  // post-processor tokens before the text
  std::vector<int32_t> suffix_ids_;  // and after it

  std::vector<std::string_view> pieces_;  // by id: the added token's content or the model's piece
  std::vector<bool> special_;             // by id: a special added token
  int32_t bos_id_ = -1;
  int32_t eos_id_ = -1;
  std::vector<int32_t> end_of_generation_ids_;  // sorted
};

}  // namespace edgelm
