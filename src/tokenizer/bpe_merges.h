#pragma once
// The merge list of a byte-level BPE vocabulary (tokenizer.ggml.merges),
// keyed by symbol ids so that encoding compares integers, not strings.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace edgelm {

// Symbol ids below the vocabulary size are token ids. A text that a merge
// names but that is no token (well-formed files have none) gets an id from the
// vocabulary size up, so merges through it still happen as in llama.cpp.
class BpeMerges {
 public:
  struct Merge {
    int32_t rank;    // index in tokenizer.ggml.merges; lower merges first
    int32_t result;  // symbol id of the merged text
  };

  // `token_ids` maps each token text to its id and must outlive this object,
  // which keeps a reference for symbol_id. Throws Error naming the entry
  // for a merge that is not two texts separated by a space. Of duplicate
  // merges the first one counts.
  BpeMerges(const std::vector<std::string>& merges, const std::unordered_map<std::string_view, int32_t>& token_ids,
            size_t n_vocab);

  // Returns the merge of two adjacent symbols, or nullptr when there is none.
  const Merge* find(int32_t left, int32_t right) const {
    if (left < 0 || right < 0) {
      return nullptr;
    }
    const uint64_t key = pair_key(left, right);
    for (size_t slot = slot_of(key);; slot = (slot + 1) & mask_) {
      const Entry& entry = table_[slot];
      if (entry.key == key) {
        return &entry.merge;
      }
      if (entry.key == kEmpty) {
        return nullptr;
      }
    }
  }

  // Returns the symbol id of a byte-level text, or -1 when neither the
  // vocabulary nor a merge has it.
  int32_t symbol_id(std::string_view text) const;

  // Returns the byte-level text of a symbol id at or above the vocabulary size.
  const std::string& extra_text(int32_t id) const { return extra_texts_[id - n_vocab_]; }

  size_t size() const { return n_merges_; }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};

  struct Entry {
    uint64_t key = kEmpty;
    Merge merge{};
  };

  static uint64_t pair_key(int32_t left, int32_t right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
  }
  size_t slot_of(uint64_t key) const { return (key * 0x9E3779B97F4A7C15ull) >> shift_; }

  // Returns the id of `text`, giving it a new extra id when it is no token.
  int32_t intern(std::string_view text);
  void insert(uint64_t key, Merge merge);

  const std::unordered_map<std::string_view, int32_t>& token_ids_;
  size_t n_vocab_;
  std::unordered_map<std::string, int32_t> extra_ids_;
  std::vector<std::string> extra_texts_;

  // Open addressing with linear probing; the capacity is a power of two at
  // least twice the number of merges.
  std::vector<Entry> table_;
  size_t mask_ = 0;
  int shift_ = 64;
  size_t n_merges_ = 0;
};

}  // namespace edgelm
