#include "tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"

namespace edgelm {
namespace {

using Words = std::vector<std::string>;

Words split(std::string_view pre, std::string_view text) {
  const PreTokenizer pre_tokenizer(find_pre_tokenizer(pre));
  std::vector<std::string_view> views;
  pre_tokenizer.split(text, views);
  return Words(views.begin(), views.end());
}

TEST(BpePreTokenizer, Llama3Words) {
  EXPECT_EQ(split("llama-bpe", "Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(split("llama-bpe", "Hello, world!"), (Words{"Hello", ",", " world", "!"}));
  EXPECT_EQ(split("llama-bpe", "  Hello"), (Words{" ", " Hello"}));
  // "½" is \p{N}, so the space before it is a word of its own.
  EXPECT_EQ(split("llama-bpe", "ied 4 ½ months"), (Words{"ied", " ", "4", " ", "½", " months"}));
  EXPECT_TRUE(split("llama-bpe", "").empty());
}

TEST(BpePreTokenizer, TekkenWords) {
  EXPECT_EQ(split("tekken", "Hello world"), (Words{"Hello", " world"}));
  EXPECT_EQ(split("tekken", "HelloWorld"), (Words{"Hello", "World"}));
  EXPECT_EQ(split("tekken", "ABCdef"), (Words{"ABCdef"}));
  EXPECT_EQ(split("tekken", "I'm"), (Words{"I", "'m"}));
  EXPECT_EQ(split("tekken", "1234"), (Words{"1", "2", "3", "4"}));
  EXPECT_EQ(split("tekken", "a\n\nb"), (Words{"a", "\n\n", "b"}));
  EXPECT_EQ(split("tekken", "x..//\ny"), (Words{"x", "..//\n", "y"}));
}

TEST(BpePreTokenizer, Llama3Contractions) {
  EXPECT_EQ(split("llama-bpe", "I've"), (Words{"I", "'ve"}));
  EXPECT_EQ(split("llama-bpe", "HE'S WE'LL"), (Words{"HE", "'S", " WE", "'LL"}));
  // Only ASCII letters count: with PCRE2's caseless matching U+017F ("ſ")
  // would pass for "s" and split off "'ſ".
  EXPECT_EQ(split("llama-bpe", "x'ſt"), (Words{"x", "'ſt"}));
}

TEST(BpePreTokenizer, Llama3Numbers) {
  EXPECT_EQ(split("llama-bpe", "1234567"), (Words{"123", "456", "7"}));
  EXPECT_EQ(split("llama-bpe", "٣٤٥٦"), (Words{"٣٤٥", "٦"}));  // Arabic-Indic digits are \p{N}
  EXPECT_EQ(split("llama-bpe", "x12"), (Words{"x", "12"}));
}

TEST(BpePreTokenizer, Llama3Whitespace) {
  EXPECT_EQ(split("llama-bpe", "a\n\n  b"), (Words{"a", "\n\n", " ", " b"}));
  EXPECT_EQ(split("llama-bpe", "!!!\n\nx"), (Words{"!!!\n\n", "x"}));
  EXPECT_EQ(split("llama-bpe", "a \t "), (Words{"a", " \t "}));
  EXPECT_EQ(split("llama-bpe", "\t\n"), (Words{"\t\n"}));
}

TEST(BpePreTokenizer, WhiteSpaceProperty) {
  // U+0085 and U+3000 are White_Space, so two of them before a letter split
  // like two spaces do.
  EXPECT_EQ(split("llama-bpe", "a\u0085\u0085b"), (Words{"a", "\u0085", "\u0085b"}));
  EXPECT_EQ(split("llama-bpe", "a\u3000\u3000b"), (Words{"a", "\u3000", "\u3000b"}));
  // U+180E is not White_Space (PCRE2's own \s would take it).
  EXPECT_EQ(split("llama-bpe", "a\u180e\u180eb"), (Words{"a", "\u180e\u180e", "b"}));
}

TEST(BpePreTokenizer, Gpt2Words) {
  EXPECT_EQ(split("gpt-2", "Hello  world's 123"), (Words{"Hello", " ", " world", "'s", " 123"}));
  EXPECT_EQ(split("gpt-2", "a\tb"), (Words{"a", "\t", "b"}));
}

TEST(BpePreTokenizer, DefaultPatternsApplyInTurn) {
  EXPECT_EQ(split("default", "a+b=3.14"), (Words{"a", "+", "b", "=", "3", ".", "14"}));
  EXPECT_EQ(split("default", "12345"), (Words{"123", "45"}));
  EXPECT_EQ(split("", "12345"), (Words{"123", "45"}));
}

TEST(BpePreTokenizer, ConfigFlags) {
  EXPECT_TRUE(find_pre_tokenizer("llama-bpe").ignore_merges);
  EXPECT_TRUE(find_pre_tokenizer("llama-bpe").add_bos);
  EXPECT_TRUE(find_pre_tokenizer("llama3").add_bos);
  EXPECT_FALSE(find_pre_tokenizer("gpt-2").ignore_merges);
  EXPECT_FALSE(find_pre_tokenizer("default").add_bos);
}

TEST(BpePreTokenizer, UnknownName) {
  try {
    find_pre_tokenizer("qwen2");
    FAIL() << "expected an Error";
  } catch (const Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("tokenizer.ggml.pre = \"qwen2\""), std::string::npos) << message;
    EXPECT_NE(message.find("\"llama-bpe\", \"llama3\", \"llama-v3\", \"gpt-2\", \"tekken\", \"default\""), std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace edgelm
