#include "tokenizer/end_of_generation.h"

#include <algorithm>
#include <string_view>

#include "tokenizer/well_known_tokens.h"

namespace edgelm {

namespace {

// End-of-turn texts, in the order a missing eot_id is looked for.
constexpr std::string_view kEndOfTurnTexts[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>",
};
constexpr std::string_view kEndOfMessageText = "<|eom_id|>";

int32_t find_token(const Vocab& vocab, std::string_view text) {
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    if (vocab.tokens[id] == text) {
      return static_cast<int32_t>(id);
    }
  }
  return -1;
}

bool is_end_text(std::string_view text) {
  return std::find(std::begin(kEndOfGenerationTexts), std::end(kEndOfGenerationTexts), text) !=
         std::end(kEndOfGenerationTexts);
}

}  // namespace

void find_end_tokens_by_text(Vocab& vocab) {
  for (std::string_view text : kEndOfTurnTexts) {
    if (vocab.eot_id >= 0) {
      break;
    }
    vocab.eot_id = find_token(vocab, text);
  }
  if (vocab.eom_id < 0) {
    vocab.eom_id = find_token(vocab, kEndOfMessageText);
  }
}

std::vector<int32_t> end_of_generation_ids(const Vocab& vocab) {
  std::vector<int32_t> ids;
  for (int32_t id : {vocab.eos_id, vocab.eot_id, vocab.eom_id}) {
    if (id >= 0) {
      ids.push_back(id);
    }
  }
  for (size_t id = 0; id < vocab.tokens.size(); ++id) {
    if (is_end_text(vocab.tokens[id])) {
      ids.push_back(static_cast<int32_t>(id));
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

}  // namespace edgelm
