// Reads the real GGUF files that llama.cpp wrote.

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "gguf/gguf_file.h"

namespace edgelm {
namespace {

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

TEST(GgufFixture, GemmaQ8Metadata) {
  auto file = GgufFile::open(fixture("tiny-gemma2-q8_0.gguf"));

  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->alignment(), 32u);
  EXPECT_EQ(file->data_offset() % 32, 0u);
  EXPECT_EQ(file->get_string("general.architecture"), "gemma2");
  EXPECT_EQ(file->get_uint("gemma2.attention.sliding_window"), 32u);
  EXPECT_EQ(file->get_uint("gemma2.block_count"), 6u);
  EXPECT_EQ(file->get_uint("gemma2.embedding_length"), 256u);
  EXPECT_EQ(file->get_uint("gemma2.attention.head_count"), 4u);
  EXPECT_EQ(file->get_uint("gemma2.attention.head_count_kv"), 2u);
  EXPECT_FLOAT_EQ(file->get_float("gemma2.attn_logit_softcapping"), 50.0);
  EXPECT_FLOAT_EQ(file->get_float("gemma2.final_logit_softcapping"), 30.0);
  EXPECT_EQ(file->get_string("tokenizer.ggml.model"), "llama");
}

TEST(GgufFixture, GemmaQ8Vocabulary) {
  auto file = GgufFile::open(fixture("tiny-gemma2-q8_0.gguf"));

  std::vector<std::string> tokens = file->get_string_array("tokenizer.ggml.tokens");
  ASSERT_EQ(tokens.size(), 8192u);
  EXPECT_EQ(tokens[0], "<pad>");
  EXPECT_EQ(tokens[4], "<start_of_turn>");
  EXPECT_EQ(tokens[5], "<end_of_turn>");

  std::vector<float> scores = file->get_float_array("tokenizer.ggml.scores");
  EXPECT_EQ(scores.size(), 8192u);
  std::vector<int64_t> types = file->get_int_array("tokenizer.ggml.token_type");
  ASSERT_EQ(types.size(), 8192u);
  EXPECT_EQ(types[0], 3);  // control token
  EXPECT_EQ(file->get_uint("tokenizer.ggml.bos_token_id"), 2u);
  EXPECT_EQ(file->get_uint("tokenizer.ggml.eos_token_id"), 1u);
}

TEST(GgufFixture, GemmaQ8Tensors) {
  auto file = GgufFile::open(fixture("tiny-gemma2-q8_0.gguf"));
  ASSERT_EQ(file->tensors().size(), 68u);

  const GgufTensor* embedding = file->find_tensor("token_embd.weight");
  ASSERT_NE(embedding, nullptr);
  EXPECT_EQ(embedding->dims, (std::vector<uint64_t>{256, 8192}));
  EXPECT_EQ(embedding->type, DType::Q8_0);
  EXPECT_EQ(embedding->n_elements(), 256u * 8192u);
  EXPECT_EQ(embedding->n_rows(), 8192u);
  EXPECT_EQ(embedding->n_bytes, 8192u * (256 / 32) * 34);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(embedding->data) % 32, 0u);

  const GgufTensor* norm = file->find_tensor("blk.0.attn_norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->type, DType::F32);
  EXPECT_EQ(norm->dims, (std::vector<uint64_t>{256}));
  EXPECT_EQ(norm->n_bytes, 256u * 4);
  EXPECT_EQ(file->find_tensor("no.such.tensor"), nullptr);

  for (const GgufTensor& tensor : file->tensors()) {
    EXPECT_EQ(tensor.offset % file->alignment(), 0u) << tensor.name;
  }
}

TEST(GgufFixture, EveryModelOpens) {
  for (const char* name :
       {"tiny-gemma2-f32.gguf", "tiny-gemma2-bf16.gguf", "tiny-gemma2-hot-f32.gguf", "tiny-gemma2-q4_0.gguf",
        "tiny-gemma2-q4_k_m.gguf", "tiny-gemma2-q5_k_m.gguf", "tiny-gemma2-q6_k.gguf"}) {
    auto file = GgufFile::open(fixture(name));
    EXPECT_EQ(file->get_string("general.architecture"), "gemma2") << name;
    EXPECT_EQ(file->tensors().size(), 68u) << name;
  }
}

TEST(GgufFixture, StoriesIsLlama) {
  auto file = GgufFile::open(fixture("stories260K.gguf"));
  EXPECT_EQ(file->get_string("general.architecture"), "llama");
  EXPECT_EQ(file->get_uint("llama.embedding_length"), 64u);
  EXPECT_EQ(file->get_uint("llama.block_count"), 5u);
  EXPECT_EQ(file->get_uint("llama.attention.head_count"), 8u);
  EXPECT_EQ(file->get_uint("llama.attention.head_count_kv"), 4u);
  EXPECT_EQ(file->get_string_array("tokenizer.ggml.tokens").size(), 512u);

  const GgufTensor* embedding = file->find_tensor("token_embd.weight");
  ASSERT_NE(embedding, nullptr);
  EXPECT_EQ(embedding->dims, (std::vector<uint64_t>{64, 512}));
}

TEST(GgufFixture, VocabOnlyFiles) {
  auto bpe = GgufFile::open(fixture("vocab/ggml-vocab-llama-bpe.gguf"));
  EXPECT_EQ(bpe->get_string("tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(bpe->get_string_array("tokenizer.ggml.tokens").size(), 128256u);
  EXPECT_TRUE(bpe->tensors().empty());

  auto spm = GgufFile::open(fixture("vocab/ggml-vocab-llama-spm.gguf"));
  EXPECT_EQ(spm->get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(spm->get_string_array("tokenizer.ggml.tokens").size(), 32000u);
  EXPECT_TRUE(spm->tensors().empty());
}

TEST(GgufFixture, MissingFile) {
  try {
    GgufFile::open(fixture("no-such-model.gguf"));
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("no-such-model.gguf"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("not found"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace edgelm
