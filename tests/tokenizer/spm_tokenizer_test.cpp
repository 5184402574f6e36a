#include "tokenizer/spm_tokenizer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "support/expected_output.h"
#include "tokenizer/tokenizer.h"

namespace edgelm {
namespace {

namespace fs = std::filesystem;

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& name) {
  const auto file = GgufFile::open(fixture(name));
  return Tokenizer::from_gguf(*file);
}

// The expected files named tiny-gemma2-<type>__<prompt>.json (not the hot model).
std::vector<std::string> tiny_gemma2_expected_names() {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(fixture("expected"))) {
    const std::string stem = entry.path().stem().string();
    if (stem.rfind("tiny-gemma2-", 0) == 0 && stem.find("-hot-") == std::string::npos) {
      names.push_back(stem);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

// A small vocabulary for unit cases: SentencePiece-style pieces and scores.
Vocab toy_vocab() {
  Vocab vocab;
  vocab.tokens = {"<unk>", "<s>", "</s>", "<0x41>", "<0xC3>", "<0xA9>", "a", "b", "ab", "▁", "▁ab", "c", "<sep>",
                  "ba", "<user>"};
  vocab.scores = {0, 0, 0, 0, 0, 0, -1, -1, -0.5f, -2, -0.1f, -1, 0, -0.5f, 0};
  vocab.types = {TokenType::UNKNOWN, TokenType::CONTROL, TokenType::CONTROL, TokenType::BYTE, TokenType::BYTE,
                 TokenType::BYTE,    TokenType::NORMAL,  TokenType::NORMAL,  TokenType::NORMAL, TokenType::NORMAL,
                 TokenType::NORMAL,  TokenType::NORMAL,  TokenType::CONTROL, TokenType::NORMAL,
                 TokenType::USER_DEFINED};
  vocab.bos_id = 1;
  vocab.eos_id = 2;
  vocab.unk_id = 0;
  vocab.add_space_prefix = false;
  return vocab;
}

using Ids = std::vector<int32_t>;

TEST(SpmTokenizer, TinyGemma2PromptIds) {
  const auto tokenizer = load_tokenizer("tiny-gemma2-f32.gguf");
  const auto names = tiny_gemma2_expected_names();
  ASSERT_FALSE(names.empty());

  int checked = 0;
  for (const std::string& name : names) {
    const testing::ExpectedOutput expected = testing::load_expected(name);
    if (expected.raw_ids) {
      continue;
    }
    EXPECT_EQ(tokenizer->encode(expected.prompt, true, true), expected.prompt_ids) << name;
    ++checked;
  }
  EXPECT_GE(checked, 35);
}

TEST(SpmTokenizer, TinyGemma2GreedyText) {
  const auto tokenizer = load_tokenizer("tiny-gemma2-f32.gguf");
  for (const std::string& name : tiny_gemma2_expected_names()) {
    const testing::ExpectedOutput expected = testing::load_expected(name);
    TokenTextStream stream(*tokenizer);
    std::string text;
    for (int32_t id : expected.greedy) {
      if (tokenizer->is_end_of_generation(id)) {
        break;
      }
      text += stream.push(id);
    }
    text += stream.finish();
    EXPECT_EQ(text, expected.greedy_text) << name;
  }
}

// llama.cpp's tokenizer test set: inputs separated by a line
// "__ggml_vocab_test__" (each input followed by "\n" and that line), and one
// line of expected ids per input, without BOS.
TEST(SpmTokenizer, LlamaVocabTestSet) {
  const auto tokenizer = load_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  const std::string inputs = read_text(fixture("vocab/ggml-vocab-llama-spm.gguf.inp"));
  const std::string outputs = read_text(fixture("vocab/ggml-vocab-llama-spm.gguf.out"));

  const std::string separator = "\n__ggml_vocab_test__\n";
  std::vector<std::string> texts;
  for (size_t begin = 0; begin < inputs.size();) {
    const size_t end = inputs.find(separator, begin);
    ASSERT_NE(end, std::string::npos) << "input file must end with the separator";
    texts.push_back(inputs.substr(begin, end - begin));
    begin = end + separator.size();
  }

  std::vector<Ids> expected;
  std::istringstream lines(outputs);
  for (std::string line; std::getline(lines, line);) {
    Ids ids;
    std::istringstream fields(line);
    for (int32_t id; fields >> id;) {
      ids.push_back(id);
    }
    expected.push_back(ids);
  }

  ASSERT_EQ(texts.size(), expected.size());
  ASSERT_EQ(texts.size(), 46u);
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(tokenizer->encode(texts[i], false, false), expected[i]) << "input " << i << ": \"" << texts[i] << "\"";
  }
}

TEST(SpmTokenizer, LlamaSpacePrefixAfterSpecial) {
  const auto tokenizer = load_tokenizer("vocab/ggml-vocab-llama-spm.gguf");
  const Ids hello = tokenizer->encode("Hello", false, false);
  ASSERT_FALSE(hello.empty());
  EXPECT_EQ(tokenizer->piece(hello.front()), "▁Hello");

  // After a special token the raw text gets the space prefix again, as in llama.cpp.
  const Ids ids = tokenizer->encode("Hello</s>Hello", false, true);
  Ids expected = hello;
  expected.push_back(2);
  expected.insert(expected.end(), hello.begin(), hello.end());
  EXPECT_EQ(ids, expected);
}

TEST(SpmTokenizer, BosAddedOnce) {
  const auto tokenizer = load_tokenizer("tiny-gemma2-f32.gguf");
  ASSERT_EQ(tokenizer->bos_id(), 2);

  const Ids plain = tokenizer->encode("Hello", true, true);
  ASSERT_FALSE(plain.empty());
  EXPECT_EQ(plain.front(), 2);
  EXPECT_EQ(tokenizer->encode("<bos>Hello", true, true), plain);
  EXPECT_EQ(tokenizer->encode("", true, true), Ids{2});
  EXPECT_TRUE(tokenizer->encode("", false, true).empty());

  // Without parse_special "<bos>" is text, so BOS is still added.
  const Ids literal = tokenizer->encode("<bos>Hello", true, false);
  ASSERT_GE(literal.size(), 2u);
  EXPECT_EQ(literal[0], 2);
  EXPECT_NE(literal[1], 2);
}

TEST(SpmTokenizer, SpecialTokensNeedParseSpecial) {
  const auto tokenizer = load_tokenizer("tiny-gemma2-f32.gguf");
  EXPECT_EQ(tokenizer->encode("<start_of_turn>", false, true), Ids{4});
  const Ids literal = tokenizer->encode("<start_of_turn>", false, false);
  EXPECT_GT(literal.size(), 1u);
  EXPECT_EQ(std::find(literal.begin(), literal.end(), 4), literal.end());
}

TEST(SpmTokenizer, EndOfGeneration) {
  const auto tokenizer = load_tokenizer("tiny-gemma2-f32.gguf");
  EXPECT_TRUE(tokenizer->is_end_of_generation(1));   // <eos>
  EXPECT_TRUE(tokenizer->is_end_of_generation(5));   // <end_of_turn>
  EXPECT_FALSE(tokenizer->is_end_of_generation(2));  // <bos>
  EXPECT_FALSE(tokenizer->is_end_of_generation(4));  // <start_of_turn>
  EXPECT_FALSE(tokenizer->is_end_of_generation(300));
}

TEST(SpmTokenizer, TokenBytes) {
  const auto tokenizer = load_tokenizer("tiny-gemma2-f32.gguf");
  EXPECT_EQ(tokenizer->token_bytes(8081), " ");           // "▁"
  EXPECT_EQ(tokenizer->token_bytes(16), "\t");            // <0x09>
  EXPECT_EQ(tokenizer->token_bytes(17), "\n");            // <0x0A>
  EXPECT_EQ(tokenizer->token_bytes(5), "");               // <end_of_turn>
  EXPECT_EQ(tokenizer->token_bytes(5, true), "<end_of_turn>");
  EXPECT_EQ(tokenizer->piece(8081), "▁");
  EXPECT_THROW(tokenizer->token_bytes(8192), Error);
  EXPECT_THROW(tokenizer->token_bytes(-1), Error);
}

TEST(SpmTokenizer, MergesByScore) {
  const SpmTokenizer tokenizer(toy_vocab());
  // "ab" (-0.5) and "ba" (-0.5) tie: the leftmost pair merges first.
  EXPECT_EQ(tokenizer.encode("aba", false, false), (Ids{8, 6}));
  EXPECT_EQ(tokenizer.encode("bab", false, false), (Ids{13, 7}));
  // "▁ab" outscores "ab" once "ab" exists.
  EXPECT_EQ(tokenizer.encode(" ab", false, false), (Ids{10}));
}

TEST(SpmTokenizer, ByteFallbackAndUnknown) {
  const SpmTokenizer tokenizer(toy_vocab());
  EXPECT_EQ(tokenizer.encode("é", false, false), (Ids{4, 5}));
  // "d" and "x" have no byte tokens: a run of unknown characters is one <unk>.
  EXPECT_EQ(tokenizer.encode("adxb", false, false), (Ids{6, 0, 7}));
  EXPECT_EQ(tokenizer.encode("dAd", false, false), (Ids{0, 3, 0}));
}

TEST(SpmTokenizer, UserDefinedAlwaysSplit) {
  const SpmTokenizer tokenizer(toy_vocab());
  EXPECT_EQ(tokenizer.encode("a<user>b", false, false), (Ids{6, 14, 7}));
  EXPECT_EQ(tokenizer.encode("a<sep>b", false, true), (Ids{6, 12, 7}));
  const Ids literal = tokenizer.encode("a<sep>b", false, false);
  EXPECT_EQ(std::find(literal.begin(), literal.end(), 12), literal.end());
}

TEST(SpmTokenizer, LongestSpecialFirst) {
  Vocab vocab = toy_vocab();
  vocab.tokens.push_back("<sep><s>");
  vocab.scores.push_back(0);
  vocab.types.push_back(TokenType::CONTROL);
  const SpmTokenizer tokenizer(vocab);
  EXPECT_EQ(tokenizer.encode("<sep><s><s>", false, true), (Ids{15, 1}));
}

TEST(SpmTokenizer, LongTextIsFast) {
  const auto tokenizer = load_tokenizer("tiny-gemma2-f32.gguf");
  std::string text;
  for (int i = 0; i < 10000; ++i) {
    text += "the quick brown fox jumps over the lazy dog ";
  }
  const Ids ids = tokenizer->encode(text, false, false);
  EXPECT_GT(ids.size(), 50000u);
  std::string decoded;
  for (int32_t id : ids) {
    decoded += tokenizer->token_bytes(id);
  }
  EXPECT_EQ(decoded, text);
}

TEST(SpmTokenizer, InvalidUtf8RoundTrips) {
  const auto tokenizer = load_tokenizer("tiny-gemma2-f32.gguf");
  const std::string text = "ok \xFF\xE3\x81 bad \xC0\x80 end\xE2";
  std::string decoded;
  for (int32_t id : tokenizer->encode(text, false, false)) {
    decoded += tokenizer->token_bytes(id);
  }
  EXPECT_EQ(decoded, text);
}

TEST(VocabErrors, ArrayLengthMismatch) {
  Vocab vocab = toy_vocab();
  vocab.scores.pop_back();
  try {
    SpmTokenizer tokenizer(vocab);
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("tokenizer.ggml.scores"), std::string::npos) << error.what();
  }
}

TEST(VocabErrors, BadTokenType) {
  Vocab vocab = toy_vocab();
  vocab.types[3] = static_cast<TokenType>(9);
  try {
    SpmTokenizer tokenizer(vocab);
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("tokenizer.ggml.token_type[3] = 9"), std::string::npos) << error.what();
  }
}

TEST(VocabErrors, BosOutOfRange) {
  Vocab vocab = toy_vocab();
  vocab.bos_id = 500;
  try {
    SpmTokenizer tokenizer(vocab);
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("tokenizer.ggml.bos_token_id = 500"), std::string::npos) << error.what();
  }
}

TEST(VocabErrors, MalformedByteToken) {
  Vocab vocab = toy_vocab();
  vocab.tokens[3] = "<0xZZ>";
  EXPECT_THROW(SpmTokenizer{vocab}, Error);
}

TEST(VocabErrors, EmptyVocabulary) {
  EXPECT_THROW(SpmTokenizer{Vocab{}}, Error);
}

}  // namespace
}  // namespace edgelm
