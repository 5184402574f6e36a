// `edgelm perplexity` run as a user would: text and JSON output, saved base
// distributions and command-line errors.

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include <nlohmann/json.hpp>

#include "quant/temp_dir.h"
#include "support/expected_output.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::fixtures_dir;
using testing::run_edgelm;
using testing::shell_quote;
using testing::TempDir;

constexpr const char* kTextPath = "/usr/share/common-licenses/GPL-3";

// llama-perplexity -c 128 on tiny-gemma2-f32.gguf: running perplexity after 4 windows.
constexpr double kLlamaPplAfterChunk4 = 193.9807;

std::string fixture(const std::string& name) { return shell_quote(fixtures_dir() + "/" + name); }

// Four windows of 128 tokens over the GPL-3 text, on 2 threads.
std::string perplexity_args(const std::string& model_name) {
  return "perplexity -m " + fixture(model_name) + " -f " + shell_quote(kTextPath) + " -c 128 --chunks 4 -t 2";
}

void expect_error(const testing::CommandResult& r, const std::string& expected) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("error: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(expected), std::string::npos) << "expected \"" << expected << "\" in " << r.err;
}

TEST(PerplexityCli, JsonFields) {
  auto r = run_edgelm(perplexity_args("tiny-gemma2-f32.gguf") + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  nlohmann::json json = nlohmann::json::parse(r.out);

  EXPECT_NEAR(json.at("ppl").get<double>(), kLlamaPplAfterChunk4, kLlamaPplAfterChunk4 * 0.005);
  EXPECT_GT(json.at("ppl_stderr").get<double>(), 0.0);
  EXPECT_EQ(json.at("n_tokens").get<uint64_t>(), 9854u);
  EXPECT_EQ(json.at("n_chunks").get<uint32_t>(), 4u);
  EXPECT_EQ(json.at("n_ctx").get<uint32_t>(), 128u);
  EXPECT_EQ(json.at("n_scored").get<uint64_t>(), 4u * 63u);
  ASSERT_EQ(json.at("chunk_ppl").size(), 4u);
  EXPECT_DOUBLE_EQ(json.at("chunk_ppl")[3].get<double>(), json.at("ppl").get<double>());
  EXPECT_FALSE(json.contains("kl_mean"));

  // The progress bar reports on stderr.
  EXPECT_NE(r.err.find("perplexity"), std::string::npos) << r.err;
}

TEST(PerplexityCli, KlBaseJsonAndText) {
  TempDir dir;
  const std::string base = shell_quote(dir.file("f32.logits"));
  auto saved = run_edgelm(perplexity_args("tiny-gemma2-f32.gguf") + " --save-logits " + base);
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  EXPECT_NE(saved.out.find("[1]"), std::string::npos) << saved.out;
  EXPECT_NE(saved.out.find("Final estimate: PPL = 193.9"), std::string::npos) << saved.out;

  auto r = run_edgelm(perplexity_args("tiny-gemma2-q8_0.gguf") + " --kl-base " + base + " --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json json = nlohmann::json::parse(r.out);
  EXPECT_NEAR(json.at("base_ppl").get<double>(), kLlamaPplAfterChunk4, kLlamaPplAfterChunk4 * 0.005);
  EXPECT_GT(json.at("kl_mean").get<double>(), 0.0);
  EXPECT_LT(json.at("kl_mean").get<double>(), 0.0005);
  EXPECT_GT(json.at("kl_mean_stderr").get<double>(), 0.0);
  EXPECT_GE(json.at("kl_max").get<double>(), json.at("kl_mean").get<double>());
  EXPECT_GT(json.at("same_top1").get<double>(), 0.97);
  EXPECT_LE(json.at("same_top1").get<double>(), 1.0);
  EXPECT_GE(json.at("same_top1_stderr").get<double>(), 0.0);
  EXPECT_NEAR(json.at("ppl_ratio").get<double>(), 1.0, 0.01);
  EXPECT_GT(json.at("ppl_ratio_stderr").get<double>(), 0.0);
  EXPECT_NEAR(json.at("ppl_ratio").get<double>(),
              json.at("ppl").get<double>() / json.at("base_ppl").get<double>(), 1e-9);

  auto text = run_edgelm(perplexity_args("tiny-gemma2-q8_0.gguf") + " --kl-base " + base);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  for (const char* line : {"Final estimate: PPL = ", "Mean PPL(base)", "Mean PPL(Q)/PPL(base)", "Mean    KLD:",
                           "Maximum KLD:", "Same top p:"}) {
    EXPECT_NE(text.out.find(line), std::string::npos) << "expected \"" << line << "\" in " << text.out;
  }
}

TEST(PerplexityCli, MmapGivesSamePerplexity) {
  auto read = run_edgelm(perplexity_args("tiny-gemma2-f32.gguf") + " --json");
  auto mapped = run_edgelm(perplexity_args("tiny-gemma2-f32.gguf") + " --json --mmap");
  ASSERT_EQ(read.exit_code, 0) << read.err;
  ASSERT_EQ(mapped.exit_code, 0) << mapped.err;
  EXPECT_EQ(nlohmann::json::parse(read.out).at("ppl"), nlohmann::json::parse(mapped.out).at("ppl"));
}

TEST(PerplexityCli, Errors) {
  expect_error(run_edgelm("perplexity -m " + fixture("tiny-gemma2-f32.gguf") + " -f /nonexistent/text.txt"),
               "/nonexistent/text.txt: opening the text file failed");
  expect_error(run_edgelm("perplexity -m " + fixture("tiny-gemma2-f32.gguf") + " -f " + shell_quote(kTextPath) +
                          " -c 2048"),
               "context size 2048 is larger than the 1024 tokens the model was trained on");
  expect_error(run_edgelm(perplexity_args("tiny-gemma2-f32.gguf") + " --kl-base /nonexistent/base.logits"),
               "/nonexistent/base.logits");

  TempDir dir;
  expect_error(run_edgelm(perplexity_args("tiny-gemma2-f32.gguf") + " --save-logits " +
                          shell_quote(dir.file("missing/base.logits"))),
               "cannot create the logits file");

  auto both = run_edgelm(perplexity_args("tiny-gemma2-f32.gguf") + " --save-logits a --kl-base b");
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.err.find("excludes"), std::string::npos) << both.err;
}

}  // namespace
}  // namespace edgelm
