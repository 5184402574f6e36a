#include "model/batch_forward.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "core/error.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

const Model& model_for(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Model>> models;
  auto& model = models[name];
  if (!model) model = Model::load(testing::fixtures_dir() + "/" + name);
  return *model;
}

std::vector<int32_t> tokens_of(const Model& model, const std::string& text) {
  return model.tokenizer().encode(text, true, false);
}

// Logits of the last token of `prompt` evaluated alone, in chunks of `chunk`.
std::vector<float> alone(const Model& model, const std::vector<int32_t>& prompt, uint32_t chunk, ThreadPool& pool) {
  Sequence sequence(model.hparams(), 256);
  BatchForward forward(model, pool, chunk);
  const float* logits = nullptr;
  for (size_t start = 0; start < prompt.size(); start += chunk) {
    size_t n = std::min<size_t>(chunk, prompt.size() - start);
    BatchSegment segment{&sequence, prompt.data() + start, n, LogitsMode::kLast};
    logits = forward.eval({&segment, 1});
  }
  const size_t n_vocab = model.hparams().n_vocab;
  return std::vector<float>(logits, logits + n_vocab);
}

class BatchForwardTest : public ::testing::TestWithParam<std::string> {};

// Three sequences prefilled together, then decoded together, give the same
// logits bit for bit as each one evaluated alone.
TEST_P(BatchForwardTest, RowsDoNotDependOnTheBatch) {
  const Model& model = model_for(GetParam());
  ThreadPool pool(2);
  std::vector<std::vector<int32_t>> prompts = {
      tokens_of(model, "The quick brown fox jumps over the lazy dog and keeps running far away"),
      tokens_of(model, "Once upon a time"),
      tokens_of(model, "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34"),
  };
  const size_t n_vocab = model.hparams().n_vocab;

  std::vector<std::unique_ptr<Sequence>> sequences;
  BatchForward forward(model, pool, 128);
  std::vector<BatchSegment> segments;
  for (auto& prompt : prompts) {
    sequences.push_back(std::make_unique<Sequence>(model.hparams(), 256));
    segments.push_back(BatchSegment{sequences.back().get(), prompt.data(), prompt.size(), LogitsMode::kLast});
  }
  const float* batched = forward.eval(segments);
  for (size_t s = 0; s < prompts.size(); ++s) {
    std::vector<float> expected = alone(model, prompts[s], 7, pool);
    EXPECT_EQ(0, std::memcmp(expected.data(), batched + s * n_vocab, n_vocab * sizeof(float))) << "sequence " << s;
  }

  // One decode step for all three, against each sequence extended alone.
  std::vector<int32_t> next = {5, 6, 7};
  std::vector<BatchSegment> step;
  for (size_t s = 0; s < prompts.size(); ++s) step.push_back(BatchSegment{sequences[s].get(), &next[s], 1, LogitsMode::kLast});
  const float* decoded = forward.eval(step);
  for (size_t s = 0; s < prompts.size(); ++s) {
    EXPECT_EQ(sequences[s]->n_past(), prompts[s].size() + 1);
    std::vector<int32_t> extended = prompts[s];
    extended.push_back(next[s]);
    std::vector<float> expected = alone(model, extended, 64, pool);
    EXPECT_EQ(0, std::memcmp(expected.data(), decoded + s * n_vocab, n_vocab * sizeof(float))) << "sequence " << s;
  }
}

INSTANTIATE_TEST_SUITE_P(Models, BatchForwardTest,
                         ::testing::Values("tiny-gemma2-f32.gguf", "tiny-gemma2-q8_0.gguf", "tiny-gemma2-q4_k_m.gguf"),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
                           return name;
                         });

TEST(BatchForward, RejectsTwoSegmentsOfOneSequence) {
  const Model& model = model_for("tiny-gemma2-f32.gguf");
  ThreadPool pool(1);
  Sequence sequence(model.hparams(), 64);
  BatchForward forward(model, pool, 16);
  int32_t tokens[2] = {2, 3};
  BatchSegment segments[2] = {{&sequence, tokens, 1, LogitsMode::kLast}, {&sequence, tokens + 1, 1, LogitsMode::kLast}};
  EXPECT_THROW(forward.eval(segments), Error);
  EXPECT_EQ(sequence.n_past(), 0u);
}

TEST(BatchForward, RejectsMoreRowsThanItsSize) {
  const Model& model = model_for("tiny-gemma2-f32.gguf");
  ThreadPool pool(1);
  Sequence sequence(model.hparams(), 64);
  BatchForward forward(model, pool, 4);
  std::vector<int32_t> tokens(5, 2);
  BatchSegment segment{&sequence, tokens.data(), tokens.size(), LogitsMode::kLast};
  try {
    forward.eval({&segment, 1});
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("5 tokens exceeds the batch size of 4"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace edgelm
