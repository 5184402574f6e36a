#include "model/hparams.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "gguf/gguf_builder.h"

namespace edgelm {
namespace {

using testing::GgufBuilder;

// Metadata of a Gemma 2 file with the given shape and no tensors.
std::vector<uint8_t> gemma2_metadata(uint32_t n_layer, uint32_t n_embd, uint32_t n_head, uint32_t head_dim) {
  GgufBuilder b;
  b.kv_string("general.architecture", "gemma2")
      .kv_u32("gemma2.context_length", 8192)
      .kv_u32("gemma2.embedding_length", n_embd)
      .kv_u32("gemma2.block_count", n_layer)
      .kv_u32("gemma2.feed_forward_length", 4 * n_embd)
      .kv_u32("gemma2.attention.head_count", n_head)
      .kv_u32("gemma2.attention.head_count_kv", n_head / 2)
      .kv_u32("gemma2.attention.key_length", head_dim)
      .kv_u32("gemma2.attention.value_length", head_dim)
      .kv_f32("gemma2.attention.layer_norm_rms_epsilon", 1e-6f)
      .kv_f32("gemma2.attn_logit_softcapping", 50.0f)
      .kv_f32("gemma2.final_logit_softcapping", 30.0f)
      .kv_u32("gemma2.attention.sliding_window", 4096)
      .kv_u64("gemma2.vocab_size", 256000);
  return b.build();
}

HParams parse_hparams(const std::vector<uint8_t>& bytes) {
  auto file = GgufFile::parse(bytes.data(), bytes.size(), "test.gguf");
  return HParams::from_gguf(*file);
}

TEST(HParams, Gemma2_27bQueryScaleUsesModelWidth) {
  HParams hp = parse_hparams(gemma2_metadata(46, 4608, 32, 128));
  // 1/sqrt(4608 / 32) = 1/sqrt(144), not 1/sqrt(head_dim 128).
  EXPECT_FLOAT_EQ(hp.query_scale, 1.0f / 12.0f);
}

TEST(HParams, Gemma2_9bQueryScaleUsesHeadDim) {
  HParams hp = parse_hparams(gemma2_metadata(42, 3584, 16, 256));
  EXPECT_FLOAT_EQ(hp.query_scale, 1.0f / 16.0f);
}

TEST(HParams, Gemma2RulesAndLayerPattern) {
  HParams hp = parse_hparams(gemma2_metadata(26, 2304, 8, 256));
  EXPECT_EQ(hp.arch, Architecture::kGemma2);
  EXPECT_FLOAT_EQ(hp.attn_softcap, 50.0f);
  EXPECT_FLOAT_EQ(hp.final_softcap, 30.0f);
  EXPECT_EQ(hp.sliding_window, 4096u);
  EXPECT_TRUE(hp.scale_embeddings);
  EXPECT_TRUE(hp.post_norms);
  EXPECT_EQ(hp.activation, FfnActivation::kGeluTanh);
  EXPECT_EQ(hp.rope_style, RopeStyle::kHalves);
  EXPECT_EQ(hp.n_rot, 256u);
  ASSERT_EQ(hp.layer_is_sliding.size(), 26u);
  for (uint32_t il = 0; il < 26; ++il) EXPECT_EQ(hp.layer_is_sliding[il], il % 2 == 0) << "layer " << il;
}

TEST(HParams, InvalidEpsilonRejected) {
  for (float eps : {std::nanf(""), -1.0f, 0.0f}) {
    GgufBuilder b;
    b.kv_string("general.architecture", "llama")
        .kv_u32("llama.context_length", 128)
        .kv_u32("llama.embedding_length", 64)
        .kv_u32("llama.block_count", 2)
        .kv_u32("llama.feed_forward_length", 128)
        .kv_u32("llama.attention.head_count", 8)
        .kv_f32("llama.attention.layer_norm_rms_epsilon", eps)
        .kv_u64("llama.vocab_size", 32);
    auto bytes = b.build();
    try {
      parse_hparams(bytes);
      FAIL() << "expected an error for eps " << eps;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("layer_norm_rms_epsilon"), std::string::npos) << e.what();
    }
  }
}

TEST(HParams, UnsupportedArchitectureNamed) {
  GgufBuilder b;
  b.kv_string("general.architecture", "gpt2");
  auto bytes = b.build();
  try {
    parse_hparams(bytes);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'gpt2'"), std::string::npos) << e.what();
  }
}

TEST(HParams, HeadsNotMultipleOfKvHeadsRejected) {
  GgufBuilder b;
  b.kv_string("general.architecture", "llama")
      .kv_u32("llama.context_length", 128)
      .kv_u32("llama.embedding_length", 64)
      .kv_u32("llama.block_count", 2)
      .kv_u32("llama.feed_forward_length", 128)
      .kv_u32("llama.attention.head_count", 8)
      .kv_u32("llama.attention.head_count_kv", 3)
      .kv_u64("llama.vocab_size", 32);
  auto bytes = b.build();
  EXPECT_THROW(parse_hparams(bytes), Error);
}

}  // namespace
}  // namespace edgelm
