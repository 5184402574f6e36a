// Built-in shapes: their published values, and tensor lists that match the
// files llama.cpp's converter and llama-quantize wrote for the tiny model.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "plan/model_shapes.h"

namespace edgelm {
namespace {

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

// The tiny Gemma 2 test model as a shape.
constexpr ModelShape kTinyGemma2 = {"tiny-gemma2", Architecture::kGemma2, 6, 256, 4, 2, 64, 768, 8192, 1024, 32,
                                    true, false, 0};

// Compares a shape's tensors with a real file's: names, dimensions and types.
void expect_same_tensors(const std::vector<TensorDesc>& planned, const std::string& file_name) {
  auto file = GgufFile::open(fixture(file_name));
  std::vector<const GgufTensor*> actual;
  for (const GgufTensor& tensor : file->tensors()) actual.push_back(&tensor);
  std::stable_sort(actual.begin(), actual.end(),
                   [](const GgufTensor* a, const GgufTensor* b) { return llama_tensor_order(a->name, b->name); });

  ASSERT_EQ(planned.size(), actual.size()) << file_name;
  for (size_t i = 0; i < planned.size(); ++i) {
    EXPECT_EQ(planned[i].name, actual[i]->name) << file_name;
    EXPECT_EQ(planned[i].dims, actual[i]->dims) << file_name << " " << actual[i]->name;
    EXPECT_EQ(dtype_name(planned[i].type), dtype_name(actual[i]->type)) << file_name << " " << actual[i]->name;
  }
}

TEST(ModelShapes, TinyTensorsMatchConverter) {
  expect_same_tensors(shape_tensors(kTinyGemma2, "f32"), "tiny-gemma2-f32.gguf");
  expect_same_tensors(shape_tensors(kTinyGemma2, "bf16"), "tiny-gemma2-bf16.gguf");
}

TEST(ModelShapes, TinyTensorsMatchQuantize) {
  expect_same_tensors(shape_tensors(kTinyGemma2, "q8_0"), "tiny-gemma2-q8_0.gguf");
  expect_same_tensors(shape_tensors(kTinyGemma2, "Q4_K_M"), "tiny-gemma2-q4_k_m.gguf");
  expect_same_tensors(shape_tensors(kTinyGemma2, "q5_k_m"), "tiny-gemma2-q5_k_m.gguf");
  expect_same_tensors(shape_tensors(kTinyGemma2, "q6_k"), "tiny-gemma2-q6_k.gguf");
  expect_same_tensors(shape_tensors(kTinyGemma2, "q4_0"), "tiny-gemma2-q4_0.gguf");
}

TEST(ModelShapes, PublishedValues) {
  const ModelShape& gemma9 = find_model_shape("gemma-2-9b");
  EXPECT_EQ(gemma9.n_layer, 42u);
  EXPECT_EQ(gemma9.n_embd, 3584u);
  EXPECT_EQ(gemma9.n_head, 16u);
  EXPECT_EQ(gemma9.n_head_kv, 8u);
  EXPECT_EQ(gemma9.head_dim, 256u);
  EXPECT_EQ(gemma9.n_ff, 14336u);
  EXPECT_EQ(gemma9.sliding_window, 4096u);
  EXPECT_TRUE(gemma9.tied_output);

  const ModelShape& gemma27 = find_model_shape("gemma-2-27b");
  EXPECT_EQ(gemma27.n_layer, 46u);
  EXPECT_EQ(gemma27.n_embd, 4608u);
  EXPECT_EQ(gemma27.head_dim, 128u);
  EXPECT_EQ(gemma27.n_ff, 36864u);

  const ModelShape& nemo = find_model_shape("Mistral-Nemo-12B");
  EXPECT_EQ(nemo.n_layer, 40u);
  EXPECT_EQ(nemo.n_embd, 5120u);
  EXPECT_EQ(nemo.n_head * nemo.head_dim, 4096u);  // the query width differs from d_model
  EXPECT_EQ(nemo.n_vocab, 131072u);
  EXPECT_EQ(nemo.sliding_window, 0u);
  EXPECT_FALSE(nemo.tied_output);

  EXPECT_EQ(find_model_shape("llama-3.1-70b").n_ff, 28672u);
  EXPECT_EQ(model_shapes().size(), 6u);
}

TEST(ModelShapes, GemmaSlidesOnEvenLayers) {
  const HParams hp = shape_hparams(find_model_shape("gemma-2-2b"));
  ASSERT_EQ(hp.layer_is_sliding.size(), 26u);
  for (uint32_t il = 0; il < 26; ++il) EXPECT_EQ(hp.layer_is_sliding[il], il % 2 == 0) << il;
  EXPECT_EQ(hp.sliding_window, 4096u);

  const HParams llama = shape_hparams(find_model_shape("llama-3.1-8b"));
  EXPECT_EQ(std::count(llama.layer_is_sliding.begin(), llama.layer_is_sliding.end(), true), 0);
}

TEST(ModelShapes, UnknownNamesListKnownOnes) {
  try {
    find_model_shape("gemma-3-4b");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("gemma-3-4b"), std::string::npos) << message;
    EXPECT_NE(message.find("gemma-2-2b, gemma-2-9b, gemma-2-27b, llama-3.1-8b, llama-3.1-70b, mistral-nemo-12b"),
              std::string::npos)
        << message;
  }
  EXPECT_THROW(shape_tensors(find_model_shape("gemma-2-2b"), "q9_9"), Error);
}

}  // namespace
}  // namespace edgelm
