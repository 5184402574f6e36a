// Synthetic vocabularies: the special and byte tokens where the real
// tokenizers keep them, then generated pieces that the tokenizers can use.

#include "synth/synthetic_vocab.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "chat/builtin_templates.h"
#include "core/error.h"
#include "tokenizer/byte_level.h"

namespace edgelm::synth {
namespace {

// llama.cpp's token types (llama_token_type), as tokenizer.ggml.token_type stores them.
constexpr int32_t kNormal = 1;
constexpr int32_t kControl = 3;
constexpr int32_t kByte = 6;

// SentencePiece score of the special tokens, as llama.cpp's converter gives
// added tokens.
constexpr float kSpecialScore = -1000.0f;

// Gemma 2's fixed ids. NOTE: only the ids of the named tokens are Gemma 2's.
// The names of the placeholders 4-105 and the position of the byte tokens
// are made up, because the real vocabulary keeps its byte tokens elsewhere.
constexpr uint32_t kGemmaPad = 0;
constexpr uint32_t kGemmaEos = 1;
constexpr uint32_t kGemmaBos = 2;
constexpr uint32_t kGemmaUnk = 3;
constexpr uint32_t kGemmaStartOfTurn = 106;
constexpr uint32_t kGemmaEndOfTurn = 107;
constexpr uint32_t kGemmaFirstByte = 108;
constexpr uint32_t kGemmaFirstPiece = kGemmaFirstByte + 256;

// Llama 3's 256 special tokens follow its 128000 ordinary ones.
constexpr uint32_t kLlama3Specials = 256;
// Tekken keeps 1000 special ids first, then the 256 bytes.
constexpr uint32_t kTekkenSpecials = 1000;

// SentencePiece's word-start marker U+2581.
constexpr std::string_view kWordStart = "\xe2\x96\x81";

// The k-th lowercase word in bijective base 26: "a".."z", "aa".."zz", "aaa", ...
std::string lowercase_word(uint64_t k) {
  std::string word;
  for (uint64_t n = k + 1; n > 0; n = (n - 1) / 26) word.insert(word.begin(), static_cast<char>('a' + (n - 1) % 26));
  return word;
}

std::string gemma_token(uint32_t id) {
  switch (id) {
    case kGemmaPad:
      return "<pad>";
    case kGemmaEos:
      return "<eos>";
    case kGemmaBos:
      return "<bos>";
    case kGemmaUnk:
      return "<unk>";
    case 4:
      return "<mask>";
    case kGemmaStartOfTurn:
      return "<start_of_turn>";
    case kGemmaEndOfTurn:
      return "<end_of_turn>";
    default:
      return fmt::format("<unused{}>", id - 5);
  }
}

// Ordinary SentencePiece pieces: the word-start marker, the printable ASCII
// characters, then "▁" + word and the bare words of two or more letters.
std::vector<std::string> sentencepiece_pieces(size_t count) {
  std::vector<std::string> pieces;
  pieces.reserve(count);
  pieces.emplace_back(kWordStart);
  for (char c = 0x21; c < 0x7f && pieces.size() < count; ++c) pieces.emplace_back(1, c);
  for (uint64_t k = 0; pieces.size() < count; ++k) {
    const std::string word = lowercase_word(k);
    pieces.push_back(std::string(kWordStart) + word);
    if (word.size() >= 2 && pieces.size() < count) pieces.push_back(word);
  }
  pieces.resize(count);
  return pieces;
}

SyntheticVocab gemma_vocab(uint32_t n_vocab) {
  SyntheticVocab vocab;
  vocab.style = VocabStyle::kGemma;
  vocab.bos_id = kGemmaBos;
  vocab.eos_id = kGemmaEos;
  vocab.unk_id = kGemmaUnk;
  vocab.pad_id = kGemmaPad;

  // Gemma 2's tokenizer_config.json marks every id below the byte tokens
  // special, so the converter writes them all as control tokens.
  for (uint32_t id = 0; id < kGemmaFirstByte; ++id) {
    vocab.tokens.push_back(gemma_token(id));
    vocab.scores.push_back(kSpecialScore);
    vocab.token_types.push_back(kControl);
  }
  for (uint32_t byte = 0; byte < 256; ++byte) {
    vocab.tokens.push_back(fmt::format("<0x{:02X}>", byte));
    vocab.scores.push_back(0.0f);
    vocab.token_types.push_back(kByte);
  }

  // Scores fall with the id, as in a trained model, so longer pieces merge later.
  std::vector<std::string> pieces = sentencepiece_pieces(n_vocab - kGemmaFirstPiece);
  for (size_t i = 0; i < pieces.size(); ++i) {
    vocab.tokens.push_back(std::move(pieces[i]));
    vocab.scores.push_back(-static_cast<float>(i));
    vocab.token_types.push_back(kNormal);
  }
  return vocab;
}

// The 256 bytes in GPT-2's alphabet order: the printable ones first, then
// the ones mapped above U+00FF.
std::vector<std::string> byte_level_tokens() {
  std::vector<uint8_t> bytes;
  std::vector<uint8_t> remapped;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    (printable ? bytes : remapped).push_back(static_cast<uint8_t>(b));
  }
  bytes.insert(bytes.end(), remapped.begin(), remapped.end());

  std::vector<std::string> tokens;
  for (uint8_t b : bytes) {
    std::string text;
    append_byte_level(std::string_view(reinterpret_cast<const char*>(&b), 1), text);
    tokens.push_back(std::move(text));
  }
  return tokens;
}

// The 32 byte-level characters that ordinary BPE tokens are spelled with:
// "Ġ" (a space), the lowercase letters and a few punctuation marks.
std::vector<std::string> bpe_alphabet() {
  std::vector<std::string> alphabet = {"\xc4\xa0"};
  for (char c = 'a'; c <= 'z'; ++c) alphabet.emplace_back(1, c);
  for (const char* mark : {".", ",", "'", "-", "!"}) alphabet.emplace_back(mark);
  return alphabet;
}

// Ordinary BPE tokens: every string of 2 alphabet characters, then of 3, and
// so on, so every prefix and suffix of a token is a token too. Each token
// gets its split after the last character as a merge; `extra_merges` more
// go to the earliest tokens, through their other split points.
void add_bpe_tokens(size_t count, uint64_t extra_merges, SyntheticVocab& vocab) {
  const std::vector<std::string> alphabet = bpe_alphabet();
  const size_t base = alphabet.size();

  std::vector<size_t> symbols = {0, 0};  // the current token, as alphabet indexes
  for (size_t n = 0; n < count; ++n) {
    std::vector<std::string> parts;
    for (size_t s : symbols) parts.push_back(alphabet[s]);

    std::string token;
    for (const std::string& part : parts) token += part;
    vocab.tokens.push_back(token);
    vocab.token_types.push_back(kNormal);

    // Split points in merge order: after the last character, then from the front.
    std::vector<size_t> splits = {parts.size() - 1};
    for (size_t split = 1; split + 1 < parts.size(); ++split) splits.push_back(split);
    for (size_t i = 0; i < splits.size(); ++i) {
      if (i > 0) {
        if (extra_merges == 0) break;
        --extra_merges;
      }
      std::string left;
      std::string right;
      for (size_t p = 0; p < parts.size(); ++p) (p < splits[i] ? left : right) += parts[p];
      vocab.merges.push_back(left + " " + right);
    }

    // Next string: count up in base `base`, growing one character after the last string of a length.
    size_t position = symbols.size();
    while (position > 0 && ++symbols[position - 1] == base) {
      symbols[position - 1] = 0;
      --position;
    }
    if (position == 0) symbols.assign(symbols.size() + 1, 0);
  }
}

// The number of merges when every split point of the first `count` tokens of add_bpe_tokens is used.
uint64_t max_bpe_merges(size_t count, size_t base) {
  uint64_t total = 0;
  uint64_t of_length = base * base;
  for (size_t length = 2; count > 0; ++length, of_length *= base) {
    const uint64_t n = std::min<uint64_t>(count, of_length);
    total += n * (length - 1);
    count -= n;
  }
  return total;
}

// Merges for `n_bpe_tokens` ordinary tokens: the shape's count at its full
// vocabulary, a proportional share of it for a smaller one, at least one
// per token and at most one per split point.
uint64_t target_merges(const ModelShape& shape, uint32_t reserved, size_t n_bpe_tokens) {
  const uint64_t full_tokens = shape.n_vocab > reserved ? shape.n_vocab - reserved : n_bpe_tokens;
  const double share = static_cast<double>(n_bpe_tokens) / static_cast<double>(std::max<uint64_t>(1, full_tokens));
  const auto scaled = static_cast<uint64_t>(std::llround(static_cast<double>(shape.n_merges) * share));
  return std::clamp<uint64_t>(scaled, n_bpe_tokens, max_bpe_merges(n_bpe_tokens, bpe_alphabet().size()));
}

std::string llama3_special_token(uint32_t index) {
  switch (index) {
    case 0:
      return "<|begin_of_text|>";
    case 1:
      return "<|end_of_text|>";
    case 4:
      return "<|finetune_right_pad_id|>";
    case 6:
      return "<|start_header_id|>";
    case 7:
      return "<|end_header_id|>";
    case 8:
      return "<|eom_id|>";
    case 9:
      return "<|eot_id|>";
    case 10:
      return "<|python_tag|>";
    default: {
      // Llama 3.1 numbers its reserved tokens around the named ones: 2, 3, 5, then 11 on.
      uint32_t reserved = index - 8;
      if (index < 4) reserved = index - 2;
      if (index == 5) reserved = 2;
      return fmt::format("<|reserved_special_token_{}|>", reserved);
    }
  }
}

SyntheticVocab llama3_vocab(const ModelShape& shape, uint32_t n_vocab) {
  SyntheticVocab vocab;
  vocab.style = VocabStyle::kLlama3;
  const uint32_t first_special = n_vocab - kLlama3Specials;
  // Llama 3.1 Instruct ends its turns with <|eot_id|>, which its GGUF files name as EOS.
  vocab.bos_id = first_special;
  vocab.eos_id = first_special + 9;

  for (std::string& token : byte_level_tokens()) {
    vocab.tokens.push_back(std::move(token));
    vocab.token_types.push_back(kNormal);
  }
  const size_t n_bpe_tokens = first_special - 256;
  add_bpe_tokens(n_bpe_tokens, target_merges(shape, 2 * kLlama3Specials, n_bpe_tokens) - n_bpe_tokens, vocab);
  for (uint32_t index = 0; index < kLlama3Specials; ++index) {
    vocab.tokens.push_back(llama3_special_token(index));
    vocab.token_types.push_back(kControl);
  }
  return vocab;
}

// NOTE: only ids 0-4 are Tekken's named tokens; the other special ids get
// placeholder names.
std::string tekken_special_token(uint32_t id) {
  switch (id) {
    case 0:
      return "<unk>";
    case 1:
      return "<s>";
    case 2:
      return "</s>";
    case 3:
      return "[INST]";
    case 4:
      return "[/INST]";
    default:
      return fmt::format("<SPECIAL_{}>", id);
  }
}

SyntheticVocab tekken_vocab(const ModelShape& shape, uint32_t n_vocab) {
  SyntheticVocab vocab;
  vocab.style = VocabStyle::kTekken;
  vocab.unk_id = 0;
  vocab.bos_id = 1;
  vocab.eos_id = 2;

  for (uint32_t id = 0; id < kTekkenSpecials; ++id) {
    vocab.tokens.push_back(tekken_special_token(id));
    vocab.token_types.push_back(kControl);
  }
  for (std::string& token : byte_level_tokens()) {
    vocab.tokens.push_back(std::move(token));
    vocab.token_types.push_back(kNormal);
  }
  const uint32_t reserved = kTekkenSpecials + 256;
  const size_t n_bpe_tokens = n_vocab - reserved;
  add_bpe_tokens(n_bpe_tokens, target_merges(shape, reserved, n_bpe_tokens) - n_bpe_tokens, vocab);
  return vocab;
}

std::string_view style_name(VocabStyle style) {
  switch (style) {
    case VocabStyle::kGemma:
      return "Gemma's SentencePiece";
    case VocabStyle::kLlama3:
      return "Llama 3's BPE";
    default:
      return "Tekken's BPE";
  }
}

// tokenizer.ggml.pre: llama.cpp's name for the pre-tokenizer.
std::string pre_tokenizer_name(VocabStyle style) {
  switch (style) {
    case VocabStyle::kGemma:
      return "default";
    case VocabStyle::kLlama3:
      return "llama-bpe";
    default:
      return "tekken";
  }
}

ChatFamily chat_family(VocabStyle style) {
  switch (style) {
    case VocabStyle::kGemma:
      return ChatFamily::gemma;
    case VocabStyle::kLlama3:
      return ChatFamily::llama3;
    default:
      return ChatFamily::mistral;
  }
}

}  // namespace

VocabStyle vocab_style(const ModelShape& shape) {
  if (shape.arch == Architecture::kGemma2) return VocabStyle::kGemma;
  // NOTE: detected by name, because Mistral NeMo is the only built-in
  // Llama-architecture shape with a Tekken vocabulary.
  if (shape.name.starts_with("mistral")) return VocabStyle::kTekken;
  return VocabStyle::kLlama3;
}

uint32_t min_vocab_size(VocabStyle style) {
  switch (style) {
    case VocabStyle::kGemma:
      return kGemmaFirstPiece + 1;
    case VocabStyle::kLlama3:
      return 256 + kLlama3Specials + 1;
    default:
      return kTekkenSpecials + 256 + 1;
  }
}

SyntheticVocab make_synthetic_vocab(const ModelShape& shape, uint32_t n_vocab) {
  const VocabStyle style = vocab_style(shape);
  if (n_vocab < min_vocab_size(style)) {
    fail("a vocabulary of {} tokens is too small for {} tokenizer; give at least {} tokens, which holds its special "
         "and byte tokens",
         n_vocab, style_name(style), min_vocab_size(style));
  }
  switch (style) {
    case VocabStyle::kGemma:
      return gemma_vocab(n_vocab);
    case VocabStyle::kLlama3:
      return llama3_vocab(shape, n_vocab);
    default:
      return tekken_vocab(shape, n_vocab);
  }
}

void add_vocab_metadata(SyntheticVocab vocab, GgufMetadataBuilder& metadata) {
  const bool sentencepiece = vocab.style == VocabStyle::kGemma;
  metadata.add_string("tokenizer.ggml.model", sentencepiece ? "llama" : "gpt2");
  metadata.add_string("tokenizer.ggml.pre", pre_tokenizer_name(vocab.style));
  metadata.add_string_array("tokenizer.ggml.tokens", std::move(vocab.tokens));
  metadata.add_float32_array("tokenizer.ggml.scores", vocab.scores);
  metadata.add_int32_array("tokenizer.ggml.token_type", vocab.token_types);
  metadata.add_string_array("tokenizer.ggml.merges", std::move(vocab.merges));

  metadata.add_uint32("tokenizer.ggml.bos_token_id", vocab.bos_id);
  metadata.add_uint32("tokenizer.ggml.eos_token_id", vocab.eos_id);
  if (vocab.unk_id) metadata.add_uint32("tokenizer.ggml.unknown_token_id", *vocab.unk_id);
  if (vocab.pad_id) metadata.add_uint32("tokenizer.ggml.padding_token_id", *vocab.pad_id);
  metadata.add_bool("tokenizer.ggml.add_bos_token", true);
  metadata.add_bool("tokenizer.ggml.add_eos_token", false);

  metadata.add_string("tokenizer.chat_template", std::string(builtin_chat_template(chat_family(vocab.style))));

  // Gemma's tokenizer adds no space before the first word.
  if (sentencepiece) metadata.add_bool("tokenizer.ggml.add_space_prefix", false);
}

}  // namespace edgelm::synth
