// HfConfig::load on the tiny Gemma 2 checkpoint and on small config.json
// files written for each rule: defaults, RoPE scaling, token ids and errors.

#include "hf/hf_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include <fmt/format.h>

#include "core/error.h"
#include "hf/temp_model_dir.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::ordered_json;
using testing::TempModelDir;

// A minimal valid Llama config.json; tests change one field at a time.
Json llama_config() {
  return Json{
      {"architectures", {"LlamaForCausalLM"}},
      {"vocab_size", 320},
      {"hidden_size", 64},
      {"intermediate_size", 128},
      {"num_hidden_layers", 2},
      {"num_attention_heads", 4},
      {"num_key_value_heads", 2},
      {"max_position_embeddings", 2048},
  };
}

// The message of the Error that loading `dir` throws, or "" when it loads.
std::string load_error(const std::string& dir) {
  try {
    HfConfig::load(dir);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(HfConfig, TinyGemma2Fixture) {
  const std::string dir = testing::fixtures_dir() + "/tiny-gemma2";
  const HfConfig config = HfConfig::load(dir);

  EXPECT_EQ(config.dir, dir);
  EXPECT_EQ(config.arch, HfArchitecture::kGemma2);
  EXPECT_EQ(config.architecture_name, "Gemma2ForCausalLM");
  EXPECT_EQ(config.vocab_size, 8192u);
  EXPECT_EQ(config.hidden_size, 256u);
  EXPECT_EQ(config.intermediate_size, 768u);
  EXPECT_EQ(config.num_hidden_layers, 6u);
  EXPECT_EQ(config.num_attention_heads, 4u);
  EXPECT_EQ(config.num_key_value_heads, 2u);
  EXPECT_EQ(config.head_dim, 64u);
  EXPECT_EQ(config.max_position_embeddings, 1024u);
  EXPECT_EQ(config.rms_norm_eps, 1e-6);
  EXPECT_EQ(config.rope_theta, 10000.0);
  EXPECT_FALSE(config.rope_scaling.has_value());
  EXPECT_EQ(config.query_pre_attn_scalar, 64.0);
  EXPECT_EQ(config.sliding_window, 32u);
  EXPECT_EQ(config.attn_logit_softcapping, 50.0);
  EXPECT_EQ(config.final_logit_softcapping, 30.0);
  EXPECT_TRUE(config.tie_word_embeddings);
  EXPECT_EQ(config.bos_token_id, 2u);
  // config.json sets eos 1, and generation_config.json's [1, 5] replaces it.
  EXPECT_EQ(config.eos_token_ids, (std::vector<uint32_t>{1, 5}));
  EXPECT_EQ(config.pad_token_id, 0u);
}

TEST(HfConfig, LlamaDefaults) {
  TempModelDir dir;
  dir.write_json("config.json", llama_config());
  const HfConfig config = HfConfig::load(dir.path());

  EXPECT_EQ(config.arch, HfArchitecture::kLlama);
  EXPECT_EQ(config.head_dim, 16u);  // hidden_size / num_attention_heads
  EXPECT_EQ(config.rms_norm_eps, 1e-6);
  EXPECT_EQ(config.rope_theta, 10000.0);
  EXPECT_FALSE(config.rope_scaling.has_value());
  EXPECT_FALSE(config.tie_word_embeddings);
  EXPECT_FALSE(config.sliding_window.has_value());
  EXPECT_FALSE(config.attn_logit_softcapping.has_value());
  EXPECT_FALSE(config.bos_token_id.has_value());
  EXPECT_TRUE(config.eos_token_ids.empty());
  EXPECT_FALSE(config.pad_token_id.has_value());
}

TEST(HfConfig, NullHeadDimAndMissingKvHeads) {
  TempModelDir dir;
  Json json = llama_config();
  json["architectures"] = {"MistralForCausalLM"};
  json["head_dim"] = nullptr;
  json.erase("num_key_value_heads");
  dir.write_json("config.json", json);
  const HfConfig config = HfConfig::load(dir.path());

  EXPECT_EQ(config.arch, HfArchitecture::kMistral);
  EXPECT_EQ(config.architecture_name, "MistralForCausalLM");
  EXPECT_EQ(config.head_dim, 16u);
  EXPECT_EQ(config.num_key_value_heads, 4u);
}

TEST(HfConfig, Gemma2TransformersDefaults) {
  // transformers' Gemma2Config fills these when config.json leaves them out.
  TempModelDir dir;
  Json json = llama_config();
  json["architectures"] = {"Gemma2ForCausalLM"};
  dir.write_json("config.json", json);
  const HfConfig config = HfConfig::load(dir.path());

  EXPECT_EQ(config.head_dim, 256u);
  EXPECT_EQ(config.query_pre_attn_scalar, 256.0);
  EXPECT_EQ(config.sliding_window, 4096u);
  EXPECT_EQ(config.attn_logit_softcapping, 50.0);
  EXPECT_EQ(config.final_logit_softcapping, 30.0);
  EXPECT_TRUE(config.tie_word_embeddings);
}

TEST(HfConfig, Gemma2NullSoftcapping) {
  TempModelDir dir;
  Json json = llama_config();
  json["architectures"] = {"Gemma2ForCausalLM"};
  json["attn_logit_softcapping"] = nullptr;
  dir.write_json("config.json", json);
  const HfConfig config = HfConfig::load(dir.path());

  EXPECT_FALSE(config.attn_logit_softcapping.has_value());
  EXPECT_EQ(config.final_logit_softcapping, 30.0);
}

TEST(HfConfig, Llama3RopeScaling) {
  TempModelDir dir;
  Json json = llama_config();
  json["rope_theta"] = 500000.0;
  json["rope_scaling"] = {{"factor", 32.0},
                          {"high_freq_factor", 4.0},
                          {"low_freq_factor", 1.0},
                          {"original_max_position_embeddings", 8192},
                          {"rope_type", "llama3"}};
  dir.write_json("config.json", json);
  const HfConfig config = HfConfig::load(dir.path());

  EXPECT_EQ(config.rope_theta, 500000.0);
  ASSERT_TRUE(config.rope_scaling.has_value());
  EXPECT_EQ(config.rope_scaling->factor, 32.0);
  EXPECT_EQ(config.rope_scaling->low_freq_factor, 1.0);
  EXPECT_EQ(config.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(config.rope_scaling->original_max_position_embeddings, 8192u);
}

TEST(HfConfig, RopeScalingOldTypeKeyAndDefaults) {
  TempModelDir dir;
  Json json = llama_config();
  json["rope_scaling"] = {{"type", "llama3"}};
  dir.write_json("config.json", json);
  const HfConfig config = HfConfig::load(dir.path());

  ASSERT_TRUE(config.rope_scaling.has_value());
  EXPECT_EQ(config.rope_scaling->factor, 8.0);
  EXPECT_EQ(config.rope_scaling->low_freq_factor, 1.0);
  EXPECT_EQ(config.rope_scaling->high_freq_factor, 4.0);
  EXPECT_EQ(config.rope_scaling->original_max_position_embeddings, 8192u);
}

TEST(HfConfig, RopeParametersOfTransformers5) {
  // transformers 5 saves rope_theta inside "rope_parameters".
  TempModelDir dir;
  Json json = llama_config();
  json["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 1000000.0}};
  dir.write_json("config.json", json);
  const HfConfig config = HfConfig::load(dir.path());

  EXPECT_EQ(config.rope_theta, 1000000.0);
  EXPECT_FALSE(config.rope_scaling.has_value());
}

TEST(HfConfig, RopeParametersPerAttentionType) {
  // transformers 5 keeps one entry per attention type for Gemma-style models.
  TempModelDir dir;
  Json json = llama_config();
  json["architectures"] = {"Gemma2ForCausalLM"};
  json["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}, {"rope_theta", 20000.0}}},
                             {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 10000.0}}}};
  dir.write_json("config.json", json);
  const HfConfig config = HfConfig::load(dir.path());

  EXPECT_EQ(config.rope_theta, 20000.0);
  EXPECT_FALSE(config.rope_scaling.has_value());
}

TEST(HfConfigErrors, Llama3ScalingOnGemma2) {
  TempModelDir dir;
  Json json = llama_config();
  json["architectures"] = {"Gemma2ForCausalLM"};
  json["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}};
  dir.write_json("config.json", json);

  EXPECT_THAT(load_error(dir.path()), HasSubstr("RoPE scaling type \"llama3\" is not supported for Gemma2ForCausalLM"));
}

TEST(HfConfig, GenerationConfigOverridesTokenIds) {
  TempModelDir dir;
  Json json = llama_config();
  json["bos_token_id"] = 1;
  json["eos_token_id"] = 2;
  json["pad_token_id"] = nullptr;
  dir.write_json("config.json", json);
  dir.write_json("generation_config.json", Json{{"eos_token_id", {7, 8, 9}}, {"pad_token_id", 3}});
  const HfConfig config = HfConfig::load(dir.path());

  EXPECT_EQ(config.bos_token_id, 1u);
  EXPECT_EQ(config.eos_token_ids, (std::vector<uint32_t>{7, 8, 9}));
  EXPECT_EQ(config.pad_token_id, 3u);
}

TEST(HfConfig, EosTokenIdList) {
  TempModelDir dir;
  Json json = llama_config();
  json["eos_token_id"] = {128001, 128008, 128009};
  dir.write_json("config.json", json);

  EXPECT_EQ(HfConfig::load(dir.path()).eos_token_ids, (std::vector<uint32_t>{128001, 128008, 128009}));
}

TEST(HfConfigErrors, UnknownArchitecture) {
  TempModelDir dir;
  Json json = llama_config();
  json["architectures"] = {"Qwen2ForCausalLM"};
  dir.write_json("config.json", json);
  const std::string message = load_error(dir.path());

  EXPECT_THAT(message, HasSubstr(dir.file("config.json")));
  EXPECT_THAT(message, HasSubstr("\"Qwen2ForCausalLM\" is not supported"));
  EXPECT_THAT(message, HasSubstr("Gemma2ForCausalLM, LlamaForCausalLM, MistralForCausalLM"));
}

TEST(HfConfigErrors, MissingArchitectures) {
  TempModelDir dir;
  Json json = llama_config();
  json.erase("architectures");
  dir.write_json("config.json", json);

  EXPECT_THAT(load_error(dir.path()), HasSubstr("architectures: field is missing"));
}

TEST(HfConfigErrors, MissingConfigJson) {
  TempModelDir dir;
  const std::string message = load_error(dir.path());

  EXPECT_THAT(message, HasSubstr(dir.path()));
  EXPECT_THAT(message, HasSubstr("not a Hugging Face model directory because config.json is missing"));
}

TEST(HfConfigErrors, MalformedJson) {
  TempModelDir dir;
  dir.write("config.json", "{\"architectures\": [\"LlamaForCausalLM\"],");
  const std::string message = load_error(dir.path());

  EXPECT_THAT(message, HasSubstr(dir.file("config.json")));
  EXPECT_THAT(message, HasSubstr("invalid JSON"));
}

TEST(HfConfigErrors, MalformedGenerationConfig) {
  TempModelDir dir;
  dir.write_json("config.json", llama_config());
  dir.write("generation_config.json", "[1, 2");
  const std::string message = load_error(dir.path());

  EXPECT_THAT(message, HasSubstr(dir.file("generation_config.json")));
  EXPECT_THAT(message, HasSubstr("invalid JSON"));
}

TEST(HfConfigErrors, MissingHiddenSize) {
  TempModelDir dir;
  Json json = llama_config();
  json.erase("hidden_size");
  dir.write_json("config.json", json);
  const std::string message = load_error(dir.path());

  EXPECT_THAT(message, HasSubstr(dir.file("config.json")));
  EXPECT_THAT(message, HasSubstr("hidden_size: field is missing"));
}

TEST(HfConfigErrors, ZeroSize) {
  TempModelDir dir;
  Json json = llama_config();
  json["num_hidden_layers"] = 0;
  dir.write_json("config.json", json);

  EXPECT_THAT(load_error(dir.path()), HasSubstr("num_hidden_layers: must be at least 1, found 0"));
}

TEST(HfConfigErrors, FractionalSize) {
  TempModelDir dir;
  Json json = llama_config();
  json["hidden_size"] = 64.5;
  dir.write_json("config.json", json);

  EXPECT_THAT(load_error(dir.path()), HasSubstr("hidden_size: expected an integer, found 64.5"));
}

TEST(HfConfigErrors, HeadsDoNotDivide) {
  TempModelDir dir;
  Json json = llama_config();
  json["num_key_value_heads"] = 3;
  dir.write_json("config.json", json);

  EXPECT_THAT(load_error(dir.path()), HasSubstr("num_attention_heads (4) is not a multiple of num_key_value_heads (3)"));
}

TEST(HfConfigErrors, OddHeadDim) {
  TempModelDir dir;
  Json json = llama_config();
  json["head_dim"] = 15;
  dir.write_json("config.json", json);

  EXPECT_THAT(load_error(dir.path()), HasSubstr("head dimension 15 is odd"));
}

TEST(HfConfigErrors, HiddenSizeNotMultipleOfHeads) {
  TempModelDir dir;
  Json json = llama_config();
  json["hidden_size"] = 66;
  dir.write_json("config.json", json);

  EXPECT_THAT(load_error(dir.path()), HasSubstr("hidden_size (66) is not a multiple of num_attention_heads (4)"));
}

TEST(HfConfigErrors, UnsupportedRopeScaling) {
  for (const char* type : {"linear", "yarn", "dynamic", "longrope"}) {
    TempModelDir dir;
    Json json = llama_config();
    json["rope_scaling"] = {{"rope_type", type}, {"factor", 2.0}};
    dir.write_json("config.json", json);
    const std::string message = load_error(dir.path());

    EXPECT_THAT(message, HasSubstr(dir.file("config.json"))) << type;
    EXPECT_THAT(message, HasSubstr(fmt::format("RoPE scaling type \"{}\" is not supported", type))) << type;
  }
}

TEST(HfConfigErrors, RopeScalingWithoutType) {
  TempModelDir dir;
  Json json = llama_config();
  json["rope_scaling"] = {{"factor", 2.0}};
  dir.write_json("config.json", json);

  EXPECT_THAT(load_error(dir.path()), HasSubstr("rope_scaling: the RoPE scaling type is missing"));
}

TEST(HfConfigErrors, NegativeTokenId) {
  TempModelDir dir;
  Json json = llama_config();
  json["pad_token_id"] = -1;
  dir.write_json("config.json", json);

  EXPECT_THAT(load_error(dir.path()), HasSubstr("pad_token_id: must be at least 0, found -1"));
}

}  // namespace
}  // namespace edgelm
