// The type each preset picks per tensor, against llama-quantize's choices in
// the fixtures and against its rules on synthetic model layouts.

#include "quant/presets.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "core/error.h"
#include "quant/quantize_model.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

std::unique_ptr<GgufFile> open_fixture(const std::string& name) {
  return GgufFile::open(testing::fixtures_dir() + "/" + name);
}

// Plans `preset` for the f32 fixture and compares every tensor's type, and
// for files llama-quantize wrote, also the tensor order.
void expect_plan_matches(const std::string& preset_name, const std::string& fixture, bool same_order) {
  auto input = open_fixture("tiny-gemma2-f32.gguf");
  auto expected = open_fixture(fixture);
  const std::vector<TensorPlan> plan = plan_quantization(*input, find_quant_preset(preset_name));

  ASSERT_EQ(plan.size(), expected->tensors().size());
  for (size_t i = 0; i < plan.size(); ++i) {
    const std::string& name = plan[i].tensor->name;
    const GgufTensor* reference = expected->find_tensor(name);
    ASSERT_NE(reference, nullptr) << name;
    EXPECT_EQ(dtype_name(plan[i].type), dtype_name(reference->type)) << preset_name << " " << name;
    if (same_order) {
      EXPECT_EQ(name, expected->tensors()[i].name) << "position " << i;
    }
  }
}

TEST(Presets, Q4_K_MMatchesFixture) { expect_plan_matches("Q4_K_M", "tiny-gemma2-q4_k_m.gguf", true); }
TEST(Presets, Q5_K_MMatchesFixture) { expect_plan_matches("Q5_K_M", "tiny-gemma2-q5_k_m.gguf", true); }
TEST(Presets, Q6_KMatchesFixture) { expect_plan_matches("Q6_K", "tiny-gemma2-q6_k.gguf", true); }
TEST(Presets, Q4_0MatchesFixture) { expect_plan_matches("Q4_0", "tiny-gemma2-q4_0.gguf", true); }
// The Q8_0 fixture comes from the Hugging Face converter, which keeps the checkpoint's order.
TEST(Presets, Q8_0MatchesFixture) { expect_plan_matches("Q8_0", "tiny-gemma2-q8_0.gguf", false); }

TEST(Presets, Q4_K_MOnTinyGemma2) {
  // 6 layers: use_more_bits picks layers 2 and 5; the tied embedding is the head.
  auto input = open_fixture("tiny-gemma2-f32.gguf");
  std::map<std::string, DType> types;
  for (const TensorPlan& p : plan_quantization(*input, find_quant_preset("q4_k_m"))) types[p.tensor->name] = p.type;
  EXPECT_EQ(types["token_embd.weight"], DType::Q6_K);
  EXPECT_EQ(types["blk.2.attn_v.weight"], DType::Q6_K);
  EXPECT_EQ(types["blk.5.ffn_down.weight"], DType::Q6_K);
  EXPECT_EQ(types["blk.0.attn_v.weight"], DType::Q4_K);
  EXPECT_EQ(types["blk.3.ffn_down.weight"], DType::Q4_K);
  EXPECT_EQ(types["blk.4.post_ffw_norm.weight"], DType::F32);
}

TEST(Presets, FallbacksOnStories260K) {
  // Rows of 64 values fit no 256-value super-block and rows of 172 fit no
  // 32-value block; the expected types are those llama-quantize wrote.
  auto input = open_fixture("stories260K.gguf");
  std::map<std::string, DType> types;
  for (const TensorPlan& p : plan_quantization(*input, find_quant_preset("Q4_K_M"))) types[p.tensor->name] = p.type;
  EXPECT_EQ(types["output.weight"], DType::Q8_0);      // Q6_K head -> Q8_0
  EXPECT_EQ(types["token_embd.weight"], DType::Q5_0);  // untied: default Q4_K -> Q5_0
  EXPECT_EQ(types["blk.0.attn_v.weight"], DType::Q5_0);
  EXPECT_EQ(types["blk.2.attn_v.weight"], DType::Q8_0);  // use_more_bits(2, 5): Q6_K -> Q8_0
  EXPECT_EQ(types["blk.4.attn_v.weight"], DType::Q8_0);
  EXPECT_EQ(types["blk.0.ffn_down.weight"], DType::F16);  // 172 values per row
  EXPECT_EQ(types["blk.0.ffn_gate.weight"], DType::Q5_0);
  EXPECT_EQ(types["output_norm.weight"], DType::F32);

  types.clear();
  for (const TensorPlan& p : plan_quantization(*input, find_quant_preset("Q3_K_M"))) types[p.tensor->name] = p.type;
  EXPECT_EQ(types["blk.0.attn_v.weight"], DType::Q5_1);       // first two attn_v: Q5_K -> Q5_1
  EXPECT_EQ(types["blk.2.attn_v.weight"], DType::Q5_0);       // Q4_K -> Q5_0
  EXPECT_EQ(types["blk.0.attn_output.weight"], DType::Q5_0);  // Q4_K -> Q5_0
  EXPECT_EQ(types["blk.0.attn_q.weight"], DType::Q4_0);       // Q3_K -> Q4_0
}

// A synthetic model of n_layer Llama layers, in llama.cpp's tensor order.
std::vector<TensorDesc> llama_layout(int n_layer, bool tied) {
  std::vector<TensorDesc> tensors;
  if (!tied) tensors.push_back({"output.weight", {4096, 32000}, DType::F16});
  tensors.push_back({"output_norm.weight", {4096}, DType::F32});
  tensors.push_back({"token_embd.weight", {4096, 32000}, DType::F16});
  for (int i = 0; i < n_layer; ++i) {
    const std::string blk = "blk." + std::to_string(i) + ".";
    for (const char* name : {"attn_k", "attn_output", "attn_q", "attn_v", "ffn_down", "ffn_gate", "ffn_up"}) {
      tensors.push_back({blk + name + ".weight", {4096, 4096}, DType::F16});
    }
  }
  return tensors;
}

// Layers (by position) whose `role` tensor gets `type`.
std::vector<int> layers_with(const std::vector<TensorDesc>& tensors, const std::vector<DType>& types,
                             const std::string& role, DType type) {
  std::vector<int> layers;
  for (size_t i = 0; i < tensors.size(); ++i) {
    if (tensors[i].name.find(role) != std::string::npos && types[i] == type) {
      layers.push_back(std::stoi(tensors[i].name.substr(4)));
    }
  }
  return layers;
}

TEST(Presets, UseMoreBitsOn32Layers) {
  // i < 4, i >= 28, or (i - 4) % 3 == 2.
  const std::vector<int> expected = {0, 1, 2, 3, 6, 9, 12, 15, 18, 21, 24, 27, 28, 29, 30, 31};
  const std::vector<TensorDesc> tensors = llama_layout(32, false);
  const QuantModelInfo model{"llama", 32, 32, 8, 0};
  for (const char* preset : {"Q4_K_M", "Q5_K_M"}) {
    const std::vector<DType> types = choose_tensor_types(find_quant_preset(preset), model, tensors);
    EXPECT_EQ(layers_with(tensors, types, "attn_v", DType::Q6_K), expected) << preset;
    EXPECT_EQ(layers_with(tensors, types, "ffn_down", DType::Q6_K), expected) << preset;
    EXPECT_EQ(types[0], DType::Q6_K) << "output.weight";
    EXPECT_EQ(types[1], DType::F32) << "output_norm.weight";
    EXPECT_EQ(types[2], find_quant_preset(preset).default_type) << "untied token_embd keeps the default";
  }
}

TEST(Presets, SmallMixRules) {
  const std::vector<TensorDesc> tensors = llama_layout(32, true);
  const QuantModelInfo model{"llama", 32, 32, 8, 0};

  std::vector<DType> types = choose_tensor_types(find_quant_preset("Q4_K_S"), model, tensors);
  EXPECT_EQ(layers_with(tensors, types, "attn_v", DType::Q5_K), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(layers_with(tensors, types, "ffn_down", DType::Q5_K), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(types[1], DType::Q6_K) << "tied token_embd is the head";

  types = choose_tensor_types(find_quant_preset("Q3_K_M"), model, tensors);
  EXPECT_EQ(layers_with(tensors, types, "attn_v", DType::Q5_K), (std::vector<int>{0, 1}));
  EXPECT_EQ(layers_with(tensors, types, "ffn_down", DType::Q5_K), (std::vector<int>{0, 1}));
  EXPECT_EQ(layers_with(tensors, types, "attn_output", DType::Q4_K).size(), 32u);

  // Q2_K gives attn_v Q4_K when 4 or more query heads share a KV head.
  types = choose_tensor_types(find_quant_preset("Q2_K"), model, tensors);
  EXPECT_EQ(layers_with(tensors, types, "attn_v", DType::Q4_K).size(), 32u);
  EXPECT_EQ(layers_with(tensors, types, "ffn_down", DType::Q3_K).size(), 32u);

  types = choose_tensor_types(find_quant_preset("Q8_0"), model, tensors);
  EXPECT_EQ(types[1], DType::Q8_0) << "Q8_0 keeps a tied head at Q8_0";
}

TEST(Presets, Llama70BAndExperts) {
  // A 70B-class Llama (80 layers, grouped-query attention) lifts Q4_K attn_v to Q5_K.
  const std::vector<TensorDesc> tensors = llama_layout(80, false);
  std::vector<DType> types = choose_tensor_types(find_quant_preset("Q4_K_M"), {"llama", 80, 64, 8, 0}, tensors);
  EXPECT_TRUE(layers_with(tensors, types, "attn_v", DType::Q4_K).empty());
  EXPECT_FALSE(layers_with(tensors, types, "attn_v", DType::Q5_K).empty());

  // Eight experts: attention V and K at Q8_0, attention output at Q5_K.
  const std::vector<TensorDesc> moe = llama_layout(4, false);
  types = choose_tensor_types(find_quant_preset("Q4_K_M"), {"llama", 4, 32, 8, 8}, moe);
  EXPECT_EQ(layers_with(moe, types, "attn_v", DType::Q8_0).size(), 4u);
  EXPECT_EQ(layers_with(moe, types, "attn_k", DType::Q8_0).size(), 4u);
  EXPECT_EQ(layers_with(moe, types, "attn_output", DType::Q5_K).size(), 4u);
}

TEST(Presets, QuantizableTensors) {
  EXPECT_TRUE(tensor_is_quantizable({"blk.0.attn_q.weight", {256, 256}, DType::F32}));
  EXPECT_TRUE(tensor_is_quantizable({"output.weight", {256, 1000}, DType::F32}));
  EXPECT_FALSE(tensor_is_quantizable({"blk.0.attn_norm.weight", {256}, DType::F32}));
  EXPECT_FALSE(tensor_is_quantizable({"blk.0.ffn_norm.weight", {256, 4}, DType::F32}));
  EXPECT_FALSE(tensor_is_quantizable({"blk.0.attn_q.weight", {256, 1}, DType::F32})) << "trailing 1 is 1-D";
  EXPECT_FALSE(tensor_is_quantizable({"blk.0.attn_q.bias", {256, 256}, DType::F32}));
  EXPECT_FALSE(tensor_is_quantizable({"blk.0.ffn_gate_inp.weight", {256, 8}, DType::F32}));
  EXPECT_FALSE(tensor_is_quantizable({"position_embd.weight", {256, 512}, DType::F32}));
}

TEST(Presets, LlamaTensorOrder) {
  std::vector<std::string> names = {"blk.10.attn_q.weight", "token_embd.weight", "blk.2.ffn_up.weight",
                                    "blk.2.attn_k.weight", "output_norm.weight"};
  std::sort(names.begin(), names.end(), llama_tensor_order);
  EXPECT_EQ(names, (std::vector<std::string>{"output_norm.weight", "token_embd.weight", "blk.2.attn_k.weight",
                                             "blk.2.ffn_up.weight", "blk.10.attn_q.weight"}));
}

TEST(Presets, NamesIgnoreCase) {
  EXPECT_EQ(find_quant_preset("q4_k_m").file_type, 15u);
  EXPECT_EQ(find_quant_preset("Q5_k_M").file_type, 17u);
  EXPECT_EQ(find_quant_preset("q6_k").file_type, 18u);
  EXPECT_EQ(find_quant_preset("Q8_0").file_type, 7u);
  EXPECT_EQ(find_quant_preset("q4_0").file_type, 2u);
  try {
    find_quant_preset("q4_k_x");
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'q4_k_x'"), std::string::npos) << message;
    EXPECT_NE(message.find("Q4_K_M"), std::string::npos) << message;
    EXPECT_NE(message.find("Q8_0"), std::string::npos) << message;
  }
}

TEST(Presets, QuantizedInputRejected) {
  auto input = open_fixture("tiny-gemma2-q4_0.gguf");
  try {
    plan_quantization(*input, find_quant_preset("Q4_K_M"));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("is q4_0"), std::string::npos) << message;
    EXPECT_NE(message.find("tensor 'blk.0."), std::string::npos) << message;
  }

  // The same type again is a plain copy.
  auto q8 = open_fixture("tiny-gemma2-q8_0.gguf");
  for (const TensorPlan& p : plan_quantization(*q8, find_quant_preset("Q8_0"))) {
    EXPECT_EQ(p.type, p.tensor->type) << p.tensor->name;
  }
}

}  // namespace
}  // namespace edgelm
