// load_tokenizer_file: choosing the reader by content and name, and errors.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/load_tokenizer.h"

namespace edgelm {
namespace {

using Ids = std::vector<int32_t>;

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// Writes `content` to a file in the test's temporary directory and returns its path.
std::string temp_file(const std::string& name, const std::string& content) {
  const std::string path = ::testing::TempDir() + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string load_error(const std::string& path) {
  try {
    load_tokenizer_file(path);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(LoadTokenizer, DetectsFixtureKinds) {
  EXPECT_EQ(detect_tokenizer_file_kind(fixture("tiny-gemma2-f32.gguf")), TokenizerFileKind::GGUF);
  EXPECT_EQ(detect_tokenizer_file_kind(fixture("vocab/gemma3-tokenizer.expected.json")), TokenizerFileKind::HF_JSON);
  EXPECT_EQ(detect_tokenizer_file_kind(fixture("tiny-gemma2/tokenizer.model")), TokenizerFileKind::SENTENCEPIECE);
}

TEST(LoadTokenizer, DetectsByContentBeforeName) {
  const std::string json = temp_file("looks_like.model", "\xEF\xBB\xBF \n {\"model\": {}}");
  EXPECT_EQ(detect_tokenizer_file_kind(json), TokenizerFileKind::HF_JSON);
  const std::string proto = temp_file("tokenizer_proto.bin", std::string("\x0A\x03\x0A\x01x", 5));
  EXPECT_EQ(detect_tokenizer_file_kind(proto), TokenizerFileKind::SENTENCEPIECE);
  const std::string by_name = temp_file("broken.json", "not json");
  EXPECT_EQ(detect_tokenizer_file_kind(by_name), TokenizerFileKind::HF_JSON);
  for (const std::string& path : {json, proto, by_name}) std::remove(path.c_str());
}

TEST(LoadTokenizer, EachKindEncodes) {
  const auto gguf = load_tokenizer_file(fixture("tiny-gemma2-f32.gguf"));
  const auto model = load_tokenizer_file(fixture("tiny-gemma2/tokenizer.model"));
  const Ids expected = {2, 4, 4885, 294, 8087, 5};
  EXPECT_EQ(gguf->encode("<start_of_turn>user hi<end_of_turn>", true, true), expected);
  EXPECT_EQ(model->encode("<start_of_turn>user hi<end_of_turn>", true, true), expected);
}

// llama.cpp's Llama 2 vocabulary test set, read from a vocabulary-only GGUF
// through the factory: inputs end with "\n__ggml_vocab_test__\n", and each
// line of the .out file contains one input's ids without BOS.
TEST(LoadTokenizer, LlamaSpmVocabTestSet) {
  const auto tokenizer = load_tokenizer_file(fixture("vocab/ggml-vocab-llama-spm.gguf"));
  const std::string inputs = read_text(fixture("vocab/ggml-vocab-llama-spm.gguf.inp"));
  std::istringstream outputs(read_text(fixture("vocab/ggml-vocab-llama-spm.gguf.out")));

  const std::string separator = "\n__ggml_vocab_test__\n";
  size_t matches = 0;
  size_t count = 0;
  for (size_t begin = 0; begin < inputs.size(); ++count) {
    const size_t end = inputs.find(separator, begin);
    ASSERT_NE(end, std::string::npos);
    const std::string text = inputs.substr(begin, end - begin);
    begin = end + separator.size();

    std::string line;
    ASSERT_TRUE(std::getline(outputs, line));
    Ids expected;
    std::istringstream fields(line);
    for (int32_t id; fields >> id;) expected.push_back(id);

    const Ids actual = tokenizer->encode(text, false, false);
    EXPECT_EQ(actual, expected) << "input " << count;
    matches += actual == expected;
  }
  EXPECT_EQ(count, 46u);
  EXPECT_EQ(matches, 46u);
}

TEST(LoadTokenizer, Errors) {
  EXPECT_NE(load_error("/nonexistent/tokenizer.json").find("cannot open '/nonexistent/tokenizer.json'"),
            std::string::npos);

  const std::string unknown = temp_file("tokenizer.txt", "just some text");
  const std::string message = load_error(unknown);
  EXPECT_NE(message.find(unknown + ": unknown tokenizer file kind"), std::string::npos) << message;

  const std::string empty = temp_file("empty.bin", "");
  EXPECT_NE(load_error(empty).find("unknown tokenizer file kind"), std::string::npos);

  const std::string bad_json = temp_file("bad_tokenizer.json", "{\"model\": [1, 2");
  EXPECT_NE(load_error(bad_json).find(bad_json + ": invalid JSON"), std::string::npos);

  const std::string bad_gguf = temp_file("bad.gguf", "GGUF\x03");
  EXPECT_NE(load_error(bad_gguf).find("bad.gguf"), std::string::npos);

  for (const std::string& path : {unknown, empty, bad_json, bad_gguf}) std::remove(path.c_str());
}

}  // namespace
}  // namespace edgelm
