#pragma once
// Splits text at the texts of special tokens such as "<start_of_turn>".

#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/vocab.h"

namespace edgelm {

// A run of raw text to encode, or a special token found in the text.
struct TextFragment {
  std::string_view text;  // the raw text, or the special token's text
  int32_t token = -1;     // the special token's id, or -1 for raw text

  bool is_token() const { return token >= 0; }
};

class SpecialTokenSplitter {
 public:
  // Collects the CONTROL, USER_DEFINED and UNKNOWN tokens with non-empty text.
  explicit SpecialTokenSplitter(const Vocab& vocab);

  // Splits `text` into fragments. USER_DEFINED texts always become their ids,
  // as in SentencePiece and llama.cpp; CONTROL and UNKNOWN texts only with
  // `parse_special`. Longer texts are matched first across the whole text,
  // then shorter ones in what is left, which is the order llama.cpp uses.
  std::vector<TextFragment> split(std::string_view text, bool parse_special) const;

 private:
  struct Special {
    std::string_view text;
    int32_t id;
    bool user_defined;
  };
  std::vector<Special> specials_;  // longest text first, then lowest id
};

}  // namespace edgelm
