// Compares the GGUF tokenizer with libsentencepiece on the model the tiny
// Gemma 2 GGUF files were converted from.

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <random>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "support/expected_output.h"
#include "tokenizer/tokenizer.h"

namespace edgelm {
namespace {

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Builds a deterministic corpus of varied strings: English words with runs of
// spaces, tabs and newlines, digits, punctuation, accented and combining
// letters, CJK, emoji, control characters and random code points. It leaves
// out the user-defined symbols ("<start_of_turn>"...), which SentencePiece
// always matches but the GGUF types as control tokens.
std::vector<std::string> make_corpus(size_t count) {
  const std::vector<std::string> words = {
      "the",   "of",      "and",   "a",      "to",     "in",      "is",    "you",   "that",   "it",
      "he",    "was",     "for",   "on",     "are",    "as",      "with",  "his",   "they",   "I",
      "The",   "Hello",   "world", "fortune", "computer", "Larry", "Wall",  "don't", "it's",  "O'Reilly",
      "UNIX",  "e-mail",  "http://example.com/a?b=c", "foo_bar", "x86-64", "C++", "#include", "<tag>",
      "naïve", "café",    "Ünïcödé", "straße", "Œuvre", "niño", "résumé", "Ελληνικά", "русский", "עברית",
      "العربية", "हिन्दी", "日本語", "中文字符", "한국어", "ひらがな", "カタカナ", "✓", "→", "∑", "€", "£", "©",
      "😀",    "👍🏽",     "👨‍👩‍👧", "🇩🇪",    "🤖",     "e\xCC\x81", "A\xCC\x8A", "ﬁ", "ｆｕｌｌ", "①",
      "1969",  "3.14159", "384400", "0x1F", "1,000,000", "2024-01-01", "12:30", "-42", "1e-9", "007",
      "!",     "?",       "...",   "--",     "\"quoted\"", "(paren)", "[x]", "{y}", "a/b", "\\n",
      "▁",     "▁▁",      "<0x41>", "<unk>", "<bos>x", "</s>", "<|eot_id|>", "@@", "~~~", "|||",
  };
  const std::vector<std::string> gaps = {" ", " ", " ", "  ", "   ", "\t", "\t\t", "\n", "\n\n", " \n", "\n\t",
                                         "\r\n", "", ", ", ". ", " - ", "\x0B", "\x0C", "\u00A0", "\u3000"};

  std::mt19937 rng(20240601);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };

  std::vector<std::string> corpus;
  while (corpus.size() < count) {
    std::string text;
    switch (corpus.size() % 5) {
      case 0:
      case 1: {  // words and gaps
        const size_t n = 1 + pick(12);
        if (pick(4) == 0) text += gaps[pick(gaps.size())];
        for (size_t i = 0; i < n; ++i) {
          text += words[pick(words.size())];
          if (i + 1 < n || pick(3) == 0) text += gaps[pick(gaps.size())];
        }
        break;
      }
      case 2: {  // ASCII soup, control characters included
        const size_t n = 1 + pick(30);
        for (size_t i = 0; i < n; ++i) text += static_cast<char>(1 + pick(127));
        break;
      }
      case 3: {  // random code points from the BMP and beyond, no surrogates
        const size_t n = 1 + pick(12);
        for (size_t i = 0; i < n; ++i) {
          // Ranges: printable ASCII, Latin to symbols, CJK to Hangul, supplementary planes.
          const char32_t starts[] = {0x20, 0xA0, 0x3000, 0x10000};
          const char32_t sizes[] = {0x60, 0x2F60, 0xCFFF, 0x10000};
          char32_t cp;
          do {
            const size_t range = pick(4);
            cp = starts[range] + static_cast<char32_t>(pick(sizes[range]));
          } while (cp >= 0xD800 && cp <= 0xDFFF);
          append_utf8(text, cp);
          if (pick(3) == 0) text += ' ';
        }
        break;
      }
      case 4: {  // whitespace runs around a word
        text += std::string(pick(6), ' ') + words[pick(words.size())] + std::string(pick(6), ' ');
        text += std::string(pick(3), '\n') + std::string(pick(3), '\t') + words[pick(words.size())];
        break;
      }
    }
    if (!text.empty()) corpus.push_back(text);
  }
  return corpus;
}

class SentencePieceParity : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto status = processor_.Load(fixture("tiny-gemma2/tokenizer.model"));
    ASSERT_TRUE(status.ok()) << status.ToString();
    file_ = GgufFile::open(fixture("tiny-gemma2-f32.gguf"));
    tokenizer_ = Tokenizer::from_gguf(*file_);
  }

  std::vector<int32_t> reference(const std::string& text) {
    std::vector<int> ids;
    const auto status = processor_.Encode(text, &ids);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return std::vector<int32_t>(ids.begin(), ids.end());
  }

  sentencepiece::SentencePieceProcessor processor_;
  std::unique_ptr<GgufFile> file_;
  std::unique_ptr<Tokenizer> tokenizer_;
};

TEST_F(SentencePieceParity, GeneratedCorpus) {
  const std::vector<std::string> corpus = make_corpus(600);
  size_t mismatches = 0;
  for (const std::string& text : corpus) {
    const std::vector<int32_t> expected = reference(text);
    const std::vector<int32_t> actual = tokenizer_->encode(text, false, false);
    if (actual != expected) {
      ++mismatches;
      ADD_FAILURE() << "text: \"" << text << "\" has " << actual.size() << " ids, SentencePiece " << expected.size();
    }
  }
  EXPECT_EQ(mismatches, 0u) << "of " << corpus.size();
}

TEST_F(SentencePieceParity, FixturePrompts) {
  for (const char* name : {"tiny-gemma2-f32__digits-unicode", "tiny-gemma2-f32__whitespace",
                           "tiny-gemma2-f32__life", "tiny-gemma2-f32__long-window"}) {
    const testing::ExpectedOutput expected = testing::load_expected(name);
    EXPECT_EQ(tokenizer_->encode(expected.prompt, false, false), reference(expected.prompt)) << name;
  }
}

}  // namespace
}  // namespace edgelm
