#include "tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <limits>

#include "core/error.h"
#include "tokenizer/end_of_generation.h"
#include "tokenizer/utf8.h"

namespace edgelm {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

// Parses "<0xNN>" (two hex digits), or returns -1 for any other text.
int parse_byte_token(std::string_view text) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') {
    return -1;
  }
  int value = 0;
  for (char c : text.substr(3, 2)) {
    value *= 16;
    if (c >= '0' && c <= '9') {
      value += c - '0';
    } else if (c >= 'A' && c <= 'F') {
      value += c - 'A' + 10;
    } else if (c >= 'a' && c <= 'f') {
      value += c - 'a' + 10;
    } else {
      return -1;
    }
  }
  return value;
}

// A run of the input that is one piece so far, linked to its neighbours.
struct Symbol {
  int32_t prev;
  int32_t next;
  size_t begin;
  size_t length;  // 0 once merged into the symbol on its left
};

// Two adjacent symbols whose concatenation is a piece.
struct MergeCandidate {
  float score;
  int32_t left;
  int32_t right;
  size_t length;  // of the merged text, to detect a candidate made stale by another merge
};

// Highest score first, and the leftmost pair among equal scores, as in SentencePiece.
struct CandidateOrder {
  bool operator()(const MergeCandidate& a, const MergeCandidate& b) const {
    return a.score < b.score || (a.score == b.score && a.left > b.left);
  }
};

// Replaces each space with "▁", and starts with one when `space_prefix`.
std::string escape_spaces(std::string_view text, bool space_prefix) {
  std::string escaped;
  escaped.reserve(text.size() + kSpaceMarker.size());
  if (space_prefix) {
    escaped += kSpaceMarker;
  }
  for (char c : text) {
    if (c == ' ') {
      escaped += kSpaceMarker;
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// Makes one linked symbol per character of the non-empty `text`. A malformed
// byte sequence becomes its own symbol and later falls back to byte tokens.
void split_characters(std::string_view text, std::vector<Symbol>& symbols) {
  if (text.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("cannot encode a text of {} bytes: symbol indexes are 32-bit", text.size());
  }

  symbols.clear();
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = scan_utf8(text, pos).length;
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, index + 1, pos, length});
    pos += length;
  }
  symbols.back().next = -1;
}

bool starts_with_space_marker(std::string_view text, size_t pos) {
  return text.substr(pos, kSpaceMarker.size()) == kSpaceMarker;
}

// Words longer than this are encoded without the cache, because they rarely repeat.
constexpr size_t kMaxCachedWordBytes = 256;

Vocab validated(Vocab vocab) {
  validate_vocab(vocab);
  return vocab;
}

}  // namespace

SpmTokenizer::SpmTokenizer(Vocab vocab) : vocab_(validated(std::move(vocab))), splitter_(vocab_) {
  const auto n = static_cast<int32_t>(vocab_.tokens.size());
  byte_ids_.fill(-1);
  token_byte_.assign(vocab_.tokens.size(), -1);
  piece_ids_.reserve(vocab_.tokens.size());

  for (int32_t id = 0; id < n; ++id) {
    const std::string& text = vocab_.tokens[id];
    switch (vocab_.type(id)) {
      case TokenType::NORMAL:
      case TokenType::UNDEFINED:
      case TokenType::USER_DEFINED:
      case TokenType::UNUSED:
        // The first of duplicate texts keeps the lower id.
        piece_ids_.emplace(text, id);
        break;
      case TokenType::BYTE: {
        const int byte = parse_byte_token(text);
        if (byte < 0) {
          fail("tokenizer.ggml.tokens[{}] = \"{}\" has type BYTE but is not of the form <0xNN>", id, text);
        }
        token_byte_[id] = static_cast<int16_t>(byte);
        if (byte_ids_[byte] < 0) {
          byte_ids_[byte] = id;
        }
        break;
      }
      case TokenType::CONTROL:
      case TokenType::UNKNOWN:
        break;
    }
  }

  // Find the characters that precede a "▁" inside a piece, and whether any
  // merge target is UNUSED.
  for (const auto& [text, id] : piece_ids_) {
    if (vocab_.type(id) == TokenType::UNUSED) {
      encode_by_word_ = false;
    }
    size_t previous = 0;
    for (size_t pos = 0; pos < text.size();) {
      if (pos > 0 && starts_with_space_marker(text, pos)) {
        characters_before_inner_space_.insert(text.substr(previous, pos - previous));
      }
      previous = pos;
      pos += scan_utf8(text, pos).length;
    }
  }

  // Without a <0xNN> token, llama.cpp falls back to a piece that is the byte itself.
  for (int byte = 0; byte < 256; ++byte) {
    if (byte_ids_[byte] < 0) {
      byte_ids_[byte] = find_piece(std::string_view(std::string(1, static_cast<char>(byte))));
    }
  }

  end_of_generation_ids_ = end_of_generation_ids(vocab_);
}

int32_t SpmTokenizer::find_piece(std::string_view text) const {
  const auto it = piece_ids_.find(text);
  return it == piece_ids_.end() ? -1 : it->second;
}

std::vector<int32_t> SpmTokenizer::encode(std::string_view text, bool add_bos, bool parse_special) const {
  std::vector<int32_t> ids;

  // llama.cpp treats the start of the text like a special token, so both get
  // the space prefix.
  bool after_special = true;
  for (const TextFragment& fragment : splitter_.split(text, parse_special)) {
    if (fragment.is_token()) {
      ids.push_back(fragment.token);
      after_special = true;
    } else {
      encode_text(fragment.text, vocab_.add_space_prefix && after_special, ids);
      after_special = false;
    }
  }

  // A prompt that already begins with BOS (for example a chat template that
  // writes "<bos>") keeps just that one.
  if (add_bos && vocab_.add_bos && vocab_.bos_id >= 0 && (ids.empty() || ids.front() != vocab_.bos_id)) {
    ids.insert(ids.begin(), vocab_.bos_id);
  }
  if (add_bos && vocab_.add_eos && vocab_.eos_id >= 0) {
    ids.push_back(vocab_.eos_id);
  }
  return ids;
}

// Buffers reused across the words of one encode call.
struct SpmTokenizer::Scratch {
  std::vector<Symbol> symbols;
  std::vector<MergeCandidate> heap;
  // Merged texts that are UNUSED pieces are split again at the end, as
  // SentencePiece does, so this map stores how each one was formed.
  MergeSplits unused_merges;
};

void SpmTokenizer::encode_text(std::string_view text, bool space_prefix, std::vector<int32_t>& ids) const {
  if (text.empty()) {
    return;
  }
  const std::string escaped = escape_spaces(text, space_prefix);
  Scratch scratch;
  bool previous_unknown = false;
  if (!encode_by_word_) {
    encode_run(escaped, scratch, previous_unknown, ids);
    return;
  }

  // Encode word by word. A word starts at a "▁" that no piece joins to the
  // character before it, so merging each word alone gives the same symbols as
  // merging the whole text. Words repeat, so their ids are cached; a word
  // with an unknown character is not, because its ids depend on the word
  // before it.
  std::unordered_map<std::string_view, std::pair<size_t, size_t>> cache;  // word -> (offset, count) in cached_ids
  std::vector<int32_t> cached_ids;
  auto encode_word = [&](std::string_view word) {
    const auto hit = cache.find(word);
    if (hit != cache.end()) {
      const auto [offset, count] = hit->second;
      ids.insert(ids.end(), cached_ids.begin() + static_cast<std::ptrdiff_t>(offset),
                 cached_ids.begin() + static_cast<std::ptrdiff_t>(offset + count));
      previous_unknown = false;
      return;
    }

    const size_t first = ids.size();
    const bool unknown_before = previous_unknown;
    encode_run(word, scratch, previous_unknown, ids);
    const bool has_unknown =
        std::find(ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end(), vocab_.unk_id) != ids.end();
    if (word.size() <= kMaxCachedWordBytes && !unknown_before && !has_unknown) {
      cache.emplace(word, std::make_pair(cached_ids.size(), ids.size() - first));
      cached_ids.insert(cached_ids.end(), ids.begin() + static_cast<std::ptrdiff_t>(first), ids.end());
    }
  };

  const std::string_view all = escaped;
  size_t word_begin = 0;
  size_t previous = 0;
  for (size_t pos = 0; pos < all.size();) {
    if (pos > word_begin && starts_with_space_marker(all, pos) &&
        !characters_before_inner_space_.contains(all.substr(previous, pos - previous))) {
      encode_word(all.substr(word_begin, pos - word_begin));
      word_begin = pos;
    }
    previous = pos;
    pos += scan_utf8(all, pos).length;
  }
  encode_word(all.substr(word_begin));
}

void SpmTokenizer::encode_run(std::string_view text, Scratch& scratch, bool& previous_unknown,
                              std::vector<int32_t>& ids) const {
  std::vector<Symbol>& symbols = scratch.symbols;
  split_characters(text, symbols);
  MergeSplits& unused_merges = scratch.unused_merges;
  unused_merges.clear();

  std::vector<MergeCandidate>& heap = scratch.heap;
  heap.clear();
  auto symbol_text = [&](int32_t index) { return text.substr(symbols[index].begin, symbols[index].length); };
  auto add_candidate = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) {
      return;
    }
    const size_t length = symbols[left].length + symbols[right].length;
    const std::string_view merged = text.substr(symbols[left].begin, length);
    const int32_t id = find_piece(merged);
    if (id < 0) {
      return;
    }
    heap.push_back({vocab_.score(id), left, right, length});
    std::push_heap(heap.begin(), heap.end(), CandidateOrder{});
    if (vocab_.type(id) == TokenType::UNUSED) {
      unused_merges[merged] = {symbol_text(left), symbol_text(right)};
    }
  };

  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) {
    add_candidate(i - 1, i);
  }

  // Merge the best pair until none is left. Each merge adds at most two
  // candidates, so this is O(n log n) in the number of characters.
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), CandidateOrder{});
    const MergeCandidate candidate = heap.back();
    heap.pop_back();

    Symbol& left = symbols[candidate.left];
    Symbol& right = symbols[candidate.right];
    if (left.length == 0 || right.length == 0 || left.length + right.length != candidate.length) {
      continue;  // stale: one side has merged with another neighbour since
    }

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
    emit_piece(symbol_text(i), unused_merges, previous_unknown, ids);
  }
}

void SpmTokenizer::emit_piece(std::string_view text, const MergeSplits& unused_merges, bool& previous_unknown,
                              std::vector<int32_t>& ids) const {
  const int32_t id = find_piece(text);
  if (id >= 0 && vocab_.type(id) != TokenType::UNUSED) {
    ids.push_back(id);
    previous_unknown = false;
    return;
  }

  const auto split = unused_merges.find(text);
  if (split != unused_merges.end()) {
    emit_piece(split->second.first, unused_merges, previous_unknown, ids);
    emit_piece(split->second.second, unused_merges, previous_unknown, ids);
    return;
  }

  // What is left is a character missing from the vocabulary.
  const bool has_bytes =
      std::all_of(text.begin(), text.end(), [&](char c) { return byte_ids_[static_cast<uint8_t>(c)] >= 0; });
  if (has_bytes) {
    for (char c : text) {
      ids.push_back(byte_ids_[static_cast<uint8_t>(c)]);
    }
    previous_unknown = false;
    return;
  }

  if (vocab_.unk_id < 0) {
    fail("cannot encode \"{}\": the vocabulary has no byte tokens for it and no unknown token", text);
  }
  if (!previous_unknown) {
    ids.push_back(vocab_.unk_id);
  }
  previous_unknown = true;
}

void SpmTokenizer::check_id(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= vocab_.tokens.size()) {
    fail("token id {} is out of range for a vocabulary of {} tokens", id, vocab_.tokens.size());
  }
}

std::string SpmTokenizer::token_bytes(int32_t id, bool show_special) const {
  check_id(id);
  const std::string& text = vocab_.tokens[id];

  switch (vocab_.type(id)) {
    case TokenType::NORMAL:
    case TokenType::UNDEFINED: {
      std::string out;
      out.reserve(text.size());
      for (size_t pos = 0; pos < text.size();) {
        if (std::string_view(text).substr(pos, kSpaceMarker.size()) == kSpaceMarker) {
          out += ' ';
          pos += kSpaceMarker.size();
        } else {
          out += text[pos];
          ++pos;
        }
      }
      return out;
    }
    case TokenType::BYTE:
      return std::string(1, static_cast<char>(token_byte_[id]));
    case TokenType::USER_DEFINED:
      // llama.cpp writes user-defined texts as they are, "▁" included.
      return text;
    case TokenType::CONTROL:
    case TokenType::UNKNOWN:
      return show_special ? text : std::string();
    case TokenType::UNUSED:
      return std::string();
  }
  return std::string();
}

bool SpmTokenizer::is_end_of_generation(int32_t id) const {
  return std::binary_search(end_of_generation_ids_.begin(), end_of_generation_ids_.end(), id);
}

std::string_view SpmTokenizer::piece(int32_t id) const {
  check_id(id);
  return vocab_.tokens[id];
}

}  // namespace edgelm
