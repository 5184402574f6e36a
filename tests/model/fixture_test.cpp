// Compares edgelm's logits with llama.cpp's and with a float64 reference on
// every fixture model, teacher-forced along llama.cpp's path.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <memory>

#include "kernels/matvec.h"
#include "model/context.h"
#include "model/model.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

using testing::ExpectedOutput;
using testing::load_expected;

struct FixtureCase {
  std::string expected;  // expected/<name>.json
  float tolerance;       // on logits against llama.cpp
  std::string model;     // fixture to run instead of the expected file's model
};

std::ostream& operator<<(std::ostream& os, const FixtureCase& c) {
  return os << c.expected << (c.model.empty() ? "" : " on " + c.model);
}

std::vector<FixtureCase> all_cases() {
  std::vector<FixtureCase> cases;
  const std::vector<std::string> prompts = {"chat-turn", "digits-unicode", "life", "long-window", "whitespace"};
  const std::vector<std::pair<std::string, float>> models = {
      {"tiny-gemma2-f32", 2e-2f},      {"tiny-gemma2-bf16", 3e-2f},    {"tiny-gemma2-q8_0", 1e-1f},
      {"tiny-gemma2-hot-f32", 5e-2f},  {"tiny-gemma2-q6_k", 1.5e-1f},  {"tiny-gemma2-q5_k_m", 1.5e-1f},
      {"tiny-gemma2-q4_k_m", 1.5e-1f}, {"tiny-gemma2-q4_0", 1.5e-1f}};
  for (const auto& [model, tolerance] : models) {
    for (const auto& prompt : prompts) cases.push_back({model + "__" + prompt, tolerance});
  }
  // The Hugging Face directory the bf16 file was converted from, read directly.
  for (const auto& prompt : prompts) cases.push_back({"tiny-gemma2-bf16__" + prompt, 3e-2f, "tiny-gemma2"});
  // On stories260K llama.cpp itself is up to 0.115 away from a float64
  // recomputation (tests/tools/float64_reference_llama.py), which edgelm
  // matches within 1e-3, so the comparison with llama.cpp gets that margin.
  cases.push_back({"stories260K__ids-a", 1.2e-1f});
  return cases;
}

// Models are loaded once per file for the whole suite.
const Model& cached_model(const std::string& file) {
  static std::map<std::string, std::unique_ptr<Model>> models;
  auto& slot = models[file];
  if (!slot) slot = Model::load(testing::fixtures_dir() + "/" + file);
  return *slot;
}

ThreadPool& test_pool() {
  static ThreadPool pool(2);
  return pool;
}

class FixtureTest : public ::testing::TestWithParam<FixtureCase> {
 protected:
  void SetUp() override {
    expected_ = load_expected(GetParam().expected);
    if (expected_.exact_path_top.empty()) {
      std::ifstream extra(std::string(EDGELM_SOURCE_DIR) + "/tests/data/" + GetParam().expected + ".float64.json");
      if (extra) expected_.exact_path_top = testing::parse_top_rows(nlohmann::json::parse(extra).at("exact_path_top"));
    }
    model_ = &cached_model(GetParam().model.empty() ? expected_.model : GetParam().model);
    n_vocab_ = model_->hparams().n_vocab;
  }

  // Logits of every position of llama.cpp's path, evaluated as one batch.
  std::vector<float> batched_logits(uint32_t max_batch = 64) {
    std::vector<int32_t> path = expected_.path();
    Context context(*model_, 2048, test_pool(), max_batch);
    const float* logits = context.eval(path.data(), path.size(), LogitsMode::kAll);
    return std::vector<float>(logits, logits + path.size() * n_vocab_);
  }

  ExpectedOutput expected_;
  const Model* model_ = nullptr;
  size_t n_vocab_ = 0;
};

TEST_P(FixtureTest, PromptIdsMatch) {
  if (expected_.raw_ids) GTEST_SKIP() << "prompt given as ids";
  std::vector<int32_t> ids = model_->tokenizer().encode(expected_.prompt, true, true);
  EXPECT_EQ(ids, expected_.prompt_ids);
}

TEST_P(FixtureTest, LogitsMatchLlamaCpp) {
  const float tolerance = GetParam().tolerance;
  std::vector<float> logits = batched_logits();
  std::vector<int32_t> path = expected_.path();

  int near_ties = 0;
  for (size_t i = 0; i < path.size(); ++i) {
    const float* row = logits.data() + i * n_vocab_;
    const auto& ref = expected_.reference_row(i);

    int32_t top1 = static_cast<int32_t>(std::max_element(row, row + n_vocab_) - row);
    bool near_tie = ref[0].second - ref[1].second < tolerance;
    near_ties += near_tie ? 1 : 0;
    if (!near_tie) EXPECT_EQ(top1, ref[0].first) << "row " << i;

    for (size_t r = 0; r < 4; ++r) {
      auto [id, value] = ref[r];
      EXPECT_NEAR(row[id], value, tolerance) << "row " << i << " token " << id;
    }
  }
  RecordProperty("near_ties", near_ties);
}

TEST_P(FixtureTest, LogitsMatchFloat64Reference) {
  if (expected_.exact_path_top.empty()) GTEST_SKIP() << "no float64 reference for this file";
  std::vector<float> logits = batched_logits();
  ASSERT_EQ(expected_.exact_path_top.size(), expected_.path().size());

  float max_error = 0.0f;
  for (size_t i = 0; i < expected_.exact_path_top.size(); ++i) {
    const float* row = logits.data() + i * n_vocab_;
    for (auto [id, value] : expected_.exact_path_top[i]) {
      EXPECT_NEAR(row[id], value, 1e-3f) << "row " << i << " token " << id;
      max_error = std::max(max_error, std::fabs(row[id] - value));
    }
  }
  RecordProperty("max_error", std::to_string(max_error));
}

// Decoding one token at a time through the KV cache gives the batched logits.
// The long prompt crosses the tiny Gemma 2's sliding window several times.
TEST_P(FixtureTest, DecodeMatchesBatch) {
  std::vector<float> batched = batched_logits(/*max_batch=*/64);
  std::vector<int32_t> path = expected_.path();

  Context context(*model_, 2048, test_pool());
  for (size_t i = 0; i < path.size(); ++i) {
    const float* row = context.eval(&path[i], 1, LogitsMode::kLast);
    for (size_t v = 0; v < n_vocab_; ++v) {
      ASSERT_NEAR(row[v], batched[i * n_vocab_ + v], 1e-4f) << "position " << i << " token " << v;
    }
  }
}

// Chunk boundaries must not change the logits either.
TEST_P(FixtureTest, ChunkSizeDoesNotMatter) {
  std::vector<float> whole = batched_logits(/*max_batch=*/512);
  std::vector<float> chunked = batched_logits(/*max_batch=*/7);
  ASSERT_EQ(whole.size(), chunked.size());
  for (size_t i = 0; i < whole.size(); ++i) ASSERT_NEAR(whole[i], chunked[i], 1e-4f) << "index " << i;
}

INSTANTIATE_TEST_SUITE_P(Fixtures, FixtureTest, ::testing::ValuesIn(all_cases()),
                         [](const ::testing::TestParamInfo<FixtureCase>& info) {
                           std::string name = info.param.expected;
                           if (!info.param.model.empty()) name = info.param.model + "_dir__" + name;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace edgelm

namespace edgelm {
namespace {

// The whole model on every instruction set this CPU has, against float64.
TEST(FixtureIsa, EveryIsaMatchesFloat64) {
  auto expected = testing::load_expected("tiny-gemma2-f32__long-window");
  const Model& model = cached_model(expected.model);
  const size_t n_vocab = model.hparams().n_vocab;
  std::vector<int32_t> path = expected.path();

  for (const std::string& isa : available_isas()) {
    set_max_isa(isa);
    Context context(model, 2048, test_pool());
    const float* logits = context.eval(path.data(), path.size(), LogitsMode::kAll);
    for (size_t i = 0; i < path.size(); ++i) {
      for (auto [id, value] : expected.exact_path_top[i]) {
        ASSERT_NEAR(logits[i * n_vocab + id], value, 1e-3f) << isa << " row " << i << " token " << id;
      }
    }
  }
  set_max_isa("auto");
}

}  // namespace
}  // namespace edgelm
