// `edgelm tokenize` with GGUF files, tokenizer.json and tokenizer.model, run as a user would.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/expected_output.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::fixtures_dir;
using testing::run_edgelm;
using testing::shell_quote;
using Ids = std::vector<int32_t>;

std::string fixture(const std::string& name) { return shell_quote(fixtures_dir() + "/" + name); }

Ids parse_ids(const testing::CommandResult& r) { return nlohmann::json::parse(r.out).get<Ids>(); }

// An error is one "error: ..." line on stderr, exit status 1, nothing on stdout.
void expect_error_line(const testing::CommandResult& r, const std::string& expected) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(expected), std::string::npos) << "expected \"" << expected << "\" in " << r.err;
}

TEST(TokenizeCli, HuggingFaceJson) {
  const std::string json = fixture("vocab/gemma3-tokenizer.json");
  auto r = run_edgelm("tokenize --tokenizer " + json + " -p " + shell_quote("Hello, world!"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[2,9259,236764,1902,236888]\n");

  // Special token texts are parsed; --no-bos leaves the BOS out.
  r = run_edgelm("tokenize --tokenizer " + json + " --no-bos -p " + shell_quote("<start_of_turn>user\nHi!"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(parse_ids(r), (Ids{105, 2364, 107, 10979, 236888}));
}

TEST(TokenizeCli, SentencePieceModelMatchesGguf) {
  const std::string prompt = shell_quote("<start_of_turn>user\nWhat is a  fortune?<end_of_turn>\n");
  auto from_model = run_edgelm("tokenize --tokenizer " + fixture("tiny-gemma2/tokenizer.model") + " -p " + prompt);
  auto from_gguf = run_edgelm("tokenize -m " + fixture("tiny-gemma2-f32.gguf") + " -p " + prompt);
  ASSERT_EQ(from_model.exit_code, 0) << from_model.err;
  ASSERT_EQ(from_gguf.exit_code, 0) << from_gguf.err;
  EXPECT_EQ(from_model.out, from_gguf.out);
  EXPECT_EQ(parse_ids(from_model).front(), 2);

  auto no_bos = run_edgelm("tokenize --tokenizer " + fixture("tiny-gemma2/tokenizer.model") + " --no-bos -p " + prompt);
  ASSERT_EQ(no_bos.exit_code, 0) << no_bos.err;
  Ids expected = parse_ids(from_model);
  expected.erase(expected.begin());
  EXPECT_EQ(parse_ids(no_bos), expected);
}

TEST(TokenizeCli, VocabOnlyGguf) {
  // The file contains the Llama 2 vocabulary and no tensors.
  auto r = run_edgelm("tokenize -m " + fixture("vocab/ggml-vocab-llama-spm.gguf") + " -p " + shell_quote("Hello world"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[1,15043,3186]\n");

  r = run_edgelm("tokenize -m " + fixture("vocab/ggml-vocab-llama-spm.gguf") + " --no-bos -p " + shell_quote("Hello world"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[15043,3186]\n");

  // The same file through --tokenizer.
  r = run_edgelm("tokenize --tokenizer " + fixture("vocab/ggml-vocab-llama-spm.gguf") + " -p " + shell_quote("Hello world"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "[1,15043,3186]\n");
}

TEST(TokenizeCli, Errors) {
  expect_error_line(run_edgelm("tokenize --tokenizer /nonexistent/tokenizer.json -p hi"),
                    "cannot open '/nonexistent/tokenizer.json'");
  expect_error_line(run_edgelm("tokenize -m /nonexistent/model.gguf -p hi"), "/nonexistent/model.gguf");

  const std::string unknown = ::testing::TempDir() + "tokenize_cli_unknown.txt";
  std::ofstream(unknown) << "plain text, not a tokenizer";
  expect_error_line(run_edgelm("tokenize --tokenizer " + shell_quote(unknown) + " -p hi"), "unknown tokenizer file kind");

  const std::string malformed = ::testing::TempDir() + "tokenize_cli_malformed.json";
  std::ofstream(malformed) << "{\"model\": {\"type\": \"BPE\",";
  expect_error_line(run_edgelm("tokenize --tokenizer " + shell_quote(malformed) + " -p hi"), "invalid JSON");

  const std::string unsupported = ::testing::TempDir() + "tokenize_cli_unigram.json";
  std::ofstream(unsupported) << R"({"model": {"type": "Unigram", "vocab": []}})";
  expect_error_line(run_edgelm("tokenize --tokenizer " + shell_quote(unsupported) + " -p hi"),
                    "model.type: model type \"Unigram\" is not supported");

  expect_error_line(run_edgelm("tokenize -p hi"), "pass -m FILE.gguf or --tokenizer FILE");
  expect_error_line(run_edgelm("tokenize -m " + fixture("tiny-gemma2-f32.gguf") + " --tokenizer " +
                               fixture("tiny-gemma2/tokenizer.model") + " -p hi"),
                    "excludes");

  for (const std::string& path : {unknown, malformed, unsupported}) std::remove(path.c_str());
}

}  // namespace
}  // namespace edgelm
