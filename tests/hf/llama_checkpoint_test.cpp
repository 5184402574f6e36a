// The Llama and Mistral path of Hugging Face checkpoints, checked against the
// one trained Llama model among the fixtures: stories260K.gguf, rebuilt here as
// the LlamaForCausalLM directory llama.cpp's converter would have read.

#include <gtest/gtest.h>

#include <sentencepiece_processor.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "gguf/gguf_file.h"
#include "hf/convert_checkpoint.h"
#include "model/context.h"
#include "model/model.h"
#include "support/expected_output.h"
#include "support/hf_dir_from_gguf.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::HfLlamaCheckpoint;
using testing::HfTensor;
using testing::HfWriteOptions;

std::string stories_path() { return testing::fixtures_dir() + "/stories260K.gguf"; }

// Prompt ids followed by llama.cpp's greedy continuation: 72 positions, so
// RoPE is checked far from position 0.
const std::vector<int32_t>& path_ids() {
  static const std::vector<int32_t> ids = testing::load_expected("stories260K__ids-a").path();
  return ids;
}

const std::vector<int32_t>& prompt_ids() {
  static const std::vector<int32_t> ids = testing::load_expected("stories260K__ids-a").prompt_ids;
  return ids;
}

// Logits of every position of `ids`, fed in one pass.
std::vector<float> teacher_forced_logits(const Model& model, const std::vector<int32_t>& ids) {
  ThreadPool pool(2);
  Context context(model, 128, pool, 64);
  const float* logits = context.eval(ids.data(), ids.size(), LogitsMode::kAll);
  return std::vector<float>(logits, logits + ids.size() * model.hparams().n_vocab);
}

size_t argmax(const float* row, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i) {
    if (row[i] > row[best]) best = i;
  }
  return best;
}

// `n` greedy tokens after `prompt`, one eval per token as `edgelm run` decodes.
std::vector<int32_t> greedy_tokens(const Model& model, const std::vector<int32_t>& prompt, size_t n) {
  ThreadPool pool(2);
  Context context(model, 128, pool, 64);
  const size_t n_vocab = model.hparams().n_vocab;
  const float* logits = context.eval(prompt.data(), prompt.size(), LogitsMode::kLast);

  std::vector<int32_t> tokens;
  for (size_t i = 0; i < n; ++i) {
    const int32_t next = static_cast<int32_t>(argmax(logits, n_vocab));
    tokens.push_back(next);
    logits = context.eval(&next, 1, LogitsMode::kLast);
  }
  return tokens;
}

float max_abs_difference(const std::vector<float>& a, const std::vector<float>& b) {
  float worst = 0.0f;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

std::vector<float> tensor_floats(const GgufTensor& t) {
  std::vector<float> values(t.n_bytes / sizeof(float));
  std::memcpy(values.data(), t.data, values.size() * sizeof(float));
  return values;
}

::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" is not in the message: " << text;
}

// The Error message of Model::load(dir), or "" (with a failure) when it loads.
std::string load_error(const std::string& dir) {
  try {
    Model::load(dir);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "Model::load(" << dir << ") succeeded";
  return "";
}

QuantizeSummary convert_to_f32(const std::string& dir, const std::string& output) {
  ConvertRequest request;
  request.input_dir = dir;
  request.output_path = output;
  request.type = "f32";
  request.threads = 2;
  request.show_progress = false;
  return convert_checkpoint(request);
}

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string text;
  for (int32_t id : ids) {
    if (!text.empty()) text += ',';
    text += std::to_string(id);
  }
  return text;
}

// The fixture's weights and the directory built from them are shared by the
// suite, so each test only writes the variant it is about.
class LlamaCheckpointTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = new std::string(::testing::TempDir() + "edgelm_llama_checkpoint_" + std::to_string(::getpid()));
    std::filesystem::create_directories(*root_);
    gguf_ = GgufFile::open(stories_path()).release();
    checkpoint_ = new HfLlamaCheckpoint(testing::hf_llama_from_gguf(*gguf_));
    testing::write_hf_dir(*checkpoint_, dir("stories260K"));

    reference_ = Model::load(stories_path()).release();
    reference_logits_ = new std::vector<float>(teacher_forced_logits(*reference_, path_ids()));
  }

  static void TearDownTestSuite() {
    delete reference_logits_;
    delete reference_;
    delete checkpoint_;
    delete gguf_;
    std::filesystem::remove_all(*root_);
    delete root_;
  }

  static std::string dir(const std::string& name) { return *root_ + "/" + name; }

  // The shared checkpoint, to change before writing a variant.
  static HfLlamaCheckpoint copy() { return *checkpoint_; }

  static std::string* root_;
  static GgufFile* gguf_;
  static HfLlamaCheckpoint* checkpoint_;
  static Model* reference_;
  static std::vector<float>* reference_logits_;
};

std::string* LlamaCheckpointTest::root_ = nullptr;
GgufFile* LlamaCheckpointTest::gguf_ = nullptr;
HfLlamaCheckpoint* LlamaCheckpointTest::checkpoint_ = nullptr;
Model* LlamaCheckpointTest::reference_ = nullptr;
std::vector<float>* LlamaCheckpointTest::reference_logits_ = nullptr;

TEST_F(LlamaCheckpointTest, TokenizerModelHoldsGgufVocab) {
  // libsentencepiece reads the hand-written ModelProto with every piece, score and type.
  sentencepiece::SentencePieceProcessor processor;
  ASSERT_TRUE(processor.LoadFromSerializedProto(checkpoint_->tokenizer_model).ok());

  const std::vector<std::string> pieces = gguf_->get_string_array("tokenizer.ggml.tokens");
  const std::vector<float> scores = gguf_->get_float_array("tokenizer.ggml.scores");
  const std::vector<int64_t> types = gguf_->get_int_array("tokenizer.ggml.token_type");
  ASSERT_EQ(processor.GetPieceSize(), 512);
  for (int id = 0; id < 512; ++id) {
    EXPECT_EQ(processor.IdToPiece(id), pieces[id]) << id;
    EXPECT_EQ(processor.GetScore(id), scores[id]) << id;
    EXPECT_EQ(processor.IsUnknown(id), types[id] == 2) << id;
    EXPECT_EQ(processor.IsControl(id), types[id] == 3) << id;
    EXPECT_EQ(processor.IsByte(id), types[id] == 6) << id;
  }
  EXPECT_EQ(processor.unk_id(), 0);
  EXPECT_EQ(processor.bos_id(), 1);
  EXPECT_EQ(processor.eos_id(), 2);
  EXPECT_EQ(processor.pad_id(), -1);
}

TEST_F(LlamaCheckpointTest, LoadDirMatchesGguf) {
  auto from_dir = Model::load(dir("stories260K"));
  EXPECT_EQ(from_dir->hparams().rope_style, RopeStyle::kHalves);
  EXPECT_EQ(reference_->hparams().rope_style, RopeStyle::kAdjacentPairs);
  EXPECT_EQ(from_dir->hparams().n_vocab, 512u);

  // The vocabulary the tokenizer.model gave equals the GGUF's.
  EXPECT_EQ(from_dir->file().get_string_array("tokenizer.ggml.tokens"),
            gguf_->get_string_array("tokenizer.ggml.tokens"));
  EXPECT_EQ(from_dir->file().get_float_array("tokenizer.ggml.scores"),
            gguf_->get_float_array("tokenizer.ggml.scores"));
  EXPECT_EQ(from_dir->file().get_int_array("tokenizer.ggml.token_type"),
            gguf_->get_int_array("tokenizer.ggml.token_type"));

  // Q and K keep Hugging Face's row order and RoPE rotates halves, so each
  // q.k sums its terms in another order and the logits differ by float32 rounding.
  const std::vector<float> logits = teacher_forced_logits(*from_dir, path_ids());
  ASSERT_EQ(logits.size(), reference_logits_->size());
  EXPECT_LE(max_abs_difference(logits, *reference_logits_), 1e-4f);

  EXPECT_EQ(greedy_tokens(*from_dir, prompt_ids(), 20), greedy_tokens(*reference_, prompt_ids(), 20));
}

// The metadata of the converted file differs from stories260K.gguf, which
// llama.cpp's llama-convert-llama2c-to-ggml wrote, in keys that only one of
// the two converters writes:
// - general.name is "stories260K" (the directory's name), not "llama".
// - Only the converted file has general.type, general.size_label ("293K"),
//   general.file_type, general.quantization_version, llama.rope.freq_base
//   (10000), llama.attention.key_length and value_length (8),
//   llama.vocab_size (512), tokenizer.ggml.pre ("default"), and
//   tokenizer.ggml.add_bos_token (true) and add_eos_token (false) from
//   tokenizer_config.json.
// - Only stories260K.gguf has tokenizer.ggml.unknown_token_id (0) and
//   seperator_token_id and padding_token_id (both 4294967295, meaning none).
TEST_F(LlamaCheckpointTest, ConvertF32EqualsGguf) {
  const std::string output = dir("converted-f32.gguf");
  convert_to_f32(dir("stories260K"), output);
  auto converted = GgufFile::open(output);

  // Every tensor, Q and K permuted back into llama.cpp's row order exactly.
  EXPECT_EQ(converted->tensors().size(), gguf_->tensors().size());
  for (const GgufTensor& want : gguf_->tensors()) {
    const GgufTensor* got = converted->find_tensor(want.name);
    ASSERT_NE(got, nullptr) << want.name;
    EXPECT_EQ(got->dims, want.dims) << want.name;
    EXPECT_EQ(got->type, want.type) << want.name;
    ASSERT_EQ(got->n_bytes, want.n_bytes) << want.name;
    EXPECT_EQ(std::memcmp(got->data, want.data, want.n_bytes), 0) << "data of " << want.name;
  }

  for (const char* key : {"llama.block_count", "llama.embedding_length", "llama.attention.head_count",
                          "llama.attention.head_count_kv", "llama.feed_forward_length", "llama.rope.dimension_count",
                          "llama.context_length"}) {
    EXPECT_EQ(converted->get_uint(key), gguf_->get_uint(key)) << key;
  }
  EXPECT_EQ(converted->get_float("llama.attention.layer_norm_rms_epsilon"),
            gguf_->get_float("llama.attention.layer_norm_rms_epsilon"));
  EXPECT_EQ(converted->get_string("general.architecture"), "llama");
  EXPECT_EQ(converted->get_string("tokenizer.ggml.model"), "llama");
  EXPECT_EQ(converted->get_string_array("tokenizer.ggml.tokens"), gguf_->get_string_array("tokenizer.ggml.tokens"));
  EXPECT_EQ(converted->get_float_array("tokenizer.ggml.scores"), gguf_->get_float_array("tokenizer.ggml.scores"));
  EXPECT_EQ(converted->get_int_array("tokenizer.ggml.token_type"), gguf_->get_int_array("tokenizer.ggml.token_type"));
  for (const char* key : {"tokenizer.ggml.bos_token_id", "tokenizer.ggml.eos_token_id"}) {
    EXPECT_EQ(converted->get_uint(key), gguf_->get_uint(key)) << key;
  }

  // Same tensors and hyperparameters: the same logits bit for bit.
  converted.reset();
  auto model = Model::load(output);
  EXPECT_EQ(model->hparams().rope_style, RopeStyle::kAdjacentPairs);
  const std::vector<float> logits = teacher_forced_logits(*model, path_ids());
  ASSERT_EQ(logits.size(), reference_logits_->size());
  for (size_t i = 0; i < logits.size(); ++i) ASSERT_EQ(logits[i], (*reference_logits_)[i]) << "index " << i;
}

TEST_F(LlamaCheckpointTest, Sharded) {
  HfWriteOptions options;
  options.n_shards = 2;
  testing::write_hf_dir(*checkpoint_, dir("sharded"), options);
  ASSERT_TRUE(std::filesystem::exists(dir("sharded") + "/model.safetensors.index.json"));
  ASSERT_TRUE(std::filesystem::exists(dir("sharded") + "/model-00002-of-00002.safetensors"));
  ASSERT_FALSE(std::filesystem::exists(dir("sharded") + "/model.safetensors"));

  auto single = Model::load(dir("stories260K"));
  auto sharded = Model::load(dir("sharded"));
  EXPECT_EQ(teacher_forced_logits(*sharded, path_ids()), teacher_forced_logits(*single, path_ids()));
}

TEST_F(LlamaCheckpointTest, MistralArchitecture) {
  HfLlamaCheckpoint mistral = copy();
  mistral.config["architectures"] = {"MistralForCausalLM"};
  mistral.config["model_type"] = "mistral";
  testing::write_hf_dir(mistral, dir("mistral"));

  auto llama = Model::load(dir("stories260K"));
  auto model = Model::load(dir("mistral"));
  EXPECT_EQ(model->file().get_string("general.architecture"), "llama");
  EXPECT_EQ(model->hparams().rope_style, RopeStyle::kHalves);
  EXPECT_EQ(teacher_forced_logits(*model, path_ids()), teacher_forced_logits(*llama, path_ids()));
}

// Llama 3.1's rule for the divisor of each RoPE frequency, in double.
std::vector<double> llama3_rope_factors(double theta, uint32_t head_dim, double factor, double low_freq_factor,
                                        double high_freq_factor, double original_context) {
  std::vector<double> factors;
  for (uint32_t i = 0; i < head_dim; i += 2) {
    const double frequency = std::pow(theta, -static_cast<double>(i) / head_dim);
    const double wavelength = 2.0 * M_PI / frequency;
    if (wavelength < original_context / high_freq_factor) {
      factors.push_back(1.0);
    } else if (wavelength > original_context / low_freq_factor) {
      factors.push_back(factor);
    } else {
      const double smooth = (original_context / wavelength - low_freq_factor) / (high_freq_factor - low_freq_factor);
      factors.push_back(1.0 / ((1.0 - smooth) / factor + smooth));
    }
  }
  return factors;
}

TEST_F(LlamaCheckpointTest, Llama3RopeScaling) {
  // An original context of 64 puts head_dim 8's wavelengths (about 6, 63,
  // 628 and 6283 positions) in all three ranges of the rule.
  HfLlamaCheckpoint scaled = copy();
  scaled.config["rope_scaling"] = {{"rope_type", "llama3"},
                                   {"factor", 8.0},
                                   {"low_freq_factor", 1.0},
                                   {"high_freq_factor", 4.0},
                                   {"original_max_position_embeddings", 64}};
  testing::write_hf_dir(scaled, dir("llama3-rope"));

  const std::vector<double> expected = llama3_rope_factors(10000.0, 8, 8.0, 1.0, 4.0, 64.0);
  ASSERT_EQ(expected.size(), 4u);
  EXPECT_EQ(expected[0], 1.0);
  EXPECT_GT(expected[1], 1.0);
  EXPECT_LT(expected[1], 8.0);
  EXPECT_EQ(expected[2], 8.0);
  EXPECT_EQ(expected[3], 8.0);

  const std::string output = dir("llama3-rope.gguf");
  convert_to_f32(dir("llama3-rope"), output);
  auto converted = GgufFile::open(output);
  const GgufTensor* freqs = converted->find_tensor("rope_freqs.weight");
  ASSERT_NE(freqs, nullptr);
  EXPECT_EQ(freqs->type, DType::F32);
  ASSERT_EQ(freqs->dims, std::vector<uint64_t>{4});
  const std::vector<float> written = tensor_floats(*freqs);
  // The converter computes in float32, so the middle factor (7.6673851) is
  // 2.5e-8 from the double value.
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(written[i], expected[i], 1e-6) << "factor " << i;

  auto model = Model::load(dir("llama3-rope"));
  EXPECT_EQ(model->weights().rope_freq_factors, written);
  EXPECT_TRUE(reference_->weights().rope_freq_factors.empty());

  // Both paths divide the frequencies by the factors: the directory (halves)
  // and the converted file (adjacent pairs) agree, and both differ from the
  // unscaled model.
  const std::vector<float> scaled_logits = teacher_forced_logits(*model, path_ids());
  const std::vector<float> converted_logits = teacher_forced_logits(*Model::load(output), path_ids());
  EXPECT_LE(max_abs_difference(scaled_logits, converted_logits), 1e-4f);
  EXPECT_GT(max_abs_difference(scaled_logits, *reference_logits_), 1.0f);
}

TEST(LlamaFloat8Encoder, RoundsToNearestEven) {
  EXPECT_EQ(testing::float_to_e4m3(0.0f), 0x00);
  EXPECT_EQ(testing::float_to_e4m3(1.0f), 0x38);
  EXPECT_EQ(testing::float_to_e4m3(-1.0f), 0xB8);
  EXPECT_EQ(testing::float_to_e4m3(448.0f), 0x7E);
  EXPECT_EQ(testing::float_to_e4m3(0.001953125f), 0x01);  // 2^-9, the smallest subnormal
  EXPECT_EQ(testing::float_to_e4m3(0.0009765625f), 0x00); // half of it: a tie, to even 0
  EXPECT_EQ(testing::float_to_e4m3(1.0625f), 0x38);       // between 1 and 1.125: even 0x38
  EXPECT_EQ(testing::float_to_e4m3(1.1875f), 0x3A);       // between 1.125 and 1.25: even 0x3A
  EXPECT_EQ(testing::float_to_e4m3(1.06f), 0x38);
  EXPECT_EQ(testing::float_to_e4m3(1.07f), 0x39);
  EXPECT_EQ(testing::e4m3_to_float(0x7E), 448.0f);
  EXPECT_EQ(testing::e4m3_to_float(0x08), 0.015625f);  // 2^-6, the smallest normal
  EXPECT_TRUE(std::isnan(testing::e4m3_to_float(0x7F)));
}

TEST_F(LlamaCheckpointTest, Float8) {
  HfWriteOptions options;
  options.matrices = testing::HfMatrixType::kFloat8;
  testing::write_hf_dir(*checkpoint_, dir("float8"), options);
  auto model = Model::load(dir("float8"));
  const std::vector<float> logits = teacher_forced_logits(*model, path_ids());
  ASSERT_EQ(logits.size(), reference_logits_->size());

  // To run, each weight becomes code * scale rounded to BF16, which is
  // exactly the model of a BF16 checkpoint of the dequantized weights.
  HfLlamaCheckpoint dequantized = copy();
  for (HfTensor& t : dequantized.tensors) {
    if (t.is_matrix()) t.values = testing::quantize_e4m3(t.values).dequantized();
  }
  options.matrices = testing::HfMatrixType::kBf16;
  testing::write_hf_dir(dequantized, dir("float8-as-bf16"), options);
  EXPECT_EQ(logits, teacher_forced_logits(*Model::load(dir("float8-as-bf16")), path_ids()));

  // Against the F32 model the difference is float8's own error: e4m3 keeps
  // 3 mantissa bits, so each weight moves by up to 1/16 of itself, 16 times
  // BF16's step. This small model amplifies weight errors: rounding its F32
  // weights to BF16 moves logits by up to 0.81, and an F32 model with the
  // dequantized weights is 10.75 away from the original. Measured here (x86-64,
  // 2 threads): max 10.52, RMS 1.57, same top token at 45 of 72 positions.
  const size_t n_vocab = reference_->hparams().n_vocab;
  size_t same_top = 0;
  for (size_t row = 0; row < path_ids().size(); ++row) {
    same_top += argmax(&logits[row * n_vocab], n_vocab) == argmax(&(*reference_logits_)[row * n_vocab], n_vocab);
  }
  double squares = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) squares += std::pow(logits[i] - (*reference_logits_)[i], 2);
  EXPECT_LE(max_abs_difference(logits, *reference_logits_), 12.0f);
  EXPECT_LE(std::sqrt(squares / logits.size()), 2.0);
  EXPECT_GE(same_top, 40u);

  // Converted to F32, each matrix is exactly code * scale, with Q and K in
  // llama.cpp's row order. The norms keep their values.
  const std::string output = dir("float8-f32.gguf");
  convert_to_f32(dir("float8"), output);
  auto converted = GgufFile::open(output);
  EXPECT_EQ(converted->tensors().size(), gguf_->tensors().size());
  for (const HfTensor& t : checkpoint_->tensors) {
    std::vector<float> expected = t.values;
    if (t.is_matrix()) {
      expected = testing::quantize_e4m3(t.values).dequantized();
      if (t.name.ends_with("q_proj.weight") || t.name.ends_with("k_proj.weight")) {
        expected = testing::rows_in_gguf_order(expected, t.shape[1], checkpoint_->head_dim);
      }
    }

    const GgufTensor* got = converted->find_tensor(t.gguf_name);
    ASSERT_NE(got, nullptr) << t.gguf_name;
    EXPECT_EQ(got->type, DType::F32) << t.gguf_name;
    EXPECT_EQ(got->dims, gguf_->find_tensor(t.gguf_name)->dims) << t.gguf_name;
    EXPECT_EQ(tensor_floats(*got), expected) << t.gguf_name;
  }
}

// ---- errors: one message naming the file and the tensor ----

TEST_F(LlamaCheckpointTest, ErrorMissingShard) {
  HfWriteOptions options;
  options.n_shards = 2;
  testing::write_hf_dir(*checkpoint_, dir("missing-shard"), options);
  std::filesystem::remove(dir("missing-shard") + "/model-00002-of-00002.safetensors");

  const std::string message = load_error(dir("missing-shard"));
  EXPECT_TRUE(contains(message, dir("missing-shard") + "/model-00002-of-00002.safetensors"));
  EXPECT_TRUE(contains(message, dir("missing-shard") + "/model.safetensors.index.json"));
  EXPECT_TRUE(contains(message, "lm_head.weight"));  // the first tensor the index puts in that shard
}

TEST_F(LlamaCheckpointTest, ErrorUnsupportedArchitecture) {
  HfLlamaCheckpoint falcon = copy();
  falcon.config["architectures"] = {"FalconForCausalLM"};
  testing::write_hf_dir(falcon, dir("falcon"));

  const std::string message = load_error(dir("falcon"));
  EXPECT_TRUE(contains(message, "config.json"));
  EXPECT_TRUE(contains(message, "FalconForCausalLM"));
  EXPECT_TRUE(contains(message, "Gemma2ForCausalLM"));
  EXPECT_TRUE(contains(message, "LlamaForCausalLM"));
  EXPECT_TRUE(contains(message, "MistralForCausalLM"));
}

TEST_F(LlamaCheckpointTest, ErrorTruncatedSafetensors) {
  testing::write_hf_dir(*checkpoint_, dir("truncated"));
  const std::string path = dir("truncated") + "/model.safetensors";
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);

  const std::string message = load_error(dir("truncated"));
  EXPECT_TRUE(contains(message, path));
  // The reader names the first tensor, in header order (the builder sorts
  // the header by name), whose data lies past the cut.
  EXPECT_TRUE(contains(message, "lm_head.weight"));
  EXPECT_TRUE(contains(message, "truncated"));
}

TEST_F(LlamaCheckpointTest, ErrorWrongShape) {
  HfLlamaCheckpoint wrong = copy();
  HfTensor* v = wrong.find("model.layers.2.self_attn.v_proj.weight");
  ASSERT_NE(v, nullptr);
  v->shape = {64, 32};  // transposed: [kv_dim 32, hidden 64] is right
  testing::write_hf_dir(wrong, dir("wrong-shape"));

  const std::string message = load_error(dir("wrong-shape"));
  EXPECT_TRUE(contains(message, dir("wrong-shape") + "/model.safetensors"));
  EXPECT_TRUE(contains(message, "model.layers.2.self_attn.v_proj.weight"));
  EXPECT_TRUE(contains(message, "[64, 32]"));
  EXPECT_TRUE(contains(message, "[32, 64]"));
}

TEST_F(LlamaCheckpointTest, ErrorMissingLayerTensor) {
  HfLlamaCheckpoint incomplete = copy();
  std::erase_if(incomplete.tensors, [](const HfTensor& t) { return t.name == "model.layers.4.mlp.up_proj.weight"; });
  ASSERT_EQ(incomplete.tensors.size(), checkpoint_->tensors.size() - 1);
  testing::write_hf_dir(incomplete, dir("missing-tensor"));

  const std::string message = load_error(dir("missing-tensor"));
  EXPECT_TRUE(contains(message, dir("missing-tensor")));
  EXPECT_TRUE(contains(message, "model.layers.4.mlp.up_proj.weight"));
}

TEST_F(LlamaCheckpointTest, ErrorMissingUntiedHead) {
  // config.json sets tie_word_embeddings to false, so the head must be stored.
  HfLlamaCheckpoint untied = copy();
  std::erase_if(untied.tensors, [](const HfTensor& t) { return t.name == "lm_head.weight"; });
  testing::write_hf_dir(untied, dir("missing-head"));

  const std::string message = load_error(dir("missing-head"));
  EXPECT_TRUE(contains(message, dir("missing-head")));
  EXPECT_TRUE(contains(message, "lm_head.weight"));
  EXPECT_TRUE(contains(message, "tie_word_embeddings"));
}

TEST_F(LlamaCheckpointTest, ErrorUnknownTensor) {
  HfLlamaCheckpoint extra = copy();
  HfTensor bias;
  bias.name = "model.layers.1.self_attn.q_proj.bias";
  bias.gguf_name = "blk.1.attn_q.bias";
  bias.shape = {64};
  bias.values.assign(64, 0.5f);
  extra.tensors.push_back(bias);
  testing::write_hf_dir(extra, dir("extra-tensor"));

  const std::string message = load_error(dir("extra-tensor"));
  EXPECT_TRUE(contains(message, dir("extra-tensor") + "/model.safetensors"));
  EXPECT_TRUE(contains(message, "model.layers.1.self_attn.q_proj.bias"));
}

TEST_F(LlamaCheckpointTest, CliRunMatchesGguf) {
  const std::string arguments = " --prompt-ids " + join_ids(prompt_ids()) + " -n 16 --temp 0 -t 2";
  const auto from_dir = testing::run_edgelm("run -m " + testing::shell_quote(dir("stories260K")) + arguments);
  const auto from_gguf = testing::run_edgelm("run -m " + testing::shell_quote(stories_path()) + arguments);
  ASSERT_EQ(from_dir.exit_code, 0) << from_dir.err;
  ASSERT_EQ(from_gguf.exit_code, 0) << from_gguf.err;
  EXPECT_FALSE(from_gguf.out.empty());
  EXPECT_EQ(from_dir.out, from_gguf.out);
}

}  // namespace
}  // namespace edgelm
