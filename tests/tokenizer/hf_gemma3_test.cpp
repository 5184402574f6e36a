// The tokenizer.json reader on the real Gemma 3 tokenizer, against the ids
// transformers.js gives (the fixture's 20 strings and 300 generated ones in
// tests/data/gemma3_tokenizer_cases.json, made by tests/tools/make_gemma3_cases.js).

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tokenizer/hf_tokenizer.h"

namespace edgelm {
namespace {

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

// The 33 MB file takes about a second to load, so each test process loads it once.
struct Gemma3 {
  std::unique_ptr<HfTokenizer> tokenizer;
  double load_seconds = 0;
};

const Gemma3& gemma3() {
  static const Gemma3 loaded = [] {
    Gemma3 result;
    const auto start = std::chrono::steady_clock::now();
    result.tokenizer = HfTokenizer::from_file(fixture("vocab/gemma3-tokenizer.json"));
    result.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  }();
  return loaded;
}

std::string quoted(const std::string& text) { return nlohmann::json(text).dump(); }

TEST(HfGemma3, FixtureExpectedIds) {
  const nlohmann::json expected = read_json(fixture("vocab/gemma3-tokenizer.expected.json"));
  const auto& strings = expected.at("strings");
  const auto& ids = expected.at("ids");
  ASSERT_EQ(strings.size(), 20u);

  size_t matches = 0;
  for (size_t i = 0; i < strings.size(); ++i) {
    const std::string text = strings[i].get<std::string>();
    const std::vector<int32_t> actual = gemma3().tokenizer->encode(text, /*add_bos=*/false, /*parse_special=*/true);
    EXPECT_EQ(actual, ids[i].get<std::vector<int32_t>>()) << quoted(text);
    matches += actual == ids[i].get<std::vector<int32_t>>();
  }
  EXPECT_EQ(matches, strings.size());
}

TEST(HfGemma3, GeneratedCases) {
  const nlohmann::json data = read_json(std::string(EDGELM_SOURCE_DIR) + "/tests/data/gemma3_tokenizer_cases.json");
  const HfTokenizer& tokenizer = *gemma3().tokenizer;

  size_t matches = 0;
  for (const auto& c : data.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    const std::vector<int32_t> expected = c.at("ids").get<std::vector<int32_t>>();
    const std::vector<int32_t> actual = tokenizer.encode(text, false, true);
    EXPECT_EQ(actual, expected) << quoted(text);
    matches += actual == expected;
  }
  EXPECT_EQ(matches, 300u);

  size_t bos_matches = 0;
  for (const auto& c : data.at("with_bos")) {
    const std::string text = c.at("text").get<std::string>();
    std::vector<int32_t> expected = c.at("ids").get<std::vector<int32_t>>();
    // transformers.js adds a BOS before a text that begins with "<bos>";
    // edgelm keeps one, as llama.cpp does.
    if (text.rfind("<bos>", 0) == 0) {
      ASSERT_EQ(expected.size() >= 2 && expected[0] == 2 && expected[1] == 2, true) << quoted(text);
      expected.erase(expected.begin());
    }
    const std::vector<int32_t> actual = tokenizer.encode(text, true, true);
    EXPECT_EQ(actual, expected) << quoted(text);
    bos_matches += actual == expected;
  }
  EXPECT_EQ(bos_matches, 40u);
}

TEST(HfGemma3, DecodesBackToText) {
  const nlohmann::json data = read_json(std::string(EDGELM_SOURCE_DIR) + "/tests/data/gemma3_tokenizer_cases.json");
  const HfTokenizer& tokenizer = *gemma3().tokenizer;

  size_t checked = 0;
  for (const auto& c : data.at("cases")) {
    const std::string text = c.at("text").get<std::string>();
    // A literal "▁" decodes as a space, so those texts do not come back.
    if (text.find("\xE2\x96\x81") != std::string::npos) continue;
    std::string decoded;
    for (int32_t id : c.at("ids").get<std::vector<int32_t>>()) decoded += tokenizer.token_bytes(id, /*show_special=*/true);
    EXPECT_EQ(decoded, text);
    ++checked;
  }
  EXPECT_GT(checked, 250u);
}

TEST(HfGemma3, VocabularyAndLoadTime) {
  const Gemma3& loaded = gemma3();
  const HfTokenizer& tokenizer = *loaded.tokenizer;
  // 262,144 model pieces and one added token after them (<image_soft_token>).
  EXPECT_EQ(tokenizer.n_vocab(), 262145u);
  EXPECT_EQ(tokenizer.bos_id(), 2);
  EXPECT_EQ(tokenizer.eos_id(), 1);
  EXPECT_TRUE(tokenizer.is_end_of_generation(1));
  EXPECT_TRUE(tokenizer.is_end_of_generation(106));
  EXPECT_FALSE(tokenizer.is_end_of_generation(105));
  EXPECT_EQ(tokenizer.piece(106), "<end_of_turn>");
  EXPECT_EQ(tokenizer.piece(262144), "<image_soft_token>");
  EXPECT_EQ(tokenizer.piece(138), "\xE2\x96\x81\xE2\x96\x81");

  EXPECT_EQ(tokenizer.token_bytes(1902), " world");
  EXPECT_EQ(tokenizer.token_bytes(138), "  ");
  EXPECT_EQ(tokenizer.token_bytes(108), "\n\n");
  EXPECT_EQ(tokenizer.token_bytes(106), "");
  EXPECT_EQ(tokenizer.token_bytes(106, true), "<end_of_turn>");

  RecordProperty("load_seconds", std::to_string(loaded.load_seconds));
  std::printf("gemma3-tokenizer.json loaded in %.2f s\n", loaded.load_seconds);
  // A loose bound: about 1 s on a 2-core x86-64 machine in a Release build.
  EXPECT_LT(loaded.load_seconds, 15.0);
}

TEST(HfGemma3, SpecialTokensNeedParseSpecial) {
  const HfTokenizer& tokenizer = *gemma3().tokenizer;
  EXPECT_EQ(tokenizer.encode("<end_of_turn>", false, true), (std::vector<int32_t>{106}));

  // Without parse_special, a special token's text is plain text...
  const std::vector<int32_t> as_text = tokenizer.encode("<end_of_turn>", false, false);
  EXPECT_EQ(std::count(as_text.begin(), as_text.end(), 106), 0);
  std::string decoded;
  for (int32_t id : as_text) decoded += tokenizer.token_bytes(id);
  EXPECT_EQ(decoded, "<end_of_turn>");

  // ...while non-special added tokens, such as the newline runs, still match.
  EXPECT_EQ(tokenizer.encode("\n\n\n\n", false, false), (std::vector<int32_t>{110}));
  // And add_bos does not add a second BOS after a parsed one.
  EXPECT_EQ(tokenizer.encode("<bos>Hi", true, true), tokenizer.encode("<bos>Hi", false, true));
}

}  // namespace
}  // namespace edgelm
