// general.name, basename, finetune, version and size_label derived from model
// ids. Expected values follow gguf-py's Metadata.get_model_id_components,
// id_to_title and utility.size_label, worked through by hand for each id.

#include "hf/model_name.h"

#include <gtest/gtest.h>

namespace edgelm {
namespace {

TEST(ModelName, ParameterCountLabel) {
  EXPECT_EQ(parameter_count_label(6822144), "6.8M");         // the tiny Gemma 2 fixture
  EXPECT_EQ(parameter_count_label(8030261248), "8.0B");      // Llama 3.1 8B
  EXPECT_EQ(parameter_count_label(2614341888), "2.6B");      // Gemma 2 2B
  EXPECT_EQ(parameter_count_label(124439808), "124M");       // GPT-2: three integer digits, no decimals
  EXPECT_EQ(parameter_count_label(260000), "260K");
  EXPECT_EQ(parameter_count_label(999), "1.0K");             // 0.999 rounds to 1: one digit, one decimal
  EXPECT_EQ(parameter_count_label(500), "0.50K");            // round(0.5) is 0 in Python: two decimals
  EXPECT_EQ(parameter_count_label(1000000), "1000K");        // the suffix changes only above 1e6
  EXPECT_EQ(parameter_count_label(1500000000000), "1.5T");
}

TEST(ModelName, TitleFromId) {
  EXPECT_EQ(model_id_to_title("tiny-gemma2"), "Tiny Gemma2");
  EXPECT_EQ(model_id_to_title("gemma-2-2b-it"), "Gemma 2 2b It");  // "2b" starts with a digit: kept
  EXPECT_EQ(model_id_to_title("Meta-Llama-3.1-8B-Instruct"), "Meta Llama 3.1 8B Instruct");
  EXPECT_EQ(model_id_to_title("Mistral-7B-Instruct-v0.3"), "Mistral 7B Instruct v0.3");  // a version: kept
  EXPECT_EQ(model_id_to_title("x2y-model"), "X2Y Model");  // str.title() capitalizes after digits
  EXPECT_EQ(model_id_to_title("--a--b--"), "A B");
}

TEST(ModelName, BareNameHasNoParts) {
  const ModelIdComponents parts = split_model_id("tiny-gemma2", 6822144);
  EXPECT_EQ(parts.full_name, "tiny-gemma2");
  EXPECT_FALSE(parts.organization.has_value());
  EXPECT_FALSE(parts.basename.has_value());  // no size, finetune or version: too ambiguous
  EXPECT_FALSE(parts.finetune.has_value());
  EXPECT_FALSE(parts.version.has_value());
  EXPECT_FALSE(parts.size_label.has_value());
}

TEST(ModelName, GemmaInstructId) {
  const ModelIdComponents parts = split_model_id("google/gemma-2-2b-it", 2614341888);
  EXPECT_EQ(parts.full_name, "gemma-2-2b-it");
  EXPECT_EQ(parts.organization, "google");
  EXPECT_EQ(parts.basename, "gemma-2");  // the version "2" belongs to the basename
  EXPECT_EQ(parts.size_label, "2B");
  EXPECT_EQ(parts.finetune, "it");  // an untagged word after the size
  EXPECT_FALSE(parts.version.has_value());
}

TEST(ModelName, LlamaInstructId) {
  const ModelIdComponents parts = split_model_id("Meta-Llama-3.1-8B-Instruct", 8030261248);
  EXPECT_EQ(parts.basename, "Meta-Llama-3.1");
  EXPECT_EQ(parts.size_label, "8B");
  EXPECT_EQ(parts.finetune, "Instruct");
  EXPECT_FALSE(parts.version.has_value());
  EXPECT_FALSE(parts.organization.has_value());
}

TEST(ModelName, TrailingVersion) {
  const ModelIdComponents parts = split_model_id("Mistral-7B-Instruct-v0.3", 7248023552);
  EXPECT_EQ(parts.basename, "Mistral");
  EXPECT_EQ(parts.size_label, "7B");
  EXPECT_EQ(parts.finetune, "Instruct");
  EXPECT_EQ(parts.version, "v0.3");
}

TEST(ModelName, ContextLengthIsFinetune) {
  // 262k is far from 8e9 parameters, so it reads as a context length.
  const ModelIdComponents parts = split_model_id("Llama-3-8B-262k", 8030261248);
  EXPECT_EQ(parts.basename, "Llama-3");
  EXPECT_EQ(parts.size_label, "8B");
  EXPECT_EQ(parts.finetune, "262k");
}

TEST(ModelName, SizeSpellings) {
  EXPECT_EQ(split_model_id("bloom-7b1", 7069016064).size_label, "7.1B");   // BLOOM's "7b1"
  EXPECT_EQ(split_model_id("phi-1_5b", 1418270720).size_label, "1.5B");    // "_" as the decimal point
  EXPECT_EQ(split_model_id("Mixtral-8x7B-v0.1", 46702792704).size_label, "8x7B");
  // A word size is dropped when a numeric one is present.
  EXPECT_EQ(split_model_id("model-small-7B", 7000000000).size_label, "7B");
  EXPECT_EQ(split_model_id("model-small", 7000000000).size_label, "small");
}

TEST(ModelName, QuantTypeIsDropped) {
  const ModelIdComponents parts = split_model_id("Qwen2.5-7B-Instruct-Q4_K_M", 7615616512);
  EXPECT_EQ(parts.basename, "Qwen2.5");
  EXPECT_EQ(parts.size_label, "7B");
  EXPECT_EQ(parts.finetune, "Instruct");
}

TEST(ModelName, SpacesMakeAPlainName) {
  const ModelIdComponents parts = split_model_id("My Model 7B", 7000000000);
  EXPECT_EQ(parts.full_name, "My Model 7B");
  EXPECT_FALSE(parts.size_label.has_value());
}

TEST(ModelName, DeriveFromFixtureDirectory) {
  const ModelNameMetadata names = derive_model_name("/models/tiny-gemma2/", std::nullopt, 6822144);
  EXPECT_EQ(names.name, "Tiny Gemma2");
  EXPECT_EQ(names.size_label, "6.8M");  // from the parameter count
  EXPECT_FALSE(names.basename.has_value());
  EXPECT_FALSE(names.finetune.has_value());
  EXPECT_FALSE(names.version.has_value());
  EXPECT_FALSE(names.organization.has_value());
}

TEST(ModelName, DeriveWithoutParameterCount) {
  const ModelNameMetadata names = derive_model_name("/models/tiny-gemma2", std::nullopt, 0);
  EXPECT_EQ(names.name, "Tiny Gemma2");
  EXPECT_FALSE(names.size_label.has_value());
}

TEST(ModelName, NameOrPathComesFirst) {
  const ModelNameMetadata names = derive_model_name("/models/snapshot", "google/gemma-2-2b-it", 2614341888);
  EXPECT_EQ(names.name, "Gemma 2 2b It");
  EXPECT_EQ(names.organization, "Google");
  EXPECT_EQ(names.basename, "gemma-2");
  EXPECT_EQ(names.finetune, "it");
  EXPECT_EQ(names.size_label, "2B");
}

TEST(ModelName, LocalNameOrPathIgnored) {
  // More than one "/" is a local path, not a hub id.
  const ModelNameMetadata names = derive_model_name("/models/Meta-Llama-3.1-8B-Instruct", "/home/me/llama", 8030261248);
  EXPECT_EQ(names.name, "Meta Llama 3.1 8B Instruct");
  EXPECT_EQ(names.basename, "Meta-Llama-3.1");
  EXPECT_EQ(names.finetune, "Instruct");
  EXPECT_EQ(names.size_label, "8B");
}

}  // namespace
}  // namespace edgelm
