// Quantization quality: edgelm's quantized files against llama.cpp's files of
// the same type, both measured against the F32 model's distributions.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "eval/divergence.h"
#include "model/context.h"
#include "model/model.h"
#include "quant/quantize_model.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

struct QualityCase {
  std::string preset;   // edgelm quantize type
  std::string fixture;  // llama.cpp's file of that type
};

std::ostream& operator<<(std::ostream& os, const QualityCase& c) { return os << c.preset; }

// The teacher-forced paths of the F32 model's expected files: every prompt
// followed by its greedy continuation.
std::vector<std::vector<int32_t>> evaluation_paths() {
  std::vector<std::vector<int32_t>> paths;
  for (const char* prompt : {"chat-turn", "digits-unicode", "life", "long-window", "whitespace"}) {
    paths.push_back(testing::load_expected(std::string("tiny-gemma2-f32__") + prompt).path());
  }
  return paths;
}

// Mean KL divergence and top-1 agreement of `model` against `base` over the paths.
DivergenceStats measure(const Model& base, const Model& model, const std::vector<std::vector<int32_t>>& paths,
                        ThreadPool& pool) {
  const size_t n_vocab = base.hparams().n_vocab;
  DivergenceStats stats;
  for (const auto& path : paths) {
    Context base_context(base, 2048, pool);
    const float* base_logits = base_context.eval(path.data(), path.size(), LogitsMode::kAll);
    std::vector<float> base_copy(base_logits, base_logits + path.size() * n_vocab);

    Context context(model, 2048, pool);
    const float* logits = context.eval(path.data(), path.size(), LogitsMode::kAll);
    for (size_t i = 0; i < path.size(); ++i) stats.add(base_copy.data() + i * n_vocab, logits + i * n_vocab, n_vocab);
  }
  return stats;
}

class QuantQualityTest : public ::testing::TestWithParam<QualityCase> {};

// Our file may be at most 10% worse in mean KL and 1 point worse in top-1
// agreement than llama.cpp's file of the same type.
TEST_P(QuantQualityTest, NoWorseThanLlamaCpp) {
  const QualityCase& c = GetParam();
  const std::string dir = testing::fixtures_dir();
  std::string output = ::testing::TempDir() + "edgelm_quality_" + c.preset + ".gguf";

  QuantizeRequest request;
  request.input_path = dir + "/tiny-gemma2-f32.gguf";
  request.output_path = output;
  request.preset_name = c.preset;
  request.threads = 2;
  request.show_progress = false;
  quantize_model(request);

  ThreadPool pool(2);
  auto base = Model::load(dir + "/tiny-gemma2-f32.gguf");
  auto ours = Model::load(output);
  auto theirs = Model::load(dir + "/" + c.fixture);
  auto paths = evaluation_paths();

  DivergenceStats our_stats = measure(*base, *ours, paths, pool);
  DivergenceStats their_stats = measure(*base, *theirs, paths, pool);
  std::printf("[quality] %-7s positions %zu  KL edgelm %.6f llama.cpp %.6f  same top-1 edgelm %.4f llama.cpp %.4f\n",
              c.preset.c_str(), our_stats.positions, our_stats.mean_kl(), their_stats.mean_kl(),
              our_stats.same_top1_rate(), their_stats.same_top1_rate());

  EXPECT_LE(our_stats.mean_kl(), 1.1 * their_stats.mean_kl() + 1e-9);
  EXPECT_GE(our_stats.same_top1_rate(), their_stats.same_top1_rate() - 0.01);
  std::filesystem::remove(output);
}

INSTANTIATE_TEST_SUITE_P(Presets, QuantQualityTest,
                         ::testing::Values(QualityCase{"q8_0", "tiny-gemma2-q8_0.gguf"},
                                           QualityCase{"q6_k", "tiny-gemma2-q6_k.gguf"},
                                           QualityCase{"q5_k_m", "tiny-gemma2-q5_k_m.gguf"},
                                           QualityCase{"q4_k_m", "tiny-gemma2-q4_k_m.gguf"},
                                           QualityCase{"q4_0", "tiny-gemma2-q4_0.gguf"}),
                         [](const ::testing::TestParamInfo<QualityCase>& info) { return info.param.preset; });

}  // namespace
}  // namespace edgelm
