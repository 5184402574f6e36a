// Bytes a decode step reads, checked against sizes computed from the tensor shapes.

#include "bench/decode_traffic.h"

#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "model/hparams.h"

namespace edgelm {
namespace {

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

// Bytes of `n_elements` values: f32 is 4 bytes each, q8_0 34 bytes per block of 32.
uint64_t expected_bytes(DType type, uint64_t n_elements) {
  if (type == DType::F32) return 4 * n_elements;
  if (type == DType::Q8_0) return n_elements / 32 * 34;
  ADD_FAILURE() << "the test has no size rule for type " << dtype_name(type);
  return 0;
}

TEST(DecodeTraffic, TiedGemmaCountsEmbeddingTwice) {
  auto file = GgufFile::open(fixture("tiny-gemma2-q8_0.gguf"));
  ASSERT_EQ(file->find_tensor("output.weight"), nullptr);
  const GgufTensor* embedding = file->find_tensor("token_embd.weight");
  ASSERT_NE(embedding, nullptr);
  ASSERT_EQ(embedding->type, DType::Q8_0);
  ASSERT_EQ(embedding->dims[0], 256u);

  // Every tensor once (token_embd as the tied head), plus one embedding row of 256 values.
  uint64_t expected = 0;
  for (const GgufTensor& tensor : file->tensors()) expected += expected_bytes(tensor.type, tensor.n_elements());
  expected += 256 / 32 * 34;
  EXPECT_EQ(decode_weight_bytes(*file), expected);
  EXPECT_EQ(expected, 7267328u + 272u);
}

TEST(DecodeTraffic, SeparateHeadCountsOneEmbeddingRow) {
  auto file = GgufFile::open(fixture("stories260K.gguf"));
  ASSERT_NE(file->find_tensor("output.weight"), nullptr);
  const GgufTensor* embedding = file->find_tensor("token_embd.weight");
  ASSERT_NE(embedding, nullptr);
  ASSERT_EQ(embedding->type, DType::F32);

  uint64_t expected = 0;
  for (const GgufTensor& tensor : file->tensors()) {
    if (tensor.name != "token_embd.weight") expected += expected_bytes(tensor.type, tensor.n_elements());
  }
  expected += 4 * embedding->dims[0];
  EXPECT_EQ(decode_weight_bytes(*file), expected);
}

// The tiny Gemma 2 attention: 6 layers, even ones sliding with a window of 32,
// keys and values of 2 heads x 64 floats, so 1024 bytes per position and layer.
HParams tiny_gemma_attention() {
  auto file = GgufFile::open(fixture("tiny-gemma2-q8_0.gguf"));
  return HParams::from_gguf(*file);
}

TEST(DecodeTraffic, KvMeanWithinWindow) {
  const HParams hp = tiny_gemma_attention();
  ASSERT_EQ(hp.k_dim() + hp.v_dim(), 256u);
  KvCache kv(hp, 24);
  // Steps at positions 0..7 read 1..8 positions: mean 4.5 positions x 6 layers x 1024 bytes.
  EXPECT_EQ(decode_kv_bytes(kv, 8), 27648u);
}

TEST(DecodeTraffic, KvSlidingLayersStopAtWindow) {
  const HParams hp = tiny_gemma_attention();
  ASSERT_EQ(hp.sliding_window, 32u);
  KvCache kv(hp, 100);
  // 40 steps: global layers read 1..40 positions (sum 820), sliding ones
  // 1..32 then 32 eight times (sum 784). 3 layers of each, 1024 bytes per
  // position: 3 x 1604 x 1024 / 40 = 123187.2, rounded.
  EXPECT_EQ(decode_kv_bytes(kv, 40), 123187u);
}

TEST(DecodeTraffic, KvEdgeCases) {
  const HParams hp = tiny_gemma_attention();
  KvCache kv(hp, 24);
  EXPECT_EQ(decode_kv_bytes(kv, 0), 0u);
  EXPECT_EQ(decode_kv_bytes(kv, 1), 6u * 1024);
  EXPECT_THROW(decode_kv_bytes(kv, 25), Error);
}

}  // namespace
}  // namespace edgelm
