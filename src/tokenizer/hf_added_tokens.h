#pragma once
// The added_tokens of a Hugging Face tokenizer.json, found in text before any
// other step: at each position the longest added token wins, scanning left to
// right, as the tokenizers library and transformers.js match them.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hf_json.h"

namespace edgelm::hf {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false;     // a control token such as "<bos>"; not text when decoded
  bool lstrip = false;      // the match takes the whitespace on its left
  bool rstrip = false;      // the match takes the whitespace on its right
  bool normalized = false;  // matched in normalized text rather than raw text
};

// Reads the "added_tokens" array (absent or null means none). Throws Error
// naming the entry for an empty content, a bad id or single_word, which edgelm
// does not support.
std::vector<AddedToken> read_added_tokens(const Json* added_tokens, const JsonPath& where);

// A match of an added token in a text: [begin, end) includes any whitespace
// taken by lstrip or rstrip.
struct AddedTokenMatch {
  size_t begin;
  size_t end;
  const AddedToken* token;
};

// Finds added tokens with a byte trie of their texts.
class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // `tokens` must outlive the matcher. `texts[i]` is the text to look for for tokens[i]:
  // its content, or its normalized content for tokens matched in normalized text.
  AddedTokenMatcher(const std::vector<const AddedToken*>& tokens, const std::vector<std::string>& texts);

  // The leftmost match at or after `from`, the longest one at that position.
  // Without `with_special`, special tokens are not matched.
  std::optional<AddedTokenMatch> find(std::string_view text, size_t from, bool with_special) const;

  bool empty() const { return nodes_.size() <= 1; }

 private:
  struct Node {
    std::vector<std::pair<uint8_t, int32_t>> children;  // sorted by byte
    const AddedToken* token = nullptr;                  // the token whose text ends here
  };

  int32_t child(int32_t node, uint8_t byte) const;

  std::vector<Node> nodes_ = {Node{}};
  std::array<bool, 256> starts_{};  // bytes that begin some token text
};

}  // namespace edgelm::hf
