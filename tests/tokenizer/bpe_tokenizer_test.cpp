#include "tokenizer/bpe_tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/bpe_vocab_test_set.h"
#include "tokenizer/tokenizer.h"

namespace edgelm {
namespace {

using Ids = std::vector<int32_t>;

constexpr int32_t kBeginOfText = 128000;
constexpr int32_t kEndOfText = 128001;
constexpr int32_t kStartHeader = 128006;
constexpr int32_t kEndHeader = 128007;
constexpr int32_t kEndOfTurn = 128009;

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

// The Llama 3 tokenizer, loaded once: building its 280,147 merges takes a while.
const Tokenizer& llama3() {
  static const std::unique_ptr<Tokenizer> tokenizer = [] {
    const auto file = GgufFile::open(fixture("vocab/ggml-vocab-llama-bpe.gguf"));
    return Tokenizer::from_gguf(*file);
  }();
  return *tokenizer;
}

std::string decode(const Tokenizer& tokenizer, const Ids& ids) {
  std::string text;
  for (int32_t id : ids) {
    text += tokenizer.token_bytes(id);
  }
  return text;
}

// A byte-level vocabulary small enough to follow by hand.
Vocab toy_vocab(const std::string& pre, std::vector<std::string> merges) {
  Vocab vocab;
  vocab.model = "gpt2";
  vocab.pre = pre;
  vocab.tokens = {"a", "b", "c", "ab", "bc", "abc", "aa", "Ġ", "Ġa", "<s>", "<user>"};
  vocab.types = std::vector<TokenType>(vocab.tokens.size(), TokenType::NORMAL);
  vocab.types[9] = TokenType::CONTROL;
  vocab.types[10] = TokenType::USER_DEFINED;
  vocab.merges = std::move(merges);
  vocab.bos_id = 9;
  vocab.eos_id = 9;
  vocab.add_bos = false;
  vocab.add_space_prefix = false;
  return vocab;
}

TEST(BpeTokenizer, LlamaVocabTestSet) {
  const auto cases = testing::read_vocab_test_set(fixture("vocab/ggml-vocab-llama-bpe.gguf"));
  ASSERT_EQ(cases.size(), 46u);
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(llama3().encode(cases[i].text, false, false), cases[i].ids)
        << "input " << i << ": \"" << cases[i].text << "\"";
  }
}

TEST(BpeTokenizer, LlamaVocabTestSetRoundTrips) {
  for (const auto& test_case : testing::read_vocab_test_set(fixture("vocab/ggml-vocab-llama-bpe.gguf"))) {
    const Ids ids = llama3().encode(test_case.text, false, false);
    EXPECT_EQ(decode(llama3(), ids), test_case.text);

    TokenTextStream stream(llama3());
    std::string streamed;
    for (int32_t id : ids) {
      streamed += stream.push(id);
    }
    streamed += stream.finish();
    EXPECT_EQ(streamed, test_case.text);
  }
}

TEST(BpeTokenizer, LlamaBosAddedOnce) {
  EXPECT_EQ(llama3().bos_id(), kBeginOfText);
  EXPECT_EQ(llama3().eos_id(), kEndOfText);
  EXPECT_EQ(llama3().encode("Hello world", true, true), (Ids{kBeginOfText, 9906, 1917}));
  EXPECT_EQ(llama3().encode("<|begin_of_text|>Hello world", true, true), (Ids{kBeginOfText, 9906, 1917}));
  EXPECT_EQ(llama3().encode("", true, true), Ids{kBeginOfText});
  EXPECT_TRUE(llama3().encode("", false, true).empty());
}

TEST(BpeTokenizer, LlamaChatSpecialTokens) {
  const std::string prompt = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
  const Ids ids = llama3().encode(prompt, false, true);
  ASSERT_EQ(ids.size(), 6u);
  EXPECT_EQ(ids[0], kStartHeader);
  EXPECT_EQ(llama3().piece(ids[1]), "user");
  EXPECT_EQ(ids[2], kEndHeader);
  EXPECT_EQ(llama3().piece(ids[3]), "ĊĊ");
  EXPECT_EQ(llama3().piece(ids[4]), "Hi");
  EXPECT_EQ(ids[5], kEndOfTurn);

  // Without parse_special the markers are text.
  const Ids literal = llama3().encode(prompt, false, false);
  EXPECT_TRUE(std::all_of(literal.begin(), literal.end(), [](int32_t id) { return id < kBeginOfText; }));
  EXPECT_EQ(decode(llama3(), literal), prompt);
}

TEST(BpeTokenizer, LlamaEndOfGeneration) {
  EXPECT_TRUE(llama3().is_end_of_generation(kEndOfText));
  EXPECT_TRUE(llama3().is_end_of_generation(kEndOfTurn));
  EXPECT_FALSE(llama3().is_end_of_generation(kBeginOfText));
  EXPECT_FALSE(llama3().is_end_of_generation(kStartHeader));
  EXPECT_FALSE(llama3().is_end_of_generation(9906));

  const auto& vocab = dynamic_cast<const BpeTokenizer&>(llama3()).vocab();
  EXPECT_EQ(vocab.eot_id, kEndOfTurn);
  EXPECT_EQ(vocab.eom_id, -1);  // Llama 3.0 has no <|eom_id|>
  EXPECT_TRUE(vocab.add_bos);
}

TEST(BpeTokenizer, LlamaTokenBytes) {
  EXPECT_EQ(llama3().token_bytes(220), " ");    // "Ġ"
  EXPECT_EQ(llama3().token_bytes(198), "\n");   // "Ċ"
  EXPECT_EQ(llama3().token_bytes(1917), " world");
  EXPECT_EQ(llama3().token_bytes(kEndOfTurn), "");
  EXPECT_EQ(llama3().token_bytes(kEndOfTurn, true), "<|eot_id|>");
  EXPECT_EQ(llama3().piece(1917), "Ġworld");
  EXPECT_THROW(llama3().token_bytes(128256), Error);
  EXPECT_THROW(llama3().token_bytes(-1), Error);
}

// Malformed UTF-8 is read as llama.cpp reads it: each stray byte becomes
// U+FFFD, and overlong forms become the character they encode.
TEST(BpeTokenizer, LlamaMalformedUtf8) {
  const Ids replacement = llama3().encode("a\xEF\xBF\xBD" "b", false, false);
  EXPECT_EQ(llama3().encode("a\xFF" "b", false, false), replacement);
  EXPECT_EQ(llama3().encode("a\x80" "b", false, false), replacement);

  // A truncated character is one U+FFFD per byte.
  EXPECT_EQ(llama3().encode("a\xE3\x81 b", false, false),
            llama3().encode("a\xEF\xBF\xBD\xEF\xBF\xBD b", false, false));

  // C0 80 is an overlong NUL; llama.cpp decodes it as U+0000.
  EXPECT_EQ(llama3().encode("x\xC0\x80y", false, false), llama3().encode(std::string("x\0y", 3), false, false));

  // A surrogate keeps its bytes, which llama.cpp also passes on to BPE.
  const Ids surrogate = llama3().encode("a\xED\xA0\x80" "b", false, false);
  EXPECT_NE(surrogate, replacement);
  EXPECT_EQ(decode(llama3(), surrogate), "a\xED\xA0\x80" "b");
}

TEST(BpeTokenizer, LongTextRoundTrips) {
  std::string text;
  for (int i = 0; i < 5000; ++i) {
    text += "The quick brown fox jumps over the lazy dog; it's 12345 ÿ€ 🦙 tabs\t\tand\r\nnewlines.\n\n ";
  }
  const Ids ids = llama3().encode(text, false, false);
  EXPECT_GT(ids.size(), 100000u);
  EXPECT_EQ(decode(llama3(), ids), text);
}

TEST(BpeTokenizer, MergesApplyByRank) {
  EXPECT_EQ(BpeTokenizer(toy_vocab("gpt-2", {"b c", "a b"})).encode("abc", false, false), (Ids{0, 4}));
  EXPECT_EQ(BpeTokenizer(toy_vocab("gpt-2", {"a b", "b c"})).encode("abc", false, false), (Ids{3, 2}));
  EXPECT_EQ(BpeTokenizer(toy_vocab("gpt-2", {"a b", "ab c"})).encode("abc", false, false), (Ids{5}));
}

TEST(BpeTokenizer, EqualRanksMergeLeftmostFirst) {
  EXPECT_EQ(BpeTokenizer(toy_vocab("gpt-2", {"a a"})).encode("aaa", false, false), (Ids{6, 0}));
}

TEST(BpeTokenizer, WholeWordTokenSkipsMerges) {
  // "abc" is a token that no merge reaches; llama-bpe takes whole-word tokens as they are.
  EXPECT_EQ(BpeTokenizer(toy_vocab("llama-bpe", {"b c"})).encode("abc", false, false), (Ids{5}));
  EXPECT_EQ(BpeTokenizer(toy_vocab("gpt-2", {"b c"})).encode("abc", false, false), (Ids{0, 4}));
}

TEST(BpeTokenizer, MergeToTextThatIsNoToken) {
  // "aab" is no token: llama.cpp falls back to the one-byte tokens of its text.
  const BpeTokenizer tokenizer(toy_vocab("gpt-2", {"a a", "aa b"}));
  EXPECT_EQ(tokenizer.encode("aab", false, false), (Ids{0, 0, 1}));
  // A byte without any token is dropped, as in llama.cpp.
  EXPECT_EQ(tokenizer.encode("ad", false, false), (Ids{0}));
}

TEST(BpeTokenizer, SpaceIsByteLevelCharacter) {
  const BpeTokenizer tokenizer(toy_vocab("gpt-2", {"Ġ a"}));
  EXPECT_EQ(tokenizer.encode("b a", false, false), (Ids{1, 8}));
  EXPECT_EQ(tokenizer.token_bytes(8), " a");
  EXPECT_EQ(tokenizer.token_bytes(7), " ");
}

TEST(BpeTokenizer, UserDefinedAlwaysSplit) {
  const BpeTokenizer tokenizer(toy_vocab("gpt-2", {}));
  EXPECT_EQ(tokenizer.encode("a<user>b", false, false), (Ids{0, 10, 1}));
  EXPECT_EQ(tokenizer.token_bytes(10), "<user>");
  EXPECT_EQ(tokenizer.encode("a<s>", false, true), (Ids{0, 9}));
}

TEST(BpeTokenizer, UnknownPreTokenizer) {
  try {
    BpeTokenizer tokenizer(toy_vocab("qwen9", {}));
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("tokenizer.ggml.pre = \"qwen9\""), std::string::npos) << message;
    EXPECT_NE(message.find("\"llama-bpe\""), std::string::npos) << message;
  }
}

TEST(BpeTokenizer, MalformedMerge) {
  try {
    BpeTokenizer tokenizer(toy_vocab("gpt-2", {"a b", "abc"}));
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("tokenizer.ggml.merges[1] = \"abc\""), std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace edgelm
