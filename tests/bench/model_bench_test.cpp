// run_model_bench on the tiny Gemma 2 fixture: the report's figures agree with each other.

#include "bench/model_bench.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "bench/decode_traffic.h"
#include "core/error.h"
#include "gguf/gguf_file.h"
#include "kv/kv_cache.h"
#include "model/hparams.h"

namespace edgelm {
namespace {

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

BenchSettings tiny_settings() {
  BenchSettings settings;
  settings.model_path = fixture("tiny-gemma2-q8_0.gguf");
  settings.n_prompt = 8;
  settings.n_gen = 4;
  settings.repetitions = 3;
  settings.n_threads = 2;
  settings.bandwidth_buffer_bytes = uint64_t{4} << 20;
  settings.bandwidth_passes = 2;
  return settings;
}

TEST(ModelBench, ReportIsConsistent) {
  const BenchReport report = run_model_bench(tiny_settings());
  auto file = GgufFile::open(fixture("tiny-gemma2-q8_0.gguf"));
  const HParams hp = HParams::from_gguf(*file);

  EXPECT_EQ(report.architecture, "gemma2");
  EXPECT_EQ(report.n_threads, 2u);
  EXPECT_EQ(report.file_bytes, std::filesystem::file_size(fixture("tiny-gemma2-q8_0.gguf")));
  EXPECT_EQ(report.weights_bytes, 7267328u);
  EXPECT_GT(report.load_s, 0.0);

  ASSERT_TRUE(report.prefill.has_value());
  ASSERT_TRUE(report.decode.has_value());
  EXPECT_EQ(report.prefill->n_tokens, 8u);
  EXPECT_EQ(report.decode->n_tokens, 4u);
  EXPECT_EQ(report.prefill->samples_tok_s.size(), 3u);
  EXPECT_EQ(report.decode->samples_tok_s.size(), 3u);
  EXPECT_GT(report.prefill->tok_s.min, 0.0);
  EXPECT_GT(report.decode->tok_s.min, 0.0);

  EXPECT_EQ(report.kv_bytes, KvCache(hp, 12).total_bytes());
  EXPECT_EQ(report.weight_bytes_per_token, decode_weight_bytes(*file));
  EXPECT_EQ(report.kv_read_bytes_per_token, decode_kv_bytes(KvCache(hp, 12), 4));
  EXPECT_EQ(report.bytes_per_token, report.weight_bytes_per_token + report.kv_read_bytes_per_token);

  EXPECT_EQ(report.bandwidth.n_threads, 2u);
  EXPECT_EQ(report.bandwidth.pass_gb_per_s.size(), 2u);
  EXPECT_EQ(report.roofline_tok_s, report.bandwidth.best_gb_per_s * 1e9 / static_cast<double>(report.bytes_per_token));
  ASSERT_TRUE(report.roofline_fraction.has_value());
  EXPECT_EQ(*report.roofline_fraction, report.decode->tok_s.median / report.roofline_tok_s);
}

TEST(ModelBench, ZeroPromptSkipsPrefill) {
  BenchSettings settings = tiny_settings();
  settings.n_prompt = 0;
  settings.repetitions = 1;
  const BenchReport report = run_model_bench(settings);
  EXPECT_FALSE(report.prefill.has_value());
  ASSERT_TRUE(report.decode.has_value());
  EXPECT_EQ(report.decode->samples_tok_s.size(), 1u);
  EXPECT_TRUE(report.roofline_fraction.has_value());
}

TEST(ModelBench, ZeroDecodeHasNoRooflineFraction) {
  BenchSettings settings = tiny_settings();
  settings.n_gen = 0;
  settings.repetitions = 1;
  const BenchReport report = run_model_bench(settings);
  ASSERT_TRUE(report.prefill.has_value());
  EXPECT_FALSE(report.decode.has_value());
  EXPECT_FALSE(report.roofline_fraction.has_value());
  EXPECT_EQ(report.kv_read_bytes_per_token, 0u);
  EXPECT_GT(report.roofline_tok_s, 0.0);
}

TEST(ModelBench, InvalidSettingsThrow) {
  BenchSettings empty = tiny_settings();
  empty.n_prompt = 0;
  empty.n_gen = 0;
  EXPECT_THROW(run_model_bench(empty), Error);

  BenchSettings no_repetitions = tiny_settings();
  no_repetitions.repetitions = 0;
  EXPECT_THROW(run_model_bench(no_repetitions), Error);

  BenchSettings missing = tiny_settings();
  missing.model_path = fixture("no-such-model.gguf");
  EXPECT_THROW(run_model_bench(missing), Error);
}

TEST(ModelBench, RooflineFormula) {
  EXPECT_EQ(roofline_tokens_per_second(10.0, 2'000'000'000), 5.0);
  EXPECT_THROW(roofline_tokens_per_second(10.0, 0), Error);
}

TEST(ModelBench, DirectoryBytesAreSafetensors) {
  const std::string dir = fixture("tiny-gemma2");
  EXPECT_EQ(model_file_bytes(dir), std::filesystem::file_size(dir + "/model.safetensors"));
}

}  // namespace
}  // namespace edgelm
