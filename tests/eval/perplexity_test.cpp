// evaluate_perplexity on the tiny Gemma 2 fixtures over the GPL-3 text,
// checked against llama.cpp's llama-perplexity, and the logits file it saves.

#include "eval/perplexity.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "eval/log_prob_codes.h"
#include "eval/logits_file.h"
#include "quant/temp_dir.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

using testing::fixtures_dir;
using testing::TempDir;

// Debian's copy of the GPL version 3, the text llama-perplexity scored for the reference numbers.
constexpr const char* kTextPath = "/usr/share/common-licenses/GPL-3";

// Output of llama.cpp's llama-perplexity -c 128 on tiny-gemma2-f32.gguf over kTextPath.
constexpr double kLlamaPpl = 223.7329;
constexpr double kLlamaPplError = 9.53387;
constexpr double kLlamaPplAfterChunk1 = 526.2422;
constexpr double kLlamaPplAfterChunk4 = 193.9807;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Expects `fn` to throw an Error whose message contains every part of `parts`.
template <typename Fn>
void expect_error(Fn fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no Error thrown";
  } catch (const Error& e) {
    for (const std::string& part : parts) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "expected \"" << part << "\" in " << e.what();
    }
  }
}

// One F32 run over the whole text saves the base distributions that every
// KL test of the suite reads.
class PerplexityF32 : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    temp_dir_ = new TempDir();
    base_path_ = temp_dir_->file("f32.logits");
    text_ = new std::string(read_text(kTextPath));
    pool_ = new ThreadPool(2);
    model_ = Model::load(fixtures_dir() + "/tiny-gemma2-f32.gguf").release();

    PerplexityOptions options = base_options();
    options.save_logits_path = base_path_;
    result_ = new PerplexityResult(evaluate_perplexity(*model_, *text_, options, *pool_));
  }

  static void TearDownTestSuite() {
    delete result_;
    delete model_;
    delete pool_;
    delete text_;
    delete temp_dir_;
  }

  static PerplexityOptions base_options() {
    PerplexityOptions options;
    options.n_ctx = 128;
    return options;
  }

  static PerplexityResult compare_with_base(const std::string& model_name, int32_t max_chunks = -1) {
    auto model = Model::load(fixtures_dir() + "/" + model_name);
    PerplexityOptions options = base_options();
    options.kl_base_path = base_path_;
    options.max_chunks = max_chunks;
    return evaluate_perplexity(*model, *text_, options, *pool_);
  }

  static inline TempDir* temp_dir_ = nullptr;
  static inline std::string base_path_;
  static inline std::string* text_ = nullptr;
  static inline ThreadPool* pool_ = nullptr;
  static inline Model* model_ = nullptr;
  static inline PerplexityResult* result_ = nullptr;
};

TEST_F(PerplexityF32, MatchesLlamaCpp) {
  const PerplexityResult& r = *result_;
  ASSERT_FALSE(text_->empty()) << kTextPath << " is missing";
  EXPECT_EQ(r.n_chunks, 76u);
  EXPECT_EQ(r.n_tokens, 9854u);
  EXPECT_EQ(r.n_scored, 76u * 63u);
  EXPECT_NEAR(r.ppl.value, kLlamaPpl, kLlamaPpl * 0.005);
  EXPECT_NEAR(r.ppl.error, kLlamaPplError, kLlamaPplError * 0.02);
  EXPECT_FALSE(r.has_kl);

  ASSERT_EQ(r.chunk_ppl.size(), 76u);
  EXPECT_NEAR(r.chunk_ppl[0], kLlamaPplAfterChunk1, kLlamaPplAfterChunk1 * 0.005);
  EXPECT_NEAR(r.chunk_ppl[3], kLlamaPplAfterChunk4, kLlamaPplAfterChunk4 * 0.005);
  EXPECT_DOUBLE_EQ(r.chunk_ppl.back(), r.ppl.value);
}

TEST_F(PerplexityF32, SavedFileShape) {
  LogitsFileReader reader(base_path_);
  EXPECT_EQ(reader.shape().n_ctx, 128u);
  EXPECT_EQ(reader.shape().n_vocab, 8192u);
  EXPECT_EQ(reader.shape().n_chunks, 76u);

  // The stored tokens are the text's, starting with the BOS the tokenizer adds.
  ASSERT_EQ(reader.tokens().size(), 76u * 128u);
  EXPECT_EQ(reader.tokens()[0], 2);
  std::vector<int32_t> tokens = model_->tokenizer().encode(*text_, true, false);
  EXPECT_TRUE(std::equal(reader.tokens().begin(), reader.tokens().end(), tokens.begin()));

  const size_t expected_size = 24 + 76 * 128 * 4 + 76 * 63 * log_prob_record_bytes(8192);
  EXPECT_EQ(std::filesystem::file_size(base_path_), expected_size);
}

TEST_F(PerplexityF32, BaseAgainstItself) {
  // Ten windows are enough here, and the running perplexity after them is known.
  PerplexityResult r = compare_with_base("tiny-gemma2-f32.gguf", 10);
  ASSERT_TRUE(r.has_kl);
  EXPECT_EQ(r.n_chunks, 10u);
  EXPECT_EQ(r.n_scored, 10u * 63u);
  EXPECT_DOUBLE_EQ(r.ppl.value, result_->chunk_ppl[9]);
  EXPECT_NEAR(r.base_ppl.value, r.ppl.value, r.ppl.value * 1e-4);
  EXPECT_LT(r.kl_mean.value, 1e-6);
  EXPECT_LT(r.kl_max, 1e-4);
  EXPECT_GT(r.same_top1.value, 0.999);
  EXPECT_NEAR(r.ln_ppl_ratio.value, 0.0, 1e-4);
  EXPECT_NEAR(r.ppl_ratio.value, 1.0, 1e-4);
}

TEST_F(PerplexityF32, Q8DivergenceMatchesLlamaCpp) {
  PerplexityResult r = compare_with_base("tiny-gemma2-q8_0.gguf");
  ASSERT_TRUE(r.has_kl);
  EXPECT_EQ(r.n_chunks, 76u);
  EXPECT_NEAR(r.kl_mean.value, 0.000088, 0.000088 * 0.1);
  EXPECT_GT(r.kl_mean.error, 0.0);
  EXPECT_GE(r.kl_max, r.kl_mean.value);
  EXPECT_NEAR(r.same_top1.value, 0.99290, 0.005);
  EXPECT_NEAR(r.same_top1.error, 0.00121, 0.0005);
  EXPECT_NEAR(r.ppl_ratio.value, 1.000002, 0.001);
  EXPECT_NEAR(r.base_ppl.value, result_->ppl.value, result_->ppl.value * 1e-4);
}

TEST_F(PerplexityF32, Q4KmDivergenceMatchesLlamaCpp) {
  PerplexityResult r = compare_with_base("tiny-gemma2-q4_k_m.gguf");
  ASSERT_TRUE(r.has_kl);
  EXPECT_NEAR(r.kl_mean.value, 0.002096, 0.002096 * 0.1);
  EXPECT_NEAR(r.kl_mean.error, 0.000029, 0.00001);
  EXPECT_NEAR(r.same_top1.value, 0.95948, 0.01);
  EXPECT_NEAR(r.ppl.value, 224.381510, 224.381510 * 0.005);
  EXPECT_NEAR(r.ppl_ratio.value, 1.002899, 0.002);
  EXPECT_NEAR(r.ppl_ratio.error, r.ppl_ratio.value * r.ln_ppl_ratio.error, 1e-12);
}

TEST_F(PerplexityF32, TextTooShort) {
  expect_error([] { evaluate_perplexity(*model_, "Hello world.", base_options(), *pool_); },
               {"has 4 tokens", "needs at least 256"});
}

TEST_F(PerplexityF32, ContextLargerThanTrained) {
  PerplexityOptions options = base_options();
  options.n_ctx = 2048;
  expect_error([&] { evaluate_perplexity(*model_, *text_, options, *pool_); }, {"2048", "trained on", "1024"});
}

TEST_F(PerplexityF32, SaveAndBaseTogether) {
  PerplexityOptions options = base_options();
  options.kl_base_path = base_path_;
  options.save_logits_path = temp_dir_->file("other.logits");
  expect_error([&] { evaluate_perplexity(*model_, *text_, options, *pool_); }, {"--save-logits", "--kl-base"});
}

TEST_F(PerplexityF32, BaseWithOtherContextSize) {
  PerplexityOptions options = base_options();
  options.n_ctx = 64;
  options.kl_base_path = base_path_;
  expect_error([&] { evaluate_perplexity(*model_, *text_, options, *pool_); },
               {base_path_, "context size 128", "uses 64"});
}

TEST_F(PerplexityF32, BaseFromOtherText) {
  PerplexityOptions options = base_options();
  options.kl_base_path = base_path_;
  std::string other = "Preamble. " + *text_;
  expect_error([&] { evaluate_perplexity(*model_, other, options, *pool_); }, {base_path_, "another text", "token 1"});
}

TEST_F(PerplexityF32, BaseWithOtherVocabulary) {
  auto stories = Model::load(fixtures_dir() + "/stories260K.gguf");
  PerplexityOptions options = base_options();
  options.kl_base_path = base_path_;
  expect_error([&] { evaluate_perplexity(*stories, *text_, options, *pool_); },
               {base_path_, "vocabulary of 8192", "has 512"});
}

TEST_F(PerplexityF32, TruncatedBase) {
  const std::string truncated = temp_dir_->file("truncated.logits");
  std::filesystem::copy_file(base_path_, truncated);
  const uint64_t size = std::filesystem::file_size(truncated);
  std::filesystem::resize_file(truncated, size - 1000);

  PerplexityOptions options = base_options();
  options.kl_base_path = truncated;
  expect_error([&] { evaluate_perplexity(*model_, *text_, options, *pool_); },
               {truncated, std::to_string(size - 1000) + " bytes", "needs " + std::to_string(size), "truncated"});
}

TEST_F(PerplexityF32, BaseWithWrongMagic) {
  const std::string other = temp_dir_->file("llama.logits");
  std::ofstream(other, std::ios::binary) << "_logits_" << std::string(100, '\0');

  PerplexityOptions options = base_options();
  options.kl_base_path = other;
  expect_error([&] { evaluate_perplexity(*model_, *text_, options, *pool_); }, {other, "not an edgelm logits file"});
}

TEST(LogProbCodes, RoundTrip) {
  // Entry 3 is more than 16 below the maximum, so it falls to the floor code.
  const std::vector<float> logits = {0.5f, 2.0f, -3.25f, -40.0f, 1.0f};
  std::vector<uint8_t> record(log_prob_record_bytes(logits.size()));
  ASSERT_EQ(record.size(), 8u + 6u * 2u);

  double log_sum = 0.0;
  for (float x : logits) log_sum += std::exp(static_cast<double>(x));
  const double log_normalizer = std::log(log_sum);

  const double nll = encode_log_probs(logits.data(), logits.size(), 2, record.data());
  EXPECT_NEAR(nll, log_normalizer + 3.25, 1e-6);

  float scale = 0.0f;
  float min_log_prob = 0.0f;
  std::memcpy(&scale, record.data(), 4);
  std::memcpy(&min_log_prob, record.data() + 4, 4);
  EXPECT_FLOAT_EQ(scale, 16.0f / 65535.0f);
  EXPECT_NEAR(min_log_prob, 2.0 - 16.0 - log_normalizer, 1e-5);

  for (size_t i = 0; i < logits.size(); ++i) {
    uint16_t code = 0;
    std::memcpy(&code, record.data() + 8 + 2 * i, 2);
    if (i == 3) {
      EXPECT_EQ(code, 0);
    } else {
      EXPECT_NEAR(scale * code + min_log_prob, logits[i] - log_normalizer, scale);
    }
  }

  BaseComparison same = compare_with_base(logits.data(), logits.size(), 2, record.data());
  EXPECT_NEAR(same.nll, nll, 1e-9);
  EXPECT_NEAR(same.nll_base, nll, scale);
  EXPECT_LT(same.kl, 1e-7);
  EXPECT_TRUE(same.same_top1);

  // Another top token: KL(base || other) as computed directly.
  const std::vector<float> other = {3.0f, 2.0f, -3.25f, -40.0f, 1.0f};
  BaseComparison changed = compare_with_base(other.data(), other.size(), 2, record.data());
  EXPECT_FALSE(changed.same_top1);
  double other_sum = 0.0;
  for (float x : other) other_sum += std::exp(static_cast<double>(x));
  double expected_kl = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    if (i == 3) continue;  // below the -16 floor
    const double log_p = logits[i] - log_normalizer;
    expected_kl += std::exp(log_p) * (log_p - (other[i] - std::log(other_sum)));
  }
  EXPECT_NEAR(changed.kl, expected_kl, 1e-3);
}

TEST(LogitsFile, WriteAndRead) {
  TempDir dir;
  const std::string path = dir.file("small.logits");
  // n_ctx 4 scores one position per window; a vocabulary of 3 pads each record to 16 bytes.
  const LogitsFileShape shape{4, 3, 2};
  const std::vector<int32_t> tokens = {2, 0, 1, 2, 1, 1, 0, 2};
  std::vector<uint8_t> first(16), second(16);
  for (size_t i = 0; i < 16; ++i) {
    first[i] = static_cast<uint8_t>(i);
    second[i] = static_cast<uint8_t>(100 + i);
  }

  LogitsFileWriter writer(path, shape, tokens);
  writer.write_chunk(first);
  writer.write_chunk(second);
  writer.finish();
  EXPECT_EQ(std::filesystem::file_size(path), 24u + 8u * 4u + 2u * 16u);

  LogitsFileReader reader(path);
  EXPECT_EQ(reader.shape().n_ctx, 4u);
  EXPECT_EQ(reader.shape().n_vocab, 3u);
  EXPECT_EQ(reader.shape().n_chunks, 2u);
  EXPECT_EQ(reader.tokens(), tokens);
  EXPECT_EQ(std::memcmp(reader.record(0, 0), first.data(), 16), 0);
  EXPECT_EQ(std::memcmp(reader.record(1, 0), second.data(), 16), 0);
  expect_error([&] { reader.record(2, 0); }, {"out of range"});
  expect_error([&] { reader.record(0, 1); }, {"out of range"});
}

TEST(LogitsFile, UnfinishedWriteLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.file("partial.logits");
  {
    LogitsFileWriter writer(path, LogitsFileShape{4, 3, 2}, std::vector<int32_t>(8, 0));
    writer.write_chunk(std::vector<uint8_t>(16));
    expect_error([&] { writer.finish(); }, {"only 1 of 2 windows"});
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST(LogitsFile, TokenOutsideVocabulary) {
  TempDir dir;
  const std::string path = dir.file("bad-token.logits");
  LogitsFileWriter writer(path, LogitsFileShape{4, 3, 1}, std::vector<int32_t>{0, 1, 3, 2});
  writer.write_chunk(std::vector<uint8_t>(16));
  writer.finish();
  expect_error([&] { LogitsFileReader reader(path); }, {path, "token 3 at position 2", "vocabulary of 3"});
}

}  // namespace
}  // namespace edgelm
