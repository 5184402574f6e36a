#include "tokenizer/vocab.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_builder.h"
#include "gguf/gguf_file.h"
#include "tokenizer/tokenizer.h"

namespace edgelm {
namespace {

using testing::ByteWriter;
using testing::GgufBuilder;
using testing::gguf_array;

const std::vector<std::string> kTokens = {"<unk>", "<s>", "</s>", "▁a", "a", "▁"};

GgufBuilder& add_scores(GgufBuilder& builder, const std::vector<float>& scores) {
  ByteWriter elements;
  for (float score : scores) elements.put(score);
  return builder.kv("tokenizer.ggml.scores", GgufType::ARRAY, gguf_array(GgufType::FLOAT32, scores.size(), elements));
}

GgufBuilder& add_types(GgufBuilder& builder, const std::vector<int32_t>& types) {
  ByteWriter elements;
  for (int32_t type : types) elements.put(type);
  return builder.kv("tokenizer.ggml.token_type", GgufType::ARRAY, gguf_array(GgufType::INT32, types.size(), elements));
}

// A minimal SentencePiece vocabulary; each test changes one thing.
GgufBuilder llama_vocab() {
  GgufBuilder builder;
  builder.kv_string("tokenizer.ggml.model", "llama").kv_strings("tokenizer.ggml.tokens", kTokens);
  add_scores(builder, {0, 0, 0, -1, -2, -3});
  add_types(builder, {2, 3, 3, 1, 1, 1});
  return builder;
}

// Parses `image` and builds its tokenizer; returns the Error message, or "" on success.
std::string error_of(const std::vector<uint8_t>& image) {
  try {
    const auto file = GgufFile::parse(image.data(), image.size(), "vocab.gguf");
    Tokenizer::from_gguf(*file);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(VocabGguf, DefaultsForLlama) {
  const std::vector<uint8_t> image = llama_vocab().build();
  const auto file = GgufFile::parse(image.data(), image.size(), "vocab.gguf");
  const Vocab vocab = read_vocab(*file);
  EXPECT_EQ(vocab.bos_id, 1);
  EXPECT_EQ(vocab.eos_id, 2);
  EXPECT_EQ(vocab.unk_id, 0);
  EXPECT_TRUE(vocab.add_bos);
  EXPECT_TRUE(vocab.add_space_prefix);

  // The space prefix makes "a" into "▁a".
  const auto tokenizer = Tokenizer::from_gguf(*file);
  EXPECT_EQ(tokenizer->encode("a", true, false), (std::vector<int32_t>{1, 3}));
}

TEST(VocabGguf, NoBosWhenIdIsNone) {
  GgufBuilder builder = llama_vocab();
  builder.kv_u32("tokenizer.ggml.bos_token_id", 0xFFFFFFFFu);
  const std::vector<uint8_t> image = builder.build();
  const auto file = GgufFile::parse(image.data(), image.size(), "vocab.gguf");
  const auto tokenizer = Tokenizer::from_gguf(*file);
  EXPECT_EQ(tokenizer->bos_id(), -1);
  EXPECT_EQ(tokenizer->encode("a", true, false), (std::vector<int32_t>{3}));
}

TEST(VocabGguf, ScoresLengthMismatch) {
  GgufBuilder builder;
  builder.kv_string("tokenizer.ggml.model", "llama").kv_strings("tokenizer.ggml.tokens", kTokens);
  add_scores(builder, {0, 0, 0});
  const std::string message = error_of(builder.build());
  EXPECT_NE(message.find("tokenizer.ggml.scores has 3 entries"), std::string::npos) << message;
}

TEST(VocabGguf, BadTokenType) {
  GgufBuilder builder;
  builder.kv_string("tokenizer.ggml.model", "llama").kv_strings("tokenizer.ggml.tokens", kTokens);
  add_types(builder, {2, 9, 3, 1, 1, 1});
  const std::string message = error_of(builder.build());
  EXPECT_NE(message.find("tokenizer.ggml.token_type[1] = 9"), std::string::npos) << message;
}

TEST(VocabGguf, BosOutOfRange) {
  GgufBuilder builder = llama_vocab();
  builder.kv_u32("tokenizer.ggml.bos_token_id", 99);
  const std::string message = error_of(builder.build());
  EXPECT_NE(message.find("tokenizer.ggml.bos_token_id = 99"), std::string::npos) << message;
  EXPECT_NE(message.find("vocab.gguf"), std::string::npos) << message;
}

TEST(VocabGguf, UnsupportedModel) {
  GgufBuilder builder;
  builder.kv_string("tokenizer.ggml.model", "bert").kv_strings("tokenizer.ggml.tokens", kTokens);
  const std::string message = error_of(builder.build());
  EXPECT_NE(message.find("\"bert\" is not supported"), std::string::npos) << message;
}

TEST(VocabGguf, MissingTokens) {
  GgufBuilder builder;
  builder.kv_string("tokenizer.ggml.model", "llama");
  const std::string message = error_of(builder.build());
  EXPECT_NE(message.find("tokenizer.ggml.tokens"), std::string::npos) << message;
}

}  // namespace
}  // namespace edgelm
