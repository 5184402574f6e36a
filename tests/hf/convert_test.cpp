// edgelm convert on the tiny Gemma 2 Hugging Face directory against the GGUF
// files llama.cpp made from it: its converter wrote f32, bf16 and q8_0, and
// llama-quantize the other types from the f32 file.

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <type_traits>
#include <variant>

#include "core/mapped_file.h"
#include "gguf/gguf_file.h"
#include "hf/convert_checkpoint.h"
#include "hf/hf_checkpoint.h"
#include "model/context.h"
#include "model/model.h"
#include "support/expected_output.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::run_edgelm;

std::string fixture(const std::string& name) { return testing::fixtures_dir() + "/" + name; }

std::string temp_path(const std::string& name) {
  return ::testing::TempDir() + "edgelm_convert_" + std::to_string(::getpid()) + "_" + name;
}

bool same_value(const GgufValue& a, const GgufValue& b) {
  if (a.type != b.type || a.value.index() != b.value.index()) return false;
  return std::visit(
      [&](const auto& value_a) {
        using T = std::decay_t<decltype(value_a)>;
        const T& value_b = std::get<T>(b.value);
        if constexpr (std::is_same_v<T, GgufArray>) {
          if (value_a.element_type != value_b.element_type || value_a.items.size() != value_b.items.size()) {
            return false;
          }
          for (size_t i = 0; i < value_a.items.size(); ++i) {
            if (!same_value(value_a.items[i], value_b.items[i])) return false;
          }
          return true;
        } else {
          return value_a == value_b;
        }
      },
      a.value);
}

// Every metadata key and every tensor of `expected` is in `actual` with the
// same type and value, in the same order.
void expect_same_file(const GgufFile& actual, const GgufFile& expected) {
  ASSERT_EQ(actual.metadata().size(), expected.metadata().size());
  for (size_t i = 0; i < expected.metadata().size(); ++i) {
    const auto& [key, value] = expected.metadata()[i];
    EXPECT_EQ(actual.metadata()[i].first, key) << "metadata entry " << i;
    const GgufValue* mine = actual.find(key);
    ASSERT_NE(mine, nullptr) << key;
    EXPECT_TRUE(same_value(*mine, value)) << "metadata key " << key;
  }

  ASSERT_EQ(actual.tensors().size(), expected.tensors().size());
  for (size_t i = 0; i < expected.tensors().size(); ++i) {
    const GgufTensor& want = expected.tensors()[i];
    const GgufTensor& got = actual.tensors()[i];
    EXPECT_EQ(got.name, want.name) << "tensor " << i;
    EXPECT_EQ(got.dims, want.dims) << want.name;
    EXPECT_EQ(got.type, want.type) << want.name;
    ASSERT_EQ(got.n_bytes, want.n_bytes) << want.name;
    EXPECT_EQ(std::memcmp(got.data, want.data, want.n_bytes), 0) << "data of " << want.name;
  }
}

class ConvertFixtureTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvertFixtureTest, EqualsLlamaCppFile) {
  const std::string type = GetParam();
  const std::string output = temp_path(type + ".gguf");

  ConvertRequest request;
  request.input_dir = fixture("tiny-gemma2");
  request.output_path = output;
  request.type = type;
  request.threads = 2;
  request.show_progress = false;
  convert_checkpoint(request);

  const std::string reference_path = fixture("tiny-gemma2-" + type + ".gguf");
  auto converted = GgufFile::open(output);
  auto reference = GgufFile::open(reference_path);
  expect_same_file(*converted, *reference);

  // Padding and alignment too: the whole file is llama.cpp's, byte for byte.
  MappedFile converted_bytes(output);
  MappedFile reference_bytes(reference_path);
  ASSERT_EQ(converted_bytes.size(), reference_bytes.size());
  EXPECT_EQ(std::memcmp(converted_bytes.data(), reference_bytes.data(), reference_bytes.size()), 0);
  std::filesystem::remove(output);
}

INSTANTIATE_TEST_SUITE_P(Types, ConvertFixtureTest,
                         ::testing::Values("f32", "bf16", "q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0"));

TEST(HfCheckpoint, ViewEqualsConvertedBf16) {
  // What `run -m DIR` reads is the bf16 file's tensors without a write.
  HfModel hf = open_hf_model(fixture("tiny-gemma2"), HfTensorLayout::kRun, 32);
  auto reference = GgufFile::open(fixture("tiny-gemma2-bf16.gguf"));
  expect_same_file(*hf.file, *reference);
  EXPECT_EQ(hf.n_params, 6'822'144u);
}

TEST(HfCheckpoint, TrailingSlashKeepsName) {
  HfModel hf = open_hf_model(fixture("tiny-gemma2") + "/", HfTensorLayout::kRun);
  EXPECT_EQ(hf.file->path(), fixture("tiny-gemma2"));
  EXPECT_EQ(hf.file->get_string("general.name"), "Tiny Gemma2");
}

TEST(HfCheckpoint, LogitsEqualBf16File) {
  auto from_dir = Model::load(fixture("tiny-gemma2"));
  auto from_file = Model::load(fixture("tiny-gemma2-bf16.gguf"));
  ThreadPool pool(2);

  const std::vector<int32_t> ids = from_file->tokenizer().encode("The cat sat on the mat.", true, false);
  EXPECT_EQ(from_dir->tokenizer().encode("The cat sat on the mat.", true, false), ids);

  const size_t n = ids.size() * from_file->hparams().n_vocab;
  Context a(*from_dir, 256, pool, 64);
  const float* dir_logits = a.eval(ids.data(), ids.size(), LogitsMode::kAll);
  std::vector<float> expected(dir_logits, dir_logits + n);

  Context b(*from_file, 256, pool, 64);
  const float* file_logits = b.eval(ids.data(), ids.size(), LogitsMode::kAll);
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(expected[i], file_logits[i]) << "index " << i;
}

TEST(ConvertCli, WritesFileAndRunsLikeBf16) {
  const std::string output = temp_path("cli.gguf");
  auto convert = run_edgelm("convert " + fixture("tiny-gemma2") + " -o " + output + " --type bf16 -t 2");
  ASSERT_EQ(convert.exit_code, 0) << convert.err;
  EXPECT_NE(convert.err.find("converted"), std::string::npos) << convert.err;
  ASSERT_TRUE(std::filesystem::exists(output));

  const std::string prompt = " -p 'The meaning of life is' -n 24 --temp 0 -t 2";
  auto from_dir = run_edgelm("run -m " + fixture("tiny-gemma2") + prompt);
  auto from_converted = run_edgelm("run -m " + output + prompt);
  auto from_llama_cpp_file = run_edgelm("run -m " + fixture("tiny-gemma2-bf16.gguf") + prompt);
  ASSERT_EQ(from_dir.exit_code, 0) << from_dir.err;
  ASSERT_EQ(from_converted.exit_code, 0) << from_converted.err;
  EXPECT_FALSE(from_dir.out.empty());
  EXPECT_EQ(from_dir.out, from_llama_cpp_file.out);
  EXPECT_EQ(from_converted.out, from_llama_cpp_file.out);
  std::filesystem::remove(output);
}

TEST(ConvertCli, RejectsUnknownType) {
  auto result = run_edgelm("convert " + fixture("tiny-gemma2") + " -o " + temp_path("x.gguf") + " --type q3_x");
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.err.find("unknown output type 'q3_x'"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("q4_k_m"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace edgelm
