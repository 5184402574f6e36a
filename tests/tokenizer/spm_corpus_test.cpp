// Compares the GGUF tokenizer and the tokenizer.model loader with SentencePiece
// on 6,000 stored strings (ids from spm_encode, made by
// tests/tools/make_spm_cases.py) and, live, on multi-line texts built from them.

#include <gtest/gtest.h>
#include <sentencepiece_processor.h>

#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gguf/gguf_file.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace edgelm {
namespace {

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

struct SpmCase {
  std::string kind;  // plain, user_defined or invalid_utf8
  std::string text;
  std::vector<int32_t> ids;
};

std::string from_hex(const std::string& hex) {
  std::string bytes;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return bytes;
}

std::vector<SpmCase> load_cases() {
  std::ifstream in(std::string(EDGELM_SOURCE_DIR) + "/tests/data/spm_tiny_gemma2_cases.jsonl");
  std::vector<SpmCase> cases;
  for (std::string line; std::getline(in, line);) {
    const nlohmann::json record = nlohmann::json::parse(line);
    SpmCase c;
    c.kind = record.at("kind").get<std::string>();
    c.text = record.contains("hex") ? from_hex(record.at("hex").get<std::string>()) : record.at("text").get<std::string>();
    c.ids = record.at("ids").get<std::vector<int32_t>>();
    cases.push_back(std::move(c));
  }
  return cases;
}

// What SentencePiece encodes for malformed UTF-8: each bad byte becomes U+FFFD.
std::string replace_each_bad_byte(std::string_view text) {
  std::string out;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Step step = scan_utf8(text, pos);
    if (step.status == Utf8Status::VALID) {
      out.append(text.substr(pos, step.length));
    } else {
      for (size_t i = 0; i < step.length; ++i) append_replacement_character(out);
    }
    pos += step.length;
  }
  return out;
}

// The text as a JSON string, so control characters show in failure messages.
std::string quoted(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

class SpmCorpus : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    cases_ = new std::vector<SpmCase>(load_cases());
    gguf_ = GgufFile::open(fixture("tiny-gemma2-f32.gguf")).release();
    gguf_tokenizer_ = Tokenizer::from_gguf(*gguf_).release();
    model_ = SentencePieceModel::from_file(fixture("tiny-gemma2/tokenizer.model")).release();
    processor_ = new sentencepiece::SentencePieceProcessor();
    ASSERT_TRUE(processor_->Load(fixture("tiny-gemma2/tokenizer.model")).ok());
  }
  static void TearDownTestSuite() {
    delete processor_;
    delete model_;
    delete gguf_tokenizer_;
    delete gguf_;
    delete cases_;
  }

  static std::vector<int32_t> live(const std::string& text) {
    std::vector<int> ids;
    EXPECT_TRUE(processor_->Encode(text, &ids).ok());
    return std::vector<int32_t>(ids.begin(), ids.end());
  }

  static std::vector<SpmCase>* cases_;
  static GgufFile* gguf_;
  static Tokenizer* gguf_tokenizer_;
  static SentencePieceModel* model_;
  static sentencepiece::SentencePieceProcessor* processor_;
};

std::vector<SpmCase>* SpmCorpus::cases_ = nullptr;
GgufFile* SpmCorpus::gguf_ = nullptr;
Tokenizer* SpmCorpus::gguf_tokenizer_ = nullptr;
SentencePieceModel* SpmCorpus::model_ = nullptr;
sentencepiece::SentencePieceProcessor* SpmCorpus::processor_ = nullptr;

TEST_F(SpmCorpus, StoredIdsMatchLibsentencepiece) {
  ASSERT_GE(cases_->size(), 5000u);
  size_t mismatches = 0;
  for (const SpmCase& c : *cases_) {
    if (live(c.text) != c.ids) {
      ++mismatches;
      ADD_FAILURE() << "spm_encode and libsentencepiece differ on " << quoted(c.text);
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST_F(SpmCorpus, SentencePieceModelMatchesAll) {
  size_t matches = 0;
  for (const SpmCase& c : *cases_) {
    const std::vector<int32_t> ids = model_->encode(c.text, /*add_bos=*/false, /*parse_special=*/false);
    if (ids == c.ids) {
      ++matches;
    } else {
      ADD_FAILURE() << c.kind << " text " << quoted(c.text);
    }
  }
  EXPECT_EQ(matches, cases_->size());
}

// The GGUF types Gemma's user-defined symbols as control tokens, so they
// become ids only with parse_special; those texts hold no other control
// text. Malformed bytes stay bytes in the GGUF tokenizer (as in llama.cpp)
// where SentencePiece makes each one U+FFFD, so those texts are compared
// after that replacement.
TEST_F(SpmCorpus, GgufTokenizerMatchesAll) {
  size_t plain = 0;
  size_t user_defined = 0;
  size_t invalid_utf8 = 0;
  for (const SpmCase& c : *cases_) {
    std::vector<int32_t> ids;
    if (c.kind == "plain") {
      ids = gguf_tokenizer_->encode(c.text, false, false);
      plain += ids == c.ids;
    } else if (c.kind == "user_defined") {
      ids = gguf_tokenizer_->encode(c.text, false, true);
      user_defined += ids == c.ids;
    } else {
      ASSERT_EQ(c.kind, "invalid_utf8");
      ids = gguf_tokenizer_->encode(replace_each_bad_byte(c.text), false, false);
      invalid_utf8 += ids == c.ids;
    }
    EXPECT_EQ(ids, c.ids) << c.kind << " text " << quoted(c.text);
  }
  EXPECT_EQ(plain, 5400u);
  EXPECT_EQ(user_defined, 300u);
  EXPECT_EQ(invalid_utf8, 300u);
}

TEST_F(SpmCorpus, GgufKeepsMalformedBytes) {
  // The deliberate difference: the bytes themselves, through byte fallback.
  const std::vector<int32_t> ids = gguf_tokenizer_->encode("a\xFF", false, false);
  ASSERT_EQ(ids.size(), 2u);
  EXPECT_EQ(gguf_tokenizer_->token_bytes(ids[1]), "\xFF");
  EXPECT_NE(ids, live("a\xFF"));
}

TEST_F(SpmCorpus, MultiLineTextsMatchLive) {
  // spm_encode reads one text per line, so texts with newlines are checked live.
  const char* separators[] = {"\n", "\n\n", "\r\n", " \n", "\n\t", "\n\n\n\n"};
  size_t checked = 0;
  for (size_t i = 0; i + 1 < cases_->size(); i += 2) {
    const SpmCase& a = (*cases_)[i];
    const SpmCase& b = (*cases_)[i + 1];
    if (a.kind != "plain" || b.kind != "plain") continue;
    const std::string text = a.text + separators[i / 2 % 6] + b.text + (i % 3 == 0 ? "\n" : "");
    const std::vector<int32_t> expected = live(text);
    EXPECT_EQ(gguf_tokenizer_->encode(text, false, false), expected) << quoted(text);
    EXPECT_EQ(model_->encode(text, false, false), expected) << quoted(text);
    ++checked;
  }
  EXPECT_EQ(checked, 2700u);
}

}  // namespace
}  // namespace edgelm
