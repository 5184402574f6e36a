// The edgelm command line contract, exercised through the real binary.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "gguf/gguf_builder.h"
#include "support/expected_output.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::fixtures_dir;
using testing::run_edgelm;
using testing::shell_quote;

std::string fixture(const std::string& name) { return shell_quote(fixtures_dir() + "/" + name); }
std::string demo_model() { return shell_quote(std::string(EDGELM_SOURCE_DIR) + "/models/tiny-gemma2-q8_0.gguf"); }

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

TEST(Cli, TokenizePrintsPromptIds) {
  auto expected = testing::load_expected("tiny-gemma2-q8_0__chat-turn");
  auto r = run_edgelm("tokenize -m " + fixture("tiny-gemma2-q8_0.gguf") + " -p " + shell_quote(expected.prompt));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(nlohmann::json::parse(r.out).get<std::vector<int32_t>>(), expected.prompt_ids);
}

TEST(Cli, RunGreedyWritesOnlyTextToStdout) {
  auto expected = testing::load_expected("tiny-gemma2-q8_0__life");
  auto r = run_edgelm("run -m " + demo_model() + " -p " + shell_quote(expected.prompt) + " -n 12 --temp 0 -t 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.find("tok/s"), std::string::npos) << "speed must go to stderr";
  EXPECT_NE(r.err.find("tok/s"), std::string::npos) << r.err;
}

TEST(Cli, RunPromptIdsMatchesLlamaCppGreedy) {
  // stories260K has no real vocabulary, so compare the first greedy ids via --prompt-ids and logits.
  auto expected = testing::load_expected("stories260K__ids-a");
  auto r = run_edgelm("logits -m " + fixture("stories260K.gguf") + " --prompt-ids " + join_ids(expected.prompt_ids) +
                      " --top 3");
  ASSERT_EQ(r.exit_code, 0) << r.err;

  std::istringstream lines(r.out);
  std::string line;
  size_t pos = 0;
  while (std::getline(lines, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["pos"].get<size_t>(), pos);
    ASSERT_EQ(j["top"].size(), 3u);
    EXPECT_GE(j["top"][0][1].get<float>(), j["top"][1][1].get<float>());
    EXPECT_EQ(j["top"][0][0].get<int32_t>(), expected.prompt_top[pos][0].first) << "pos " << pos;
    ++pos;
  }
  EXPECT_EQ(pos, expected.prompt_ids.size());
}

// An error is one "error: ..." line, the last on stderr, and nothing on stdout.
// Info lines about the loaded model may come before it.
void expect_one_error_line(const testing::CommandResult& r) {
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;

  std::vector<std::string> lines;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back().rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count_if(lines.begin(), lines.end(), [](const std::string& l) { return l.find("error") != std::string::npos; }), 1)
      << r.err;
}

TEST(Cli, UnsupportedArchitectureIsRejected) {
  testing::GgufBuilder b;
  b.kv_string("general.architecture", "mamba");
  std::vector<uint8_t> bytes = b.build();
  std::string path = ::testing::TempDir() + "mamba.gguf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());

  auto r = run_edgelm("run -m " + shell_quote(path) + " -p hi");
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("'mamba'"), std::string::npos) << r.err;
  std::remove(path.c_str());
}

TEST(Cli, TruncatedFileIsRejected) {
  std::string source = fixtures_dir() + "/stories260K.gguf";
  std::ifstream in(source, std::ios::binary);
  std::vector<char> head(600000);
  in.read(head.data(), head.size());
  std::string path = ::testing::TempDir() + "truncated.gguf";
  std::ofstream(path, std::ios::binary).write(head.data(), in.gcount());

  auto r = run_edgelm("run -m " + shell_quote(path) + " -p hi");
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("truncated.gguf"), std::string::npos) << r.err;
  std::remove(path.c_str());
}

TEST(Cli, MissingFileIsOneClearError) {
  auto r = run_edgelm("run -m /nonexistent/model.gguf -p hi");
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("error:"), std::string::npos) << r.err;
}

TEST(Cli, NonGgufFileIsRejected) {
  std::string path = ::testing::TempDir() + "not_a_model.gguf";
  std::ofstream(path) << "this is plain text, not a model file\n";
  auto r = run_edgelm("run -m " + shell_quote(path) + " -p hi");
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("GGUF"), std::string::npos) << r.err;
  std::remove(path.c_str());
}

TEST(Cli, UnsupportedTensorTypeNamesTensor) {
  // A Gemma 2 header whose embedding uses IQ2_XXS, a type edgelm does not compute.
  testing::GgufBuilder b;
  b.kv_string("general.architecture", "gemma2")
      .kv_u32("gemma2.context_length", 64)
      .kv_u32("gemma2.embedding_length", 256)
      .kv_u32("gemma2.block_count", 1)
      .kv_u32("gemma2.feed_forward_length", 512)
      .kv_u32("gemma2.attention.head_count", 2)
      .kv_u64("gemma2.vocab_size", 4)
      .tensor("token_embd.weight", {256, 4}, DType::IQ2_XXS);
  std::vector<uint8_t> bytes = b.build();
  std::string path = ::testing::TempDir() + "iq2.gguf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());

  auto r = run_edgelm("run -m " + shell_quote(path) + " -p hi -n 1");
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("iq2_xxs"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("tensor 'token_embd.weight'"), std::string::npos) << r.err;
  std::remove(path.c_str());
}

TEST(Cli, PromptPlusPredictOverContextFails) {
  auto r = run_edgelm("run -m " + demo_model() + " -p " + shell_quote("The meaning of life is") + " -n 100 -c 50");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("-n 100"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("50"), std::string::npos) << r.err;
}

TEST(Cli, PromptIdsOutOfVocabularyFails) {
  auto r = run_edgelm("run -m " + demo_model() + " --prompt-ids 2,99999 -n 1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("99999"), std::string::npos) << r.err;
}

TEST(Cli, IsaEnvironmentVariableApplies) {
  auto r = run_edgelm("run -m " + demo_model() + " -p hi -n 2 --temp 0", "EDGELM_ISA=sse4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("kernels: sse4"), std::string::npos) << r.err;
}

TEST(Cli, IsaOptionOverridesEnvironment) {
  auto r = run_edgelm("run -m " + demo_model() + " -p hi -n 2 --temp 0 --isa scalar", "EDGELM_ISA=sse4");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("kernels: scalar"), std::string::npos) << r.err;
}

TEST(Cli, MmapGivesSameText) {
  const std::string command = "run -m " + demo_model() + " -p 'The capital of France is' -n 8 --temp 0";
  auto read = run_edgelm(command);
  auto mapped = run_edgelm(command + " --mmap");
  ASSERT_EQ(read.exit_code, 0) << read.err;
  ASSERT_EQ(mapped.exit_code, 0) << mapped.err;
  EXPECT_FALSE(read.out.empty());
  EXPECT_EQ(read.out, mapped.out);
  EXPECT_NE(read.err.find(" (read into memory): gemma2"), std::string::npos) << read.err;
  EXPECT_NE(mapped.err.find(" (mapped): gemma2"), std::string::npos) << mapped.err;
}

TEST(Cli, ParseErrorsAreOneErrorLine) {
  for (const std::string args : {"run -m " + demo_model() + " -p hi --bogus", std::string("frobnicate"),
                                 "run -m " + demo_model() + " -p hi -t abc", std::string("run")}) {
    auto r = run_edgelm(args);
    SCOPED_TRACE(args);
    expect_one_error_line(r);
  }
  EXPECT_NE(run_edgelm("frobnicate").err.find("unknown command 'frobnicate'"), std::string::npos);
}

// A value of the wrong type names the option, the value and the type
// expected, and points to that command's help rather than listing commands.
TEST(Cli, WrongTypeNamesExpectedType) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"bench -m x -n abc", "invalid value 'abc' for -n/--n-gen: expected an integer (see 'edgelm bench --help')"},
      {"bench -m x --n-gen abc", "invalid value 'abc' for -n/--n-gen: expected an integer"},
      {"run -m x -p hi -t 1.5",
       "invalid value '1.5' for -t/--threads: expected a non-negative integer (see 'edgelm run --help')"},
      {"run -m x -p hi --temp warm", "invalid value 'warm' for --temp: expected a number (see 'edgelm run --help')"},
  };
  for (const auto& [args, message] : cases) {
    auto r = run_edgelm(args);
    SCOPED_TRACE(args);
    expect_one_error_line(r);
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("commands:"), std::string::npos) << r.err;
  }
}

TEST(Cli, InvalidValuesAreRejected) {
  const std::string model = " -m " + demo_model();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"run" + model + " -p hi --top-p 2", "top-p 2"},
      {"run" + model + " -p hi --min-p -1", "min-p -1"},
      {"run" + model + " -p hi --temp -1", "temperature -1"},
      {"run" + model + " -p hi -n -2", "-n -2"},
      {"run" + model + " -p hi --seed -5", "--seed -5"},
      {"run" + model + " -p hi -c -5", "-c -5"},
      {"run" + model + " -p hi -t 5000", "-t 5000"},
      {"run" + model + " --prompt-ids 2,651,", "''"},
      {"logits" + model + " -p hi --top 0", "--top 0"},
  };
  for (const auto& [args, value] : cases) {
    auto r = run_edgelm(args);
    SCOPED_TRACE(args);
    expect_one_error_line(r);
    EXPECT_NE(r.err.find(value), std::string::npos) << r.err;
  }
}

TEST(Cli, LogLevelAfterCommand) {
  auto r = run_edgelm("run -m " + demo_model() + " -p hi -n 2 --temp 0 --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("loaded"), std::string::npos) << r.err;
}

// In a terminal (a pseudo-terminal from util-linux `script`), a blank line
// separates the generated text from the speed line. Through pipes, stderr
// contains only the speed line.
TEST(Cli, SpeedLineApartInTerminal) {
  if (::access("/usr/bin/script", X_OK) != 0) GTEST_SKIP() << "/usr/bin/script (util-linux) is not installed";
  const std::string run = std::string(EDGELM_BINARY) + " run -m " + demo_model() + " -p hi -n 4 --temp 0 --log-level warn";
  FILE* pipe = ::popen(("/usr/bin/script -qec " + shell_quote(run) + " /dev/null").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string terminal;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) terminal.append(buffer, n);
  ASSERT_EQ(::pclose(pipe), 0) << terminal;
  EXPECT_NE(terminal.find("\r\n\r\nprefill: "), std::string::npos) << terminal;

  auto piped = run_edgelm("run -m " + demo_model() + " -p hi -n 4 --temp 0 --log-level warn");
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.err.rfind("prefill: ", 0), 0u) << piped.err;
}

// A repeated option takes its last value, as llama.cpp's tools do.
TEST(Cli, RepeatedOptionTakesLast) {
  auto r = run_edgelm("run -m " + demo_model() + " -p hi -n 1 -n 3 --temp 0 --log-level warn");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("decode: 3 tokens"), std::string::npos) << r.err;
}

TEST(Cli, FullDiskIsAnError) {
  auto r = run_edgelm("tokenize -m " + demo_model() + " -p hi > /dev/full");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("writing to standard output failed"), std::string::npos) << r.err;
}

TEST(Cli, ZeroTokensPrintsNothing) {
  auto r = run_edgelm("run -m " + demo_model() + " -p hi -n 0");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST(Cli, TokenizeNeedsOnlyTheVocabulary) {
  // The weights of this file use types that `run` may not support; tokenizing must not care.
  auto r = run_edgelm("tokenize -m " + fixture("tiny-gemma2-q4_k_m.gguf") + " -p " + shell_quote("The meaning of life is"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto expected = testing::load_expected("tiny-gemma2-q4_k_m__life");
  EXPECT_EQ(nlohmann::json::parse(r.out).get<std::vector<int32_t>>(), expected.prompt_ids);
}

TEST(Cli, SeededSamplingIsReproducible) {
  std::string args = "run -m " + demo_model() + " -p " + shell_quote("Once upon a time") +
                     " -n 24 --temp 0.9 --top-k 40 --top-p 0.9 --min-p 0.02 --seed 1234 -t 1";
  auto first = run_edgelm(args);
  auto second = run_edgelm(args);
  ASSERT_EQ(first.exit_code, 0) << first.err;
  EXPECT_EQ(first.out, second.out);
}

}  // namespace
}  // namespace edgelm
