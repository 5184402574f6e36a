#include "tokenizer/hf_added_tokens.h"

#include <algorithm>

#include "tokenizer/utf8.h"

namespace edgelm::hf {

namespace {

// Decodes the well-formed character of `length` bytes at the start of `text`.
char32_t decode_character(std::string_view text, size_t length) {
  const auto byte = [&](size_t i) { return static_cast<char32_t>(static_cast<uint8_t>(text[i])); };
  switch (length) {
    case 1:
      return byte(0);
    case 2:
      return ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
    case 3:
      return ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
    default:
      return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F);
  }
}

// Unicode's White_Space property, which is what `\s` matches in the Rust
// regex crate that the tokenizers library uses for lstrip and rstrip.
bool is_white_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

// Byte length of the whitespace character that starts at `pos`, or 0.
size_t white_space_at(std::string_view text, size_t pos) {
  const Utf8Step step = scan_utf8(text, pos);
  if (step.status != Utf8Status::VALID || !is_white_space(decode_character(text.substr(pos), step.length))) {
    return 0;
  }
  return step.length;
}

// Byte length of the whitespace character that ends at `pos`, or 0.
size_t white_space_before(std::string_view text, size_t pos) {
  size_t start = pos;
  while (start > 0 && pos - start < 4) {
    --start;
    if ((static_cast<uint8_t>(text[start]) & 0xC0) != 0x80) {
      break;
    }
  }
  const size_t length = white_space_at(text, start);
  return start + length == pos ? length : 0;
}

}  // namespace

std::vector<AddedToken> read_added_tokens(const Json* added_tokens, const JsonPath& where) {
  std::vector<AddedToken> tokens;
  if (added_tokens == nullptr) {
    return tokens;
  }
  if (!added_tokens->is_array()) {
    fail_at(where, "expected an array, found {}", added_tokens->type_name());
  }

  tokens.reserve(added_tokens->size());
  for (size_t i = 0; i < added_tokens->size(); ++i) {
    const Json& entry = (*added_tokens)[i];
    const JsonPath entry_path = where[i];

    AddedToken token;
    token.id = as_token_id(require_field(entry, "id", entry_path), entry_path / "id");
    token.content = string_field(entry, "content", entry_path);
    token.special = bool_field(entry, "special", false, entry_path);
    token.lstrip = bool_field(entry, "lstrip", false, entry_path);
    token.rstrip = bool_field(entry, "rstrip", false, entry_path);
    token.normalized = bool_field(entry, "normalized", !token.special, entry_path);
    if (token.content.empty()) {
      fail_at(entry_path / "content", "an added token's content must not be empty");
    }
    if (bool_field(entry, "single_word", false, entry_path)) {
      fail_at(entry_path / "single_word", "single_word added tokens are not supported");
    }
    tokens.push_back(std::move(token));
  }
  return tokens;
}

AddedTokenMatcher::AddedTokenMatcher(const std::vector<const AddedToken*>& tokens,
                                     const std::vector<std::string>& texts) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& text = texts[i];
    if (text.empty()) {
      continue;  // an empty text would match everywhere
    }
    starts_[static_cast<uint8_t>(text[0])] = true;

    int32_t node = 0;
    for (char c : text) {
      const auto byte = static_cast<uint8_t>(c);
      int32_t next = child(node, byte);
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        auto& children = nodes_[node].children;
        children.insert(std::lower_bound(children.begin(), children.end(), std::pair<uint8_t, int32_t>(byte, 0)),
                        {byte, next});
        nodes_.emplace_back();
      }
      node = next;
    }
    // The first token listed with a text keeps it.
    if (nodes_[node].token == nullptr) {
      nodes_[node].token = tokens[i];
    }
  }
}

int32_t AddedTokenMatcher::child(int32_t node, uint8_t byte) const {
  const auto& children = nodes_[node].children;
  const auto it = std::lower_bound(children.begin(), children.end(), std::pair<uint8_t, int32_t>(byte, 0));
  return it != children.end() && it->first == byte ? it->second : -1;
}

std::optional<AddedTokenMatch> AddedTokenMatcher::find(std::string_view text, size_t from, bool with_special) const {
  for (size_t begin = from; begin < text.size(); ++begin) {
    if (!starts_[static_cast<uint8_t>(text[begin])]) {
      continue;
    }

    // Walk the trie as far as the text allows, keeping the longest token seen.
    const AddedToken* token = nullptr;
    size_t end = begin;
    int32_t node = 0;
    for (size_t pos = begin; pos < text.size(); ++pos) {
      node = child(node, static_cast<uint8_t>(text[pos]));
      if (node < 0) {
        break;
      }
      const AddedToken* candidate = nodes_[node].token;
      if (candidate != nullptr && (with_special || !candidate->special)) {
        token = candidate;
        end = pos + 1;
      }
    }
    if (token == nullptr) {
      continue;
    }

    AddedTokenMatch match{begin, end, token};
    while (token->lstrip && match.begin > from) {
      const size_t length = white_space_before(text, match.begin);
      if (length == 0) {
        break;
      }
      match.begin -= length;
    }
    while (token->rstrip && match.end < text.size()) {
      const size_t length = white_space_at(text, match.end);
      if (length == 0) {
        break;
      }
      match.end += length;
    }
    return match;
  }
  return std::nullopt;
}

}  // namespace edgelm::hf
