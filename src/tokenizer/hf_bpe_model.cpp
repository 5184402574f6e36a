#include "tokenizer/hf_bpe_model.h"

#include <algorithm>
#include <limits>
#include <queue>
#include <utility>

#include "tokenizer/utf8.h"

namespace edgelm::hf {

namespace {

// One piece of a word being merged, linked to its neighbours.
struct Symbol {
  int32_t id;  // -1 once merged into the symbol on its left
  int32_t prev;
  int32_t next;
};

// Two adjacent symbols that a merge joins, with the ids they had when the
// candidate was made, so a candidate made stale by another merge is skipped.
struct MergeCandidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t left_id;
  int32_t right_id;
};

// Lowest rank first, and the leftmost pair among equal ranks.
struct CandidateOrder {
  bool operator()(const MergeCandidate& a, const MergeCandidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

// Splits "a b" into its two pieces; the pieces themselves never contain a
// space. `where` is the merges array; the path of the entry is built only
// for an error, since there are hundreds of thousands of entries.
std::pair<std::string_view, std::string_view> split_merge_line(std::string_view line, const JsonPath& where,
                                                               size_t rank) {
  const size_t space = line.find(' ');
  if (space == std::string_view::npos || line.find(' ', space + 1) != std::string_view::npos) {
    fail_at(where[rank], "expected two pieces separated by one space, found \"{}\"", line);
  }
  return {line.substr(0, space), line.substr(space + 1)};
}

}  // namespace

BpeModel BpeModel::from_json(const Json& model, const JsonPath& where) {
  const std::string& type = type_field(model, where);
  if (type != "BPE") {
    fail_at(where / "type", "model type \"{}\" is not supported; edgelm reads BPE tokenizers", type);
  }

  // Dropout makes encoding random, and these affixes belong to WordPiece-style
  // vocabularies; neither occurs in SentencePiece-style BPE files.
  if (const Json* dropout = optional_field(model, "dropout"); dropout != nullptr && dropout->is_number() &&
                                                              dropout->get<double>() != 0.0) {
    fail_at(where / "dropout", "BPE dropout {} is not supported; set it to null", dropout->get<double>());
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json* affix = optional_field(model, key);
    if (affix != nullptr && !as_string(*affix, where / key).empty()) {
      fail_at(where / key, "\"{}\" is not supported; edgelm reads BPE models without subword affixes",
              affix->get<std::string>());
    }
  }

  BpeModel bpe;
  bpe.byte_fallback_ = bool_field(model, "byte_fallback", false, where);
  bpe.fuse_unk_ = bool_field(model, "fuse_unk", false, where);
  bpe.ignore_merges_ = bool_field(model, "ignore_merges", false, where);
  bpe.read_vocab(require_field(model, "vocab", where), where / "vocab");
  bpe.read_merges(require_field(model, "merges", where), where / "merges");

  if (const Json* unk = optional_field(model, "unk_token"); unk != nullptr) {
    // An unknown token missing from the vocabulary only matters once a
    // character needs it, so encode_word reports that case.
    bpe.unk_id_ = bpe.find(as_string(*unk, where / "unk_token"));
  }

  bpe.byte_ids_.assign(256, -1);
  for (int value = 0; value < 256; ++value) {
    bpe.byte_ids_[value] = bpe.find(fmt::format("<0x{:02X}>", value));
  }
  return bpe;
}

void BpeModel::read_vocab(const Json& vocab, const JsonPath& where) {
  if (!vocab.is_object()) {
    fail_at(where, "expected an object of piece: id, found {}", vocab.type_name());
  }

  // Ids may leave gaps (pieces kept only in added_tokens), but the id range
  // is bounded by the entry count so a bad id cannot make a huge table.
  const size_t max_slots = 2 * vocab.size() + 1024;
  std::vector<std::pair<int32_t, const std::string*>> by_id;
  by_id.reserve(vocab.size());
  size_t total_bytes = 0;
  for (const auto& [piece, value] : vocab.items()) {
    // Parsed files store ids as unsigned numbers. The field path is built
    // only for other values, to keep loading fast.
    int32_t id = -1;
    if (value.is_number_unsigned() && value.get<uint64_t>() < max_slots) {
      id = static_cast<int32_t>(value.get<uint64_t>());
    } else {
      id = as_token_id(value, where / piece);
      if (static_cast<size_t>(id) >= max_slots) {
        fail_at(where / piece, "token id {} is out of range for a vocabulary of {} pieces", id, vocab.size());
      }
    }
    by_id.emplace_back(id, &piece);
    total_bytes += piece.size();
  }
  if (total_bytes > std::numeric_limits<uint32_t>::max()) {
    fail_at(where, "the pieces hold {} bytes, more than the 4 GiB edgelm supports", total_bytes);
  }
  std::sort(by_id.begin(), by_id.end());

  const size_t slots = by_id.empty() ? 0 : static_cast<size_t>(by_id.back().first) + 1;
  text_.reserve(total_bytes);
  offsets_.assign(1, 0);
  offsets_.reserve(slots + 1);
  for (size_t i = 0; i < by_id.size(); ++i) {
    const auto [id, piece] = by_id[i];
    if (i > 0 && by_id[i - 1].first == id) {
      fail_at(where / *piece, "token id {} is also the id of \"{}\"", id, *by_id[i - 1].second);
    }
    // Ids without a piece get an empty slot.
    while (offsets_.size() < static_cast<size_t>(id) + 1) {
      offsets_.push_back(static_cast<uint32_t>(text_.size()));
    }
    text_.insert(text_.end(), piece->begin(), piece->end());
    offsets_.push_back(static_cast<uint32_t>(text_.size()));
  }

  // Keys are views into text_, which no longer grows.
  ids_.reserve(by_id.size());
  for (const auto& [id, piece] : by_id) {
    ids_.emplace(this->piece(id), id);
  }
}

void BpeModel::read_merges(const Json& merges, const JsonPath& where) {
  if (!merges.is_array()) {
    fail_at(where, "expected an array of merges, found {}", merges.type_name());
  }
  if (merges.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail_at(where, "{} merges are more than edgelm supports", merges.size());
  }

  merges_.reserve(merges.size());
  std::string merged;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const Json& entry = merges[rank];

    // Older files write "left right", newer ones ["left", "right"].
    std::string_view left;
    std::string_view right;
    if (entry.is_string()) {
      std::tie(left, right) = split_merge_line(entry.get_ref<const std::string&>(), where, rank);
    } else if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
      left = entry[0].get_ref<const std::string&>();
      right = entry[1].get_ref<const std::string&>();
    } else {
      fail_at(where[rank], "expected \"left right\" or [\"left\", \"right\"], found {}", entry.dump());
    }

    merged.assign(left);
    merged += right;
    const int32_t left_id = find(left);
    const int32_t right_id = find(right);
    const int32_t merged_id = find(merged);
    for (const auto& [text, id] : {std::pair{left, left_id}, std::pair{right, right_id},
                                   std::pair{std::string_view(merged), merged_id}}) {
      if (id < 0) {
        fail_at(where[rank], "piece \"{}\" is not in model.vocab", text);
      }
    }

    // A repeated pair takes its last rank, as in transformers.js (a Map keyed by pair).
    merges_.insert_or_assign(pair_key(left_id, right_id), Merge{static_cast<int32_t>(rank), merged_id});
  }
}

int32_t BpeModel::find(std::string_view piece) const {
  const auto it = ids_.find(piece);
  return it == ids_.end() ? -1 : it->second;
}

std::string_view BpeModel::piece(int32_t id) const {
  const auto index = static_cast<size_t>(id);
  return std::string_view(text_.data() + offsets_[index], offsets_[index + 1] - offsets_[index]);
}

void BpeModel::add_unknown_character(std::string_view character, std::vector<int32_t>& symbol_ids) const {
  if (byte_fallback_) {
    const bool all_bytes_known = std::all_of(character.begin(), character.end(), [&](char c) {
      return byte_ids_[static_cast<uint8_t>(c)] >= 0;
    });
    if (all_bytes_known) {
      for (char c : character) {
        symbol_ids.push_back(byte_ids_[static_cast<uint8_t>(c)]);
      }
      return;
    }
  }

  if (unk_id_ < 0) {
    std::string hex;
    for (char c : character) {
      hex += fmt::format("{}{:02X}", hex.empty() ? "" : " ", static_cast<uint8_t>(c));
    }
    fail("cannot encode the character with bytes {}: it is not in the vocabulary, and the tokenizer has no "
         "byte fallback for it and no unknown token",
         hex);
  }
  if (fuse_unk_ && !symbol_ids.empty() && symbol_ids.back() == unk_id_) {
    return;
  }
  symbol_ids.push_back(unk_id_);
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& ids) const {
  if (word.empty()) {
    return;
  }
  if (ignore_merges_) {
    if (const int32_t id = find(word); id >= 0) {
      ids.push_back(id);
      return;
    }
  }
  if (word.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("cannot encode a word of {} bytes: symbol indexes are 32-bit", word.size());
  }

  // Start with one symbol per character, or per byte token of an unknown character.
  std::vector<int32_t> start_ids;
  start_ids.reserve(word.size());
  for (size_t pos = 0; pos < word.size();) {
    const size_t length = scan_utf8(word, pos).length;
    const std::string_view character = word.substr(pos, length);
    if (const int32_t id = find(character); id >= 0) {
      start_ids.push_back(id);
    } else {
      add_unknown_character(character, start_ids);
    }
    pos += length;
  }

  const auto count = static_cast<int32_t>(start_ids.size());
  std::vector<Symbol> symbols(start_ids.size());
  for (int32_t i = 0; i < count; ++i) {
    symbols[i] = {start_ids[i], i - 1, i + 1 < count ? i + 1 : -1};
  }

  std::priority_queue<MergeCandidate, std::vector<MergeCandidate>, CandidateOrder> queue;
  auto add_candidate = [&](int32_t left) {
    if (left < 0 || symbols[left].next < 0) {
      return;
    }
    const int32_t right = symbols[left].next;
    const auto it = merges_.find(pair_key(symbols[left].id, symbols[right].id));
    if (it != merges_.end()) {
      queue.push({it->second.rank, left, right, symbols[left].id, symbols[right].id});
    }
  };
  for (int32_t i = 0; i + 1 < count; ++i) {
    add_candidate(i);
  }

  // Apply the lowest-ranked merge until none applies.
  while (!queue.empty()) {
    const MergeCandidate candidate = queue.top();
    queue.pop();
    Symbol& left = symbols[candidate.left];
    const Symbol& right = symbols[candidate.right];
    if (left.id != candidate.left_id || right.id != candidate.right_id || left.next != candidate.right) {
      continue;
    }

    left.id = merges_.at(pair_key(left.id, right.id)).merged_id;
    left.next = right.next;
    if (right.next >= 0) {
      symbols[right.next].prev = candidate.left;
    }
    symbols[candidate.right].id = -1;

    add_candidate(left.prev);
    add_candidate(candidate.left);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    ids.push_back(symbols[i].id);
  }
}

}  // namespace edgelm::hf
