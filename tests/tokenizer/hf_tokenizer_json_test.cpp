// The tokenizer.json reader on small hand-written files: each BPE option,
// added-token rule, text step and post-processor, and the errors for what
// edgelm does not read.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tokenizer/hf_tokenizer.h"

namespace edgelm {
namespace {

using nlohmann::json;
using Ids = std::vector<int32_t>;

constexpr const char* kSource = "test-tokenizer.json";

// Ids: 0 <unk>, 1 <s>, 2 </s>, 3 a, 4 b, 5 c, 6 ab, 7 bc, 8 abc, 9 ▁, 10 ▁a,
// 11 <0x41>, 12 <0xC3>, 13 <0xA9>. Merges: "a b", "b c", "▁ a".
json base_tokenizer() {
  return json::parse(R"({
    "version": "1.0",
    "added_tokens": [
      {"id": 0, "content": "<unk>", "special": true, "normalized": false},
      {"id": 1, "content": "<s>", "special": true, "normalized": false},
      {"id": 2, "content": "</s>", "special": true, "normalized": false}
    ],
    "normalizer": null,
    "pre_tokenizer": null,
    "post_processor": null,
    "decoder": null,
    "model": {
      "type": "BPE", "dropout": null, "unk_token": "<unk>", "continuing_subword_prefix": null,
      "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
      "vocab": {"<unk>": 0, "<s>": 1, "</s>": 2, "a": 3, "b": 4, "c": 5, "ab": 6, "bc": 7, "abc": 8,
                "\u2581": 9, "\u2581a": 10, "<0x41>": 11, "<0xC3>": 12, "<0xA9>": 13},
      "merges": [["a", "b"], ["b", "c"], ["\u2581", "a"]]
    }
  })");
}

std::unique_ptr<HfTokenizer> build(const json& tokenizer) { return HfTokenizer::from_json(tokenizer, kSource); }

Ids encode(const json& tokenizer, const std::string& text, bool add_bos = false, bool parse_special = true) {
  return build(tokenizer)->encode(text, add_bos, parse_special);
}

// The message of the Error that building `tokenizer` throws, or "" if none.
std::string build_error(const json& tokenizer) {
  try {
    build(tokenizer);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(HfBpe, MergesAsStringsOrPairs) {
  json pairs = base_tokenizer();
  json strings = base_tokenizer();
  strings["model"]["merges"] = {"a b", "b c", "\u2581 a"};
  EXPECT_EQ(encode(pairs, "abc"), (Ids{6, 5}));
  EXPECT_EQ(encode(strings, "abc"), (Ids{6, 5}));
  EXPECT_EQ(encode(strings, "cab"), (Ids{5, 6}));
}

TEST(HfBpe, LowerRankMergesFirst) {
  json tokenizer = base_tokenizer();
  tokenizer["model"]["merges"] = json::parse(R"([["b", "c"], ["a", "b"]])");
  EXPECT_EQ(encode(tokenizer, "abc"), (Ids{3, 7}));

  tokenizer["model"]["merges"] = json::parse(R"([["a", "b"], ["ab", "c"]])");
  EXPECT_EQ(encode(tokenizer, "abcab"), (Ids{8, 6}));
}

TEST(HfBpe, ByteFallback) {
  json tokenizer = base_tokenizer();
  tokenizer["model"]["byte_fallback"] = true;
  EXPECT_EQ(encode(tokenizer, "A"), (Ids{11}));
  EXPECT_EQ(encode(tokenizer, "a\xC3\xA9"), (Ids{3, 12, 13}));  // "aé"
  // "€" has byte tokens missing, so it becomes the unknown token.
  EXPECT_EQ(encode(tokenizer, "\xE2\x82\xAC"), (Ids{0}));
  // A malformed byte without a byte token is unknown too.
  EXPECT_EQ(encode(tokenizer, "\xC3"), (Ids{12}));
  EXPECT_EQ(encode(tokenizer, "\xFF"), (Ids{0}));
}

TEST(HfBpe, FuseUnk) {
  json tokenizer = base_tokenizer();
  EXPECT_EQ(encode(tokenizer, "QRa"), (Ids{0, 0, 3}));
  tokenizer["model"]["fuse_unk"] = true;
  EXPECT_EQ(encode(tokenizer, "QRaS"), (Ids{0, 3, 0}));
}

TEST(HfBpe, IgnoreMerges) {
  json tokenizer = base_tokenizer();
  tokenizer["model"]["merges"] = json::parse(R"([["a", "b"]])");
  EXPECT_EQ(encode(tokenizer, "abc"), (Ids{6, 5}));
  tokenizer["model"]["ignore_merges"] = true;
  EXPECT_EQ(encode(tokenizer, "abc"), (Ids{8}));
  EXPECT_EQ(encode(tokenizer, "abca"), (Ids{6, 5, 3}));
}

TEST(HfBpe, NoUnknownTokenIsAnError) {
  json tokenizer = base_tokenizer();
  tokenizer["model"]["unk_token"] = nullptr;
  const auto built = build(tokenizer);
  EXPECT_EQ(built->encode("ab", false, true), (Ids{6}));
  try {
    built->encode("aQ", false, true);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no unknown token"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("51"), std::string::npos) << e.what();  // the byte of "Q"
  }
}

TEST(HfAddedTokens, LongestMatchFirst) {
  json tokenizer = base_tokenizer();
  tokenizer["added_tokens"].push_back({{"id", 14}, {"content", "aa"}});
  tokenizer["added_tokens"].push_back({{"id", 15}, {"content", "aaa"}});
  EXPECT_EQ(encode(tokenizer, "aaaa"), (Ids{15, 3}));
  EXPECT_EQ(encode(tokenizer, "baab"), (Ids{4, 14, 4}));
  // Added tokens are split off before BPE runs, so "ab" does not merge across one.
  EXPECT_EQ(encode(tokenizer, "aaab"), (Ids{15, 4}));
  EXPECT_EQ(build(tokenizer)->n_vocab(), 16u);
}

TEST(HfAddedTokens, SpecialOnlyWithParseSpecial) {
  json tokenizer = base_tokenizer();
  EXPECT_EQ(encode(tokenizer, "a<s>b", false, true), (Ids{3, 1, 4}));
  EXPECT_EQ(encode(tokenizer, "a<s>b", false, false), (Ids{3, 0, 0, 0, 4}));
}

TEST(HfAddedTokens, LstripAndRstripTakeWhitespace) {
  json tokenizer = base_tokenizer();
  tokenizer["added_tokens"].push_back({{"id", 14}, {"content", "<m>"}, {"lstrip", true}, {"rstrip", true}});
  // Spaces are not in this vocabulary, so any left over would be unknown.
  EXPECT_EQ(encode(tokenizer, "a \t<m>\xC2\xA0 b"), (Ids{3, 14, 4}));
  EXPECT_EQ(encode(tokenizer, " <m> "), (Ids{14}));
}

TEST(HfAddedTokens, NormalizedTokensMatchNormalizedText) {
  json tokenizer = base_tokenizer();
  tokenizer["normalizer"] = {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}};
  tokenizer["added_tokens"].push_back({{"id", 14}, {"content", " c"}, {"normalized", true}});
  // " c" becomes "▁c", which is what the normalized text holds.
  EXPECT_EQ(encode(tokenizer, "b c"), (Ids{4, 14}));
  EXPECT_EQ(encode(tokenizer, "b a"), (Ids{4, 10}));
}

TEST(HfNormalizer, SequenceOfReplaceAndPrepend) {
  json tokenizer = base_tokenizer();
  tokenizer["normalizer"] = json::parse(R"({"type": "Sequence", "normalizers": [
      {"type": "Prepend", "prepend": "\u2581"},
      {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]})");
  EXPECT_EQ(encode(tokenizer, "a a"), (Ids{10, 10}));
  EXPECT_EQ(encode(tokenizer, ""), (Ids{}));
}

TEST(HfPreTokenizer, MetaspacePrependSchemes) {
  json tokenizer = base_tokenizer();
  tokenizer["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", "always"},
                                {"split", true}};
  EXPECT_EQ(encode(tokenizer, "a a"), (Ids{10, 10}));
  EXPECT_EQ(encode(tokenizer, "<s>a"), (Ids{1, 10}));

  tokenizer["pre_tokenizer"]["prepend_scheme"] = "first";
  EXPECT_EQ(encode(tokenizer, "a a"), (Ids{10, 10}));
  EXPECT_EQ(encode(tokenizer, "<s>a"), (Ids{1, 3}));

  tokenizer["pre_tokenizer"]["prepend_scheme"] = "never";
  EXPECT_EQ(encode(tokenizer, "a a"), (Ids{3, 10}));
}

TEST(HfPreTokenizer, SplitBehaviors) {
  const std::vector<std::pair<std::string, Ids>> cases = {
      {"Removed", {3, 5, 3}},
      {"Isolated", {3, 4, 5, 3, 4}},
      {"MergedWithPrevious", {6, 5, 6}},
      {"MergedWithNext", {3, 7, 3, 4}},
      {"Contiguous", {3, 4, 5, 3, 4}},
  };
  for (const auto& [behavior, expected] : cases) {
    json tokenizer = base_tokenizer();
    tokenizer["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", "b"}}}, {"behavior", behavior},
                                  {"invert", false}};
    EXPECT_EQ(encode(tokenizer, "abcab"), expected) << behavior;
  }

  json contiguous = base_tokenizer();
  contiguous["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", "b"}}}, {"behavior", "Contiguous"}};
  // "bb" is one word, whose two "b" do not merge.
  EXPECT_EQ(encode(contiguous, "abbc"), (Ids{3, 4, 4, 5}));
}

TEST(HfPostProcessor, TemplateAddsTokensAroundText) {
  json tokenizer = base_tokenizer();
  tokenizer["post_processor"] = json::parse(R"({
    "type": "TemplateProcessing",
    "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
               {"SpecialToken": {"id": "</s>", "type_id": 0}}],
    "pair": [],
    "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                       "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}}})");
  const auto built = build(tokenizer);
  EXPECT_EQ(built->encode("a", true, true), (Ids{1, 3, 2}));
  EXPECT_EQ(built->encode("a", false, true), (Ids{3}));
  EXPECT_EQ(built->encode("<s>a", true, true), (Ids{1, 3, 2}));
  EXPECT_EQ(built->bos_id(), 1);
  EXPECT_EQ(built->eos_id(), 2);
  EXPECT_TRUE(built->is_end_of_generation(2));
}

TEST(HfPostProcessor, NoneAddsNothing) {
  const auto built = build(base_tokenizer());
  EXPECT_EQ(built->encode("a", true, true), (Ids{3}));
  // The BOS id still comes from the token's text.
  EXPECT_EQ(built->bos_id(), 1);
}

TEST(HfDecoder, TokenBytes) {
  json tokenizer = base_tokenizer();
  tokenizer["decoder"] = json::parse(R"({"type": "Sequence", "decoders": [
      {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "},
      {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]})");
  const auto built = build(tokenizer);
  EXPECT_EQ(built->token_bytes(10), " a");
  EXPECT_EQ(built->token_bytes(9), " ");
  EXPECT_EQ(built->token_bytes(11), "A");
  EXPECT_EQ(built->token_bytes(12), "\xC3");
  EXPECT_EQ(built->token_bytes(1), "");
  EXPECT_EQ(built->token_bytes(1, true), "<s>");
  EXPECT_EQ(built->piece(10), "\xE2\x96\x81" "a");
  EXPECT_THROW(built->token_bytes(14), Error);
}

TEST(HfErrors, NameTheField) {
  using Edit = std::function<void(json&)>;
  const std::vector<std::pair<Edit, std::string>> cases = {
      {[](json& t) { t["model"]["type"] = "Unigram"; }, "model.type: model type \"Unigram\" is not supported"},
      {[](json& t) { t.erase("model"); }, "model: field is missing"},
      {[](json& t) { t["model"]["vocab"] = json::array(); }, "model.vocab: expected an object"},
      {[](json& t) { t["model"]["vocab"]["q"] = -1; }, "model.vocab.q: token id -1 is out of range"},
      {[](json& t) { t["model"]["vocab"]["q"] = 100000; }, "token id 100000 is out of range"},
      {[](json& t) { t["model"]["vocab"]["q"] = 3; }, "token id 3 is also the id of"},
      {[](json& t) { t["model"]["merges"].push_back({"a", "q"}); }, "model.merges[3]: piece \"q\" is not in model.vocab"},
      {[](json& t) { t["model"]["merges"] = {"a b c"}; }, "expected two pieces separated by one space"},
      {[](json& t) { t["model"]["dropout"] = 0.1; }, "BPE dropout"},
      {[](json& t) { t["model"]["continuing_subword_prefix"] = "##"; }, "continuing_subword_prefix"},
      {[](json& t) { t["pre_tokenizer"] = {{"type", "ByteLevel"}}; },
       "pre_tokenizer.type: pre_tokenizer \"ByteLevel\" is not supported"},
      {[](json& t) { t["normalizer"] = {{"type", "NFC"}}; }, "normalizer \"NFC\" is not supported"},
      {[](json& t) {
         t["normalizer"] = {{"type", "Replace"}, {"pattern", {{"Regex", " +"}}}, {"content", " "}};
       },
       "normalizer.pattern: regular expression patterns are not supported"},
      {[](json& t) { t["decoder"] = {{"type", "ByteLevel"}}; }, "decoder \"ByteLevel\" is not supported"},
      {[](json& t) { t["post_processor"] = {{"type", "Unknown"}}; }, "post_processor \"Unknown\" is not supported"},
      {[](json& t) {
         t["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", "b"}}}, {"behavior", "Removed"},
                               {"invert", true}};
       },
       "inverted Split patterns are not supported"},
      {[](json& t) { t["added_tokens"].push_back({{"id", 1000000}, {"content", "x"}}); }, "added_tokens: ids reach"},
      {[](json& t) { t["added_tokens"].push_back({{"id", 5}, {"content", ""}}); }, "content must not be empty"},
      {[](json& t) { t["added_tokens"].push_back({{"id", 5}, {"content", "c"}, {"single_word", true}}); },
       "added_tokens[3].single_word"},
      {[](json& t) { t["added_tokens"][0]["id"] = "zero"; }, "added_tokens[0].id: expected a token id"},
      {[](json& t) { t = json::array(); }, "expected a JSON object"},
  };
  for (const auto& [edit, expected] : cases) {
    json tokenizer = base_tokenizer();
    edit(tokenizer);
    const std::string message = build_error(tokenizer);
    EXPECT_NE(message.find(expected), std::string::npos) << "expected \"" << expected << "\" in \"" << message << "\"";
    EXPECT_EQ(message.rfind(kSource, 0), 0u) << message;
  }
}

TEST(HfErrors, DeepSequenceIsRejected) {
  json normalizer = {{"type", "Prepend"}, {"prepend", "x"}};
  for (int i = 0; i < 20; ++i) normalizer = {{"type", "Sequence"}, {"normalizers", {normalizer}}};
  json tokenizer = base_tokenizer();
  tokenizer["normalizer"] = normalizer;
  EXPECT_NE(build_error(tokenizer).find("nests more than"), std::string::npos);
}

TEST(HfFile, MalformedJson) {
  const std::string path = ::testing::TempDir() + "hf_malformed_tokenizer.json";
  std::ofstream(path) << "{\"model\": {\"type\": \"BPE\",\n \"vocab\": {\"a\": 0,}}}";
  try {
    HfTokenizer::from_file(path);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind(path + ": invalid JSON: ", 0), 0u) << message;
    EXPECT_NE(message.find("line 2"), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  std::remove(path.c_str());
}

TEST(HfFile, MissingFile) {
  try {
    HfTokenizer::from_file("/nonexistent/tokenizer.json");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot open '/nonexistent/tokenizer.json'"), std::string::npos) << e.what();
  }
}

TEST(HfFile, ReadsWrittenFile) {
  const std::string path = ::testing::TempDir() + "hf_small_tokenizer.json";
  std::ofstream(path) << base_tokenizer().dump(2);
  EXPECT_EQ(HfTokenizer::from_file(path)->encode("abc", false, true), (Ids{6, 5}));
  std::remove(path.c_str());
}

}  // namespace
}  // namespace edgelm
