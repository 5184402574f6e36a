#include "tokenizer/special_tokens.h"

#include <algorithm>

namespace edgelm {

SpecialTokenSplitter::SpecialTokenSplitter(const Vocab& vocab) {
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    const TokenType type = vocab.type(static_cast<int32_t>(id));
    const bool special = type == TokenType::CONTROL || type == TokenType::USER_DEFINED || type == TokenType::UNKNOWN;

    // An empty text would match everywhere.
    if (!special || vocab.tokens[id].empty()) {
      continue;
    }
    specials_.push_back({vocab.tokens[id], static_cast<int32_t>(id), type == TokenType::USER_DEFINED});
  }

  std::stable_sort(specials_.begin(), specials_.end(),
                   [](const Special& a, const Special& b) { return a.text.size() > b.text.size(); });
}

std::vector<TextFragment> SpecialTokenSplitter::split(std::string_view text, bool parse_special) const {
  std::vector<TextFragment> fragments;
  if (text.empty()) {
    return fragments;
  }
  fragments.push_back({text, -1});

  std::vector<TextFragment> next;
  for (const Special& special : specials_) {
    if (!parse_special && !special.user_defined) {
      continue;
    }

    // Most special texts do not occur at all; check before rebuilding.
    const bool occurs = std::any_of(fragments.begin(), fragments.end(), [&](const TextFragment& fragment) {
      return !fragment.is_token() && fragment.text.find(special.text) != std::string_view::npos;
    });
    if (!occurs) {
      continue;
    }

    next.clear();
    for (const TextFragment& fragment : fragments) {
      if (fragment.is_token()) {
        next.push_back(fragment);
        continue;
      }

      std::string_view rest = fragment.text;
      for (size_t match = rest.find(special.text); match != std::string_view::npos; match = rest.find(special.text)) {
        if (match > 0) {
          next.push_back({rest.substr(0, match), -1});
        }
        next.push_back({special.text, special.id});
        rest.remove_prefix(match + special.text.size());
      }
      if (!rest.empty()) {
        next.push_back({rest, -1});
      }
    }
    fragments.swap(next);
  }
  return fragments;
}

}  // namespace edgelm
