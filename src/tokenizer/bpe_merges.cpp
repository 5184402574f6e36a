#include "tokenizer/bpe_merges.h"

#include <limits>

#include "core/error.h"

namespace edgelm {

BpeMerges::BpeMerges(const std::vector<std::string>& merges,
                     const std::unordered_map<std::string_view, int32_t>& token_ids, size_t n_vocab)
    : token_ids_(token_ids), n_vocab_(n_vocab) {
  if (merges.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("tokenizer.ggml.merges has {} entries, more than ranks can address", merges.size());
  }

  size_t capacity = 16;
  shift_ = 60;
  while (capacity < 2 * merges.size()) {
    capacity *= 2;
    --shift_;
  }
  table_.resize(capacity);
  mask_ = capacity - 1;

  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string_view merge = merges[rank];

    // The separator is the first space after the first byte, so a left text
    // that is itself a space still parses (llama.cpp splits the same way).
    const size_t space = merge.find(' ', 1);
    if (space == std::string_view::npos) {
      fail("tokenizer.ggml.merges[{}] = \"{}\" is not two texts separated by a space; re-convert the model", rank,
           merge);
    }
    const std::string_view left = merge.substr(0, space);
    const std::string_view right = merge.substr(space + 1);

    const int32_t left_id = intern(left);
    const int32_t right_id = intern(right);
    const int32_t result_id = intern(std::string(left) + std::string(right));
    insert(pair_key(left_id, right_id), {static_cast<int32_t>(rank), result_id});
  }
}

int32_t BpeMerges::symbol_id(std::string_view text) const {
  const auto token = token_ids_.find(text);
  if (token != token_ids_.end()) {
    return token->second;
  }
  const auto extra = extra_ids_.find(std::string(text));
  return extra == extra_ids_.end() ? -1 : extra->second;
}

int32_t BpeMerges::intern(std::string_view text) {
  const auto token = token_ids_.find(text);
  if (token != token_ids_.end()) {
    return token->second;
  }

  const auto [extra, inserted] = extra_ids_.emplace(std::string(text), 0);
  if (inserted) {
    if (n_vocab_ + extra_texts_.size() >= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      fail("tokenizer.ggml.merges names more texts than symbol ids can address");
    }
    extra->second = static_cast<int32_t>(n_vocab_ + extra_texts_.size());
    extra_texts_.push_back(extra->first);
  }
  return extra->second;
}

void BpeMerges::insert(uint64_t key, Merge merge) {
  for (size_t slot = slot_of(key);; slot = (slot + 1) & mask_) {
    Entry& entry = table_[slot];
    if (entry.key == key) {
      return;  // a duplicate merge: the earlier, lower rank stays
    }
    if (entry.key == kEmpty) {
      entry.key = key;
      entry.merge = merge;
      ++n_merges_;
      return;
    }
  }
}

}  // namespace edgelm
