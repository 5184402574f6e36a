// Synthetic model files: the planned tensors and metadata, the written
// weights, determinism, and a forward pass through the engine.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "model/context.h"
#include "model/model.h"
#include "quant/temp_dir.h"
#include "synth/synthetic_model.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

using synth::plan_synthetic_model;
using synth::SynthRequest;
using synth::SyntheticModel;
using testing::TempDir;

SynthRequest small_request(const std::string& shape, const std::string& type, uint32_t n_layer, uint32_t n_vocab) {
  SynthRequest request;
  request.shape_name = shape;
  request.type = type;
  request.n_layer = n_layer;
  request.n_vocab = n_vocab;
  request.threads = 2;
  request.show_progress = false;
  return request;
}

// The planned metadata as a file without tensors, for its typed getters.
std::unique_ptr<GgufFile> metadata_file(const SyntheticModel& model) {
  return GgufFile::assemble("synthetic", model.metadata, {}, nullptr);
}

void expect_same_tensors(const std::vector<TensorDesc>& actual, const std::vector<TensorDesc>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].name, expected[i].name) << i;
    EXPECT_EQ(actual[i].dims, expected[i].dims) << expected[i].name;
    EXPECT_EQ(dtype_name(actual[i].type), dtype_name(expected[i].type)) << expected[i].name;
  }
}

TEST(SynthModel, PlanMatchesShrunkShapeTensors) {
  for (const auto& [shape_name, type] : {std::pair{"gemma-2-2b", "q4_k_m"}, std::pair{"llama-3.1-8b", "Q5_K_M"},
                                         std::pair{"gemma-2-27b", "bf16"}, std::pair{"mistral-nemo-12b", "q3_k_m"}}) {
    const SyntheticModel model = plan_synthetic_model(small_request(shape_name, type, 2, 2048));
    ModelShape shrunk = find_model_shape(shape_name);
    shrunk.n_layer = 2;
    shrunk.n_vocab = 2048;
    SCOPED_TRACE(shape_name);
    expect_same_tensors(model.tensors, shape_tensors(shrunk, type));
    EXPECT_EQ(model.shape.n_layer, 2u);
    EXPECT_EQ(model.shape.n_vocab, 2048u);
  }
}

TEST(SynthModel, FullGemma2bPlanWritesNothing) {
  TempDir dir;
  SynthRequest request = small_request("gemma-2-2b", "q8_0", 0, 0);
  request.output_path = dir.file("never-written.gguf");
  const SyntheticModel model = plan_synthetic_model(request);

  // Gemma 2 2B's published parameter count, the tied output counted once.
  EXPECT_NEAR(static_cast<double>(model.n_params), 2.6e9, 2.6e7);
  EXPECT_EQ(model.n_params, 2614341888u);
  // token_embd, output_norm and 11 tensors in each of 26 layers.
  EXPECT_EQ(model.tensors.size(), shape_tensors(find_model_shape("gemma-2-2b"), "q8_0").size());
  EXPECT_EQ(model.tensors.size(), 288u);
  EXPECT_EQ(metadata_file(model)->get_string_array("tokenizer.ggml.tokens").size(), 256000u);
  EXPECT_EQ(dir.entry_count(), 0u);
}

TEST(SynthModel, GemmaMetadata) {
  const SyntheticModel model = plan_synthetic_model(small_request("gemma-2-2b", "q4_k_m", 2, 2048));
  auto file = metadata_file(model);

  EXPECT_EQ(file->get_string("general.architecture"), "gemma2");
  EXPECT_EQ(file->get_string("general.name"), "synthetic gemma-2-2b");
  EXPECT_EQ(file->get_uint("gemma2.context_length"), 8192u);
  EXPECT_EQ(file->get_uint("gemma2.embedding_length"), 2304u);
  EXPECT_EQ(file->get_uint("gemma2.block_count"), 2u);
  EXPECT_EQ(file->get_uint("gemma2.feed_forward_length"), 9216u);
  EXPECT_EQ(file->get_uint("gemma2.attention.head_count"), 8u);
  EXPECT_EQ(file->get_uint("gemma2.attention.head_count_kv"), 4u);
  EXPECT_EQ(file->get_uint("gemma2.attention.key_length"), 256u);
  EXPECT_EQ(file->get_uint("gemma2.attention.value_length"), 256u);
  EXPECT_FLOAT_EQ(static_cast<float>(file->get_float("gemma2.attention.layer_norm_rms_epsilon")), 1e-6f);
  EXPECT_EQ(file->get_uint("gemma2.attention.sliding_window"), 4096u);
  EXPECT_DOUBLE_EQ(file->get_float("gemma2.attn_logit_softcapping"), 50.0);
  EXPECT_DOUBLE_EQ(file->get_float("gemma2.final_logit_softcapping"), 30.0);

  // llama-quantize moves its two keys to the end; 15 is LLAMA_FTYPE_MOSTLY_Q4_K_M.
  const auto& metadata = file->metadata();
  ASSERT_GE(metadata.size(), 2u);
  EXPECT_EQ(metadata[metadata.size() - 2].first, "general.quantization_version");
  EXPECT_EQ(metadata.back().first, "general.file_type");
  EXPECT_EQ(file->get_uint("general.quantization_version"), 2u);
  EXPECT_EQ(file->get_uint("general.file_type"), 15u);

  EXPECT_EQ(file->get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(file->get_string("tokenizer.ggml.pre"), "default");
  EXPECT_EQ(file->get_string_array("tokenizer.ggml.tokens").size(), 2048u);
  EXPECT_EQ(file->get_float_array("tokenizer.ggml.scores").size(), 2048u);
  EXPECT_EQ(file->get_int_array("tokenizer.ggml.token_type").size(), 2048u);
  EXPECT_FALSE(file->has("tokenizer.ggml.merges"));
  EXPECT_EQ(file->get_uint("tokenizer.ggml.bos_token_id"), 2u);
  EXPECT_EQ(file->get_uint("tokenizer.ggml.eos_token_id"), 1u);
  EXPECT_EQ(file->get_uint("tokenizer.ggml.unknown_token_id"), 3u);
  EXPECT_EQ(file->get_uint("tokenizer.ggml.padding_token_id"), 0u);
  EXPECT_TRUE(file->get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_FALSE(file->get_bool("tokenizer.ggml.add_eos_token"));
  EXPECT_FALSE(file->get_bool("tokenizer.ggml.add_space_prefix"));
  EXPECT_NE(file->get_string("tokenizer.chat_template").find("<start_of_turn>"), std::string::npos);
}

TEST(SynthModel, LlamaMetadata) {
  const SyntheticModel model = plan_synthetic_model(small_request("llama-3.1-8b", "q4_k_m", 2, 2048));
  auto file = metadata_file(model);

  EXPECT_EQ(file->get_string("general.architecture"), "llama");
  EXPECT_EQ(file->get_string("general.name"), "synthetic llama-3.1-8b");
  EXPECT_EQ(file->get_uint("llama.block_count"), 2u);
  EXPECT_EQ(file->get_uint("llama.context_length"), 131072u);
  EXPECT_EQ(file->get_uint("llama.embedding_length"), 4096u);
  EXPECT_EQ(file->get_uint("llama.feed_forward_length"), 14336u);
  EXPECT_EQ(file->get_uint("llama.attention.head_count"), 32u);
  EXPECT_EQ(file->get_uint("llama.attention.head_count_kv"), 8u);
  EXPECT_DOUBLE_EQ(file->get_float("llama.rope.freq_base"), 500000.0);
  EXPECT_EQ(file->get_uint("llama.rope.dimension_count"), 128u);
  EXPECT_EQ(file->get_uint("llama.vocab_size"), 2048u);
  EXPECT_FLOAT_EQ(static_cast<float>(file->get_float("llama.attention.layer_norm_rms_epsilon")), 1e-5f);
  EXPECT_EQ(file->get_uint("general.file_type"), 15u);

  EXPECT_EQ(file->get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_EQ(file->get_string("tokenizer.ggml.pre"), "llama-bpe");
  EXPECT_EQ(file->get_string_array("tokenizer.ggml.tokens").size(), 2048u);
  EXPECT_EQ(file->get_int_array("tokenizer.ggml.token_type").size(), 2048u);
  EXPECT_EQ(file->get_string_array("tokenizer.ggml.merges").size(), 2048u);
  EXPECT_FALSE(file->has("tokenizer.ggml.scores"));
  EXPECT_EQ(file->get_uint("tokenizer.ggml.bos_token_id"), 1792u);
  EXPECT_EQ(file->get_uint("tokenizer.ggml.eos_token_id"), 1801u);
  EXPECT_NE(file->get_string("tokenizer.chat_template").find("<|start_header_id|>"), std::string::npos);
}

TEST(SynthModel, FloatFileTypes) {
  const std::pair<const char*, uint64_t> cases[] = {{"f32", 0}, {"f16", 1}, {"bf16", 32}, {"q8_0", 7}, {"q6_k", 18}};
  for (const auto& [type, file_type] : cases) {
    const SyntheticModel model = plan_synthetic_model(small_request("gemma-2-2b", type, 1, 512));
    EXPECT_EQ(metadata_file(model)->get_uint("general.file_type"), file_type) << type;
  }
}

TEST(SynthModel, RejectsOverridesOutsideShape) {
  EXPECT_THROW(plan_synthetic_model(small_request("gemma-2-2b", "q8_0", 27, 0)), Error);
  EXPECT_THROW(plan_synthetic_model(small_request("gemma-2-2b", "q8_0", 0, 256001)), Error);
  try {
    plan_synthetic_model(small_request("llama-3.1-8b", "q8_0", 0, 100));
    FAIL() << "a vocabulary of 100 was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("give 513 to 128256 tokens"), std::string::npos) << error.what();
  }
}

// Dequantizes every tensor and checks its values: matrices of root mean
// square about 0.02, norms near 1, rope factors between 1 and 8.
void expect_sane_weights(const GgufFile& file) {
  for (const GgufTensor& tensor : file.tensors()) {
    const size_t n = tensor.n_elements();
    std::vector<float> values(n);
    dequantize_row_ref(tensor.type, tensor.data, values.data(), n);

    double sum_squares = 0.0;
    size_t non_finite = 0;
    float min = INFINITY;
    float max = -INFINITY;
    for (float v : values) {
      if (!std::isfinite(v)) ++non_finite;
      sum_squares += static_cast<double>(v) * v;
      min = std::min(min, v);
      max = std::max(max, v);
    }
    SCOPED_TRACE(tensor.name + " " + std::string(dtype_name(tensor.type)));
    EXPECT_EQ(non_finite, 0u);
    if (tensor.name == "rope_freqs.weight") {
      EXPECT_EQ(values.front(), 1.0f);
      EXPECT_EQ(values.back(), 8.0f);
    } else if (tensor.dims.size() == 1) {
      EXPECT_GT(min, 0.8f);
      EXPECT_LT(max, 1.2f);
    } else {
      EXPECT_NEAR(std::sqrt(sum_squares / static_cast<double>(n)), 0.02, 0.003);
      EXPECT_GT(min, -0.1f);
      EXPECT_LT(max, 0.1f);
    }
  }
}

// Evaluates a few prompt tokens and checks that every logit is finite and that they differ.
void expect_finite_logits(const std::string& path, uint32_t n_vocab) {
  auto model = Model::load(path);
  ASSERT_EQ(model->hparams().n_vocab, n_vocab);
  ThreadPool pool(2);
  Context context(*model, 16, pool);
  const std::vector<int32_t> tokens = model->tokenizer().encode("hello world", true, true);
  ASSERT_GE(tokens.size(), 2u);
  const float* logits = context.eval(tokens.data(), tokens.size(), LogitsMode::kLast);

  size_t non_finite = 0;
  float min = INFINITY;
  float max = -INFINITY;
  for (uint32_t i = 0; i < n_vocab; ++i) {
    if (!std::isfinite(logits[i])) ++non_finite;
    min = std::min(min, logits[i]);
    max = std::max(max, logits[i]);
  }
  EXPECT_EQ(non_finite, 0u);
  EXPECT_LT(min, max);
}

TEST(SynthModel, GemmaFileLoadsAndRuns) {
  TempDir dir;
  SynthRequest request = small_request("gemma-2-2b", "q4_k_m", 1, 1024);
  request.output_path = dir.file("gemma.gguf");
  const SyntheticModel model = plan_synthetic_model(request);
  const synth::SynthSummary summary = synth::write_synthetic_model(model, request);
  EXPECT_EQ(summary.file_bytes, std::filesystem::file_size(request.output_path));

  auto file = GgufFile::open(request.output_path);
  std::vector<TensorDesc> written;
  for (const GgufTensor& tensor : file->tensors()) written.push_back({tensor.name, tensor.dims, tensor.type});
  expect_same_tensors(written, model.tensors);
  EXPECT_EQ(file->metadata().size(), model.metadata.size());
  expect_sane_weights(*file);
  expect_finite_logits(request.output_path, 1024);
}

TEST(SynthModel, LlamaFileLoadsAndRuns) {
  TempDir dir;
  SynthRequest request = small_request("llama-3.1-8b", "q4_0", 1, 1024);
  request.output_path = dir.file("llama.gguf");
  synth::write_synthetic_model(plan_synthetic_model(request), request);

  auto model = Model::load(request.output_path);
  const std::vector<float>& factors = model->weights().rope_freq_factors;
  ASSERT_EQ(factors.size(), 64u);
  EXPECT_EQ(factors.front(), 1.0f);
  EXPECT_EQ(factors.back(), 8.0f);
  expect_sane_weights(model->file());
  expect_finite_logits(request.output_path, 1024);
}

TEST(SynthModel, SameSeedSameBytes) {
  TempDir dir;
  SynthRequest request = small_request("gemma-2-2b", "q4_0", 1, 512);
  const SyntheticModel model = plan_synthetic_model(request);

  request.output_path = dir.file("first.gguf");
  synth::write_synthetic_model(model, request);
  request.output_path = dir.file("again.gguf");
  request.threads = 1;
  synth::write_synthetic_model(model, request);
  request.output_path = dir.file("other.gguf");
  request.seed = 2;
  synth::write_synthetic_model(model, request);

  const std::vector<char> first = testing::read_file_bytes(dir.file("first.gguf"));
  const std::vector<char> again = testing::read_file_bytes(dir.file("again.gguf"));
  const std::vector<char> other = testing::read_file_bytes(dir.file("other.gguf"));
  ASSERT_FALSE(first.empty());
  EXPECT_TRUE(first == again);
  ASSERT_EQ(first.size(), other.size());
  EXPECT_FALSE(first == other);
}

}  // namespace
}  // namespace edgelm
