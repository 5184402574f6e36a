// Byte-level BPE vocabularies read from GGUF files, and the CLI on one.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_builder.h"
#include "gguf/gguf_file.h"
#include "support/run_command.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/vocab.h"

namespace edgelm {
namespace {

using testing::ByteWriter;
using testing::GgufBuilder;
using Ids = std::vector<int32_t>;

// "a", "b", "ab" and a control token, with one merge.
GgufBuilder gpt2_vocab() {
  GgufBuilder builder;
  builder.kv_string("tokenizer.ggml.model", "gpt2")
      .kv_strings("tokenizer.ggml.tokens", {"a", "b", "ab", "<|bos|>"})
      .kv_strings("tokenizer.ggml.merges", {"a b"});
  ByteWriter types;
  for (int32_t type : {1, 1, 1, 3}) types.put(type);
  builder.kv("tokenizer.ggml.token_type", GgufType::ARRAY, testing::gguf_array(GgufType::INT32, 4, types));
  return builder;
}

GgufBuilder& add_flag(GgufBuilder& builder, std::string_view key, bool value) {
  return builder.kv(key, GgufType::BOOL, ByteWriter().u8(value ? 1 : 0));
}

std::string error_of(const std::vector<uint8_t>& image) {
  try {
    const auto file = GgufFile::parse(image.data(), image.size(), "bpe.gguf");
    Tokenizer::from_gguf(*file);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(BpeVocabGguf, DefaultsWithoutPre) {
  const std::vector<uint8_t> image = gpt2_vocab().build();
  const auto file = GgufFile::parse(image.data(), image.size(), "bpe.gguf");
  const Vocab vocab = read_vocab(*file);
  EXPECT_EQ(vocab.pre, "");
  EXPECT_EQ(vocab.merges, (std::vector<std::string>{"a b"}));
  EXPECT_EQ(vocab.bos_id, -1);  // llama.cpp's default 11 is out of range here
  EXPECT_FALSE(vocab.add_bos);
  EXPECT_FALSE(vocab.add_space_prefix);

  const auto tokenizer = Tokenizer::from_gguf(*file);
  EXPECT_EQ(tokenizer->encode("ab", true, false), Ids{2});
}

TEST(BpeVocabGguf, LlamaPreAddsBos) {
  GgufBuilder builder = gpt2_vocab();
  builder.kv_string("tokenizer.ggml.pre", "llama-bpe").kv_u32("tokenizer.ggml.bos_token_id", 3);
  const std::vector<uint8_t> image = builder.build();
  const auto file = GgufFile::parse(image.data(), image.size(), "bpe.gguf");
  const auto tokenizer = Tokenizer::from_gguf(*file);
  EXPECT_EQ(tokenizer->encode("ab", true, false), (Ids{3, 2}));
}

TEST(BpeVocabGguf, AddBosKeyWins) {
  GgufBuilder builder = gpt2_vocab();
  builder.kv_string("tokenizer.ggml.pre", "llama-bpe").kv_u32("tokenizer.ggml.bos_token_id", 3);
  add_flag(builder, "tokenizer.ggml.add_bos_token", false);
  const std::vector<uint8_t> image = builder.build();
  const auto file = GgufFile::parse(image.data(), image.size(), "bpe.gguf");
  const auto tokenizer = Tokenizer::from_gguf(*file);
  EXPECT_EQ(tokenizer->encode("ab", true, false), Ids{2});
}

TEST(BpeVocabGguf, UnknownPre) {
  GgufBuilder builder = gpt2_vocab();
  builder.kv_string("tokenizer.ggml.pre", "qwen2");
  const std::string message = error_of(builder.build());
  EXPECT_NE(message.find("bpe.gguf: tokenizer.ggml.pre = \"qwen2\" is not a supported pre-tokenizer"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("\"llama-bpe\""), std::string::npos) << message;
}

TEST(BpeVocabGguf, MissingMerges) {
  GgufBuilder builder;
  builder.kv_string("tokenizer.ggml.model", "gpt2").kv_strings("tokenizer.ggml.tokens", {"a", "b"});
  const std::string message = error_of(builder.build());
  EXPECT_NE(message.find("bpe.gguf: tokenizer.ggml.merges is missing"), std::string::npos) << message;
}

TEST(BpeVocabGguf, MalformedMerge) {
  GgufBuilder builder;
  builder.kv_string("tokenizer.ggml.model", "gpt2")
      .kv_strings("tokenizer.ggml.tokens", {"a", "b"})
      .kv_strings("tokenizer.ggml.merges", {"ab"});
  const std::string message = error_of(builder.build());
  EXPECT_NE(message.find("bpe.gguf: tokenizer.ggml.merges[0] = \"ab\""), std::string::npos) << message;
}

// The Llama 3 vocabulary file has no tensors; tokenize reads only the vocabulary.
TEST(BpeVocabGguf, CliTokenizesVocabOnlyFile) {
  const std::string model = std::string(EDGELM_FIXTURES_DIR) + "/vocab/ggml-vocab-llama-bpe.gguf";
  const auto result = testing::run_edgelm("tokenize -m " + testing::shell_quote(model) + " -p 'Hello world'");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "[128000,9906,1917]\n");

  const auto chat = testing::run_edgelm("tokenize -m " + testing::shell_quote(model) +
                                        " -p '<|start_header_id|>user<|end_header_id|>'");
  EXPECT_EQ(chat.exit_code, 0) << chat.err;
  EXPECT_EQ(chat.out, "[128000,128006,882,128007]\n");
}

}  // namespace
}  // namespace edgelm
