#include "tokenizer/bpe_tokenizer.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/end_of_generation.h"
#include "tokenizer/lenient_utf8.h"

namespace edgelm {

namespace {

// A run of a word's bytes that is one symbol so far, linked to its neighbours.
struct Symbol {
  int32_t id;      // symbol id (see BpeMerges), or -1 for a byte no merge or token has
  int32_t prev;
  int32_t next;
  uint32_t begin;  // in the word's bytes
  uint32_t length;  // 0 once merged into the symbol on its left
};

// Two adjacent symbols that a merge joins. The ids detect a candidate made
// stale by another merge: symbols only grow, so equal ids mean equal texts.
struct MergeCandidate {
  int32_t rank;
  int32_t left;
  int32_t right;
  int32_t left_id;
  int32_t right_id;
  int32_t result;
};

// For std::push_heap, which keeps the greatest on top: the lowest rank first,
// and the leftmost pair among equal ranks, as in llama.cpp.
struct CandidateOrder {
  bool operator()(const MergeCandidate& a, const MergeCandidate& b) const {
    return a.rank > b.rank || (a.rank == b.rank && a.left > b.left);
  }
};

Vocab validated(Vocab vocab) {
  validate_vocab(vocab);
  find_end_tokens_by_text(vocab);
  return vocab;
}

std::unordered_map<std::string_view, int32_t> index_texts(const std::vector<std::string>& texts) {
  std::unordered_map<std::string_view, int32_t> ids;
  ids.reserve(texts.size());
  for (size_t id = 0; id < texts.size(); ++id) {
    ids.emplace(texts[id], static_cast<int32_t>(id));
  }
  return ids;
}

}  // namespace

// Buffers reused across the words of one encode call.
struct BpeTokenizer::Scratch {
  std::string bytes_storage;
  std::string pattern_storage;
  std::vector<std::string_view> words;
  std::vector<Symbol> symbols;
  std::vector<MergeCandidate> candidates;
  std::string symbol_text;
};

BpeTokenizer::BpeTokenizer(Vocab vocab)
    : vocab_(validated(std::move(vocab))),
      splitter_(vocab_),
      pre_tokenizer_(find_pre_tokenizer(vocab_.pre)),
      text_ids_(index_texts(vocab_.tokens)),
      merges_(vocab_.merges, text_ids_, vocab_.tokens.size()) {
  // Raw bytes of every token. Whole words are looked up by their raw bytes,
  // which skips encoding them to byte-level text. Only token texts made
  // entirely of byte-level characters can equal an encoded word.
  token_raw_bytes_.resize(vocab_.tokens.size());
  std::vector<bool> all_byte_level(vocab_.tokens.size());
  for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
    all_byte_level[id] = decode_byte_level(vocab_.tokens[id], token_raw_bytes_[id]);
  }
  raw_ids_.reserve(vocab_.tokens.size());
  for (size_t id = 0; id < vocab_.tokens.size(); ++id) {
    if (all_byte_level[id] && !token_raw_bytes_[id].empty()) {
      raw_ids_.emplace(token_raw_bytes_[id], static_cast<int32_t>(id));
    }
  }

  std::string character;
  for (int byte = 0; byte < 256; ++byte) {
    const char c = static_cast<char>(byte);
    character.clear();
    append_byte_level(std::string_view(&c, 1), character);
    byte_symbols_[byte] = merges_.symbol_id(character);
  }

  end_of_generation_ids_ = end_of_generation_ids(vocab_);
}

std::vector<int32_t> BpeTokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> ids;
  Scratch scratch;
  for (const TextFragment& fragment : splitter_.split(text, parse_special)) {
    if (fragment.is_token()) {
      ids.push_back(fragment.token);
    } else {
      encode_text(fragment.text, scratch, ids);
    }
  }

  // A prompt that already begins with BOS (for example a chat template that
  // writes "<|begin_of_text|>") keeps just that one. llama.cpp adds a second
  // one and warns.
  if (add_bos && vocab_.add_bos && vocab_.bos_id >= 0 && (ids.empty() || ids.front() != vocab_.bos_id)) {
    ids.insert(ids.begin(), vocab_.bos_id);
  }
  if (add_bos && vocab_.add_eos && vocab_.eos_id >= 0) {
    ids.push_back(vocab_.eos_id);
  }
  return ids;
}

void BpeTokenizer::encode_text(std::string_view text, Scratch& scratch, std::vector<int32_t>& ids) const {
  const LenientText lenient = decode_lenient_utf8(text, scratch.bytes_storage, scratch.pattern_storage);

  scratch.words.clear();
  pre_tokenizer_.split(lenient.pattern_text, scratch.words);

  // The words are views into pattern_text; the same offsets in `bytes` give
  // the bytes to encode.
  for (std::string_view word : scratch.words) {
    const size_t offset = static_cast<size_t>(word.data() - lenient.pattern_text.data());
    encode_word(lenient.bytes.substr(offset, word.size()), scratch, ids);
  }
}

void BpeTokenizer::encode_word(std::string_view word, Scratch& scratch, std::vector<int32_t>& ids) const {
  if (pre_tokenizer_.config().ignore_merges) {
    const auto whole = raw_ids_.find(word);
    if (whole != raw_ids_.end()) {
      ids.push_back(whole->second);
      return;
    }
  }
  if (word.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("cannot encode a word of {} bytes: symbol indexes are 32-bit", word.size());
  }

  // One symbol per byte: each byte is one byte-level character.
  std::vector<Symbol>& symbols = scratch.symbols;
  symbols.clear();
  for (size_t i = 0; i < word.size(); ++i) {
    const auto index = static_cast<int32_t>(i);
    symbols.push_back({byte_symbols_[static_cast<uint8_t>(word[i])], index - 1, index + 1, static_cast<uint32_t>(i), 1});
  }
  symbols.back().next = -1;

  std::vector<MergeCandidate>& heap = scratch.candidates;
  heap.clear();
  auto add_candidate = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) {
      return;
    }
    const BpeMerges::Merge* merge = merges_.find(symbols[left].id, symbols[right].id);
    if (merge == nullptr) {
      return;
    }
    heap.push_back({merge->rank, left, right, symbols[left].id, symbols[right].id, merge->result});
    std::push_heap(heap.begin(), heap.end(), CandidateOrder{});
  };

  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) {
    add_candidate(i - 1, i);
  }

  // Apply the lowest-ranked merge until none is left. Each merge adds at most
  // two candidates, so this is O(n log n) in the word's length.
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), CandidateOrder{});
    const MergeCandidate candidate = heap.back();
    heap.pop_back();

    Symbol& left = symbols[candidate.left];
    Symbol& right = symbols[candidate.right];
    if (left.length == 0 || right.length == 0 || left.id != candidate.left_id || right.id != candidate.right_id) {
      continue;  // stale: a neighbour merged first
    }

    left.id = candidate.result;
    left.length += right.length;
    right.length = 0;
    left.next = right.next;
    if (right.next >= 0) {
      symbols[right.next].prev = candidate.left;
    }

    add_candidate(left.prev, candidate.left);
    add_candidate(candidate.left, left.next);
  }

  for (int32_t i = 0; i >= 0; i = symbols[i].next) {
    emit_symbol(symbols[i].id, word.substr(symbols[i].begin, symbols[i].length), ids);
  }
}

void BpeTokenizer::emit_symbol(int32_t symbol, std::string_view bytes, std::vector<int32_t>& ids) const {
  if (symbol >= 0 && static_cast<size_t>(symbol) < vocab_.tokens.size()) {
    ids.push_back(symbol);
    return;
  }

  // A symbol that is no token, which well-formed vocabularies never leave.
  // llama.cpp then looks up each byte of the symbol's byte-level text as a
  // one-byte token text and drops the bytes that match no token. So does edgelm.
  std::string text;
  if (symbol >= 0) {
    text = merges_.extra_text(symbol);
  } else {
    append_byte_level(bytes, text);
  }
  for (char c : text) {
    const auto token = text_ids_.find(std::string_view(&c, 1));
    if (token != text_ids_.end()) {
      ids.push_back(token->second);
    }
  }
}

void BpeTokenizer::check_id(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.tokens.size()) {
    fail("token id {} is out of range for a vocabulary of {} tokens", id, vocab_.tokens.size());
  }
}

std::string BpeTokenizer::token_bytes(int32_t id, bool show_special) const {
  check_id(id);
  switch (vocab_.type(id)) {
    case TokenType::NORMAL:
      return token_raw_bytes_[id];
    case TokenType::USER_DEFINED:
      return vocab_.tokens[id];
    case TokenType::CONTROL:
    case TokenType::UNKNOWN:
      return show_special ? vocab_.tokens[id] : std::string();
    case TokenType::UNDEFINED:
    case TokenType::UNUSED:
    case TokenType::BYTE:
      return std::string();
  }
  return std::string();
}

bool BpeTokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(end_of_generation_ids_.begin(), end_of_generation_ids_.end(), id);
}

std::string_view BpeTokenizer::piece(int32_t id) const {
  check_id(id);
  return vocab_.tokens[id];
}

}  // namespace edgelm
