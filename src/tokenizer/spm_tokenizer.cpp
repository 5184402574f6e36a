#include "tokenizer/spm_tokenizer.h"

#include <algorithm>
#include <limits>
#include <queue>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace edgelm {

namespace {

constexpr std::string_view kSpaceMarker = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

// Token texts that llama.cpp also treats as end of generation, for
// vocabularies whose metadata names only EOS.
constexpr std::string_view kEndOfGenerationTexts[] = {
    "<end_of_turn>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|im_end|>", "<|end|>", "<|endoftext|>", "<EOT>",
};

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
std::vector<Symbol> split_characters(const std::string& text) {
  if (text.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    fail("cannot encode a text of {} bytes: symbol indexes are 32-bit", text.size());
  }

  std::vector<Symbol> symbols;
  symbols.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = scan_utf8(text, pos).length;
    const auto index = static_cast<int32_t>(symbols.size());
    symbols.push_back({index - 1, index + 1, pos, length});
    pos += length;
  }
  symbols.back().next = -1;
  return symbols;
}

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

  // Without a <0xNN> token, llama.cpp falls back to a piece that is the byte itself.
  for (int byte = 0; byte < 256; ++byte) {
    if (byte_ids_[byte] < 0) {
      byte_ids_[byte] = find_piece(std::string_view(std::string(1, static_cast<char>(byte))));
    }
  }

  for (int32_t id : {vocab_.eos_id, vocab_.eot_id, vocab_.eom_id}) {
    if (id >= 0) {
      end_of_generation_ids_.push_back(id);
    }
  }
  for (int32_t id = 0; id < n; ++id) {
    const std::string& text = vocab_.tokens[id];
    for (std::string_view eog_text : kEndOfGenerationTexts) {
      if (text == eog_text) {
        end_of_generation_ids_.push_back(id);
      }
    }
  }
  std::sort(end_of_generation_ids_.begin(), end_of_generation_ids_.end());
  end_of_generation_ids_.erase(std::unique(end_of_generation_ids_.begin(), end_of_generation_ids_.end()),
                               end_of_generation_ids_.end());
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

void SpmTokenizer::encode_text(std::string_view text, bool space_prefix, std::vector<int32_t>& ids) const {
  if (text.empty()) {
    return;
  }
  const std::string escaped = escape_spaces(text, space_prefix);
  std::vector<Symbol> symbols = split_characters(escaped);

  // Merged texts that are UNUSED pieces are split again at the end, as
  // SentencePiece does, so this map stores how each one was formed.
  MergeSplits unused_merges;

  std::vector<MergeCandidate> storage;
  storage.reserve(symbols.size());
  std::priority_queue<MergeCandidate, std::vector<MergeCandidate>, CandidateOrder> queue(CandidateOrder{},
                                                                                          std::move(storage));
  auto symbol_text = [&](int32_t index) {
    return std::string_view(escaped).substr(symbols[index].begin, symbols[index].length);
  };
  auto add_candidate = [&](int32_t left, int32_t right) {
    if (left < 0 || right < 0) {
      return;
    }
    const size_t length = symbols[left].length + symbols[right].length;
    const std::string_view merged = std::string_view(escaped).substr(symbols[left].begin, length);
    const int32_t id = find_piece(merged);
    if (id < 0) {
      return;
    }
    queue.push({vocab_.score(id), left, right, length});
    if (vocab_.type(id) == TokenType::UNUSED) {
      unused_merges[merged] = {symbol_text(left), symbol_text(right)};
    }
  };

  for (int32_t i = 1; i < static_cast<int32_t>(symbols.size()); ++i) {
    add_candidate(i - 1, i);
  }

  // Merge the best pair until none is left. Each merge adds at most two
  // candidates, so this is O(n log n) in the number of characters.
  while (!queue.empty()) {
    const MergeCandidate candidate = queue.top();
    queue.pop();

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

  bool previous_unknown = false;
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
