// Whole-file quantization in process: outputs byte-identical to
// llama-quantize's, thread-count independence, and input checks.

#include "quant/quantize_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "gguf/gguf_writer.h"
#include "quant/temp_dir.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

using testing::TempDir;

std::string fixture(const std::string& name) { return testing::fixtures_dir() + "/" + name; }

QuantizeSummary run_quantize(const std::string& input, const std::string& output, const std::string& preset,
                             size_t threads = 2) {
  QuantizeRequest request;
  request.input_path = input;
  request.output_path = output;
  request.preset_name = preset;
  request.threads = threads;
  request.show_progress = false;
  return quantize_model(request);
}

TEST(QuantizeModel, FilesMatchLlamaQuantize) {
  // Outputs of the presets the fixtures do not cover, recorded from llama.cpp.
  std::ifstream in(std::string(EDGELM_SOURCE_DIR) + "/tests/quant/llama_cpp_outputs.json");
  const nlohmann::json outputs = nlohmann::json::parse(in).at("outputs");
  ASSERT_GE(outputs.size(), 20u);

  TempDir dir;
  for (const auto& expected : outputs) {
    const std::string input = expected.at("input");
    const std::string preset = expected.at("type");
    const std::string path = dir.file(input + "." + preset + ".gguf");
    run_quantize(fixture(input), path, preset);

    const std::vector<char> bytes = testing::read_file_bytes(path);
    EXPECT_EQ(bytes.size(), expected.at("bytes").get<size_t>()) << input << " " << preset;
    EXPECT_EQ(fmt::format("{:016x}", testing::fnv1a64(bytes)), expected.at("fnv1a64").get<std::string>())
        << input << " " << preset;
    std::filesystem::remove(path);
  }
}

TEST(QuantizeModel, SameBytesForAnyThreadCount) {
  TempDir dir;
  run_quantize(fixture("stories260K.gguf"), dir.file("one.gguf"), "Q4_K_M", 1);
  run_quantize(fixture("stories260K.gguf"), dir.file("three.gguf"), "Q4_K_M", 3);
  EXPECT_TRUE(testing::read_file_bytes(dir.file("one.gguf")) == testing::read_file_bytes(dir.file("three.gguf")));
}

TEST(QuantizeModel, SummaryCountsTensors) {
  TempDir dir;
  const QuantizeSummary s = run_quantize(fixture("tiny-gemma2-f32.gguf"), dir.file("out.gguf"), "q4_k_m");
  EXPECT_EQ(s.preset_name, "Q4_K_M");
  EXPECT_EQ(s.n_tensors, 68u);
  EXPECT_EQ(s.tensors_per_type.at(DType::F32), 25u);
  EXPECT_EQ(s.tensors_per_type.at(DType::Q4_K), 38u);
  EXPECT_EQ(s.tensors_per_type.at(DType::Q6_K), 5u);
  EXPECT_EQ(s.output_file_bytes, std::filesystem::file_size(dir.file("out.gguf")));
  EXPECT_EQ(s.input_file_bytes, std::filesystem::file_size(fixture("tiny-gemma2-f32.gguf")));
  // llama-quantize reports 5.30 bits per weight for this model.
  EXPECT_NEAR(8.0 * static_cast<double>(s.output_tensor_bytes) / static_cast<double>(s.n_elements), 5.30, 0.005);
}

TEST(QuantizeModel, SetsFileTypeAndVersion) {
  TempDir dir;
  run_quantize(fixture("stories260K.gguf"), dir.file("out.gguf"), "Q5_K_M");
  auto file = GgufFile::open(dir.file("out.gguf"));
  EXPECT_EQ(file->get_uint("general.file_type"), 17u);
  EXPECT_EQ(file->get_uint("general.quantization_version"), 2u);
  // The two keys move to the end, as llama-quantize writes them.
  const auto& metadata = file->metadata();
  ASSERT_GE(metadata.size(), 2u);
  EXPECT_EQ(metadata[metadata.size() - 2].first, "general.quantization_version");
  EXPECT_EQ(metadata.back().first, "general.file_type");
}

// Writes a one-layer model whose attn_q has `value` at row 1, column 5.
void write_model_with_value(const std::string& path, float value) {
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_uint32("llama.block_count", 1);
  writer.add_tensor("blk.0.attn_q.weight", {32, 2}, DType::F32);
  std::vector<float> data(64, 0.25f);
  data[32 + 5] = value;
  writer.open(path);
  writer.write_tensor(data.data(), data.size() * sizeof(float));
  writer.finish();
}

TEST(QuantizeModel, NonFiniteWeightNamesPosition) {
  TempDir dir;
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    write_model_with_value(dir.file("in.gguf"), bad);
    try {
      run_quantize(dir.file("in.gguf"), dir.file("out.gguf"), "Q8_0");
      FAIL() << "expected an Error";
    } catch (const Error& e) {
      const std::string message = e.what();
      EXPECT_NE(message.find("'blk.0.attn_q.weight'"), std::string::npos) << message;
      EXPECT_NE(message.find("row 1, column 5"), std::string::npos) << message;
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("out.gguf")));
    EXPECT_EQ(dir.entry_count(), 1u) << "no temporary file may remain";
  }

  write_model_with_value(dir.file("in.gguf"), 1.5f);
  run_quantize(dir.file("in.gguf"), dir.file("out.gguf"), "Q8_0");
  EXPECT_EQ(GgufFile::open(dir.file("out.gguf"))->tensors()[0].type, DType::Q8_0);
}

TEST(QuantizeModel, OutputSameAsInputRejected) {
  TempDir dir;
  std::filesystem::copy_file(fixture("stories260K.gguf"), dir.file("model.gguf"));
  std::filesystem::create_symlink(dir.file("model.gguf"), dir.file("link.gguf"));
  for (const std::string& output : {dir.file("model.gguf"), dir.file("link.gguf"), dir.path() + "/./model.gguf"}) {
    try {
      run_quantize(dir.file("model.gguf"), output, "Q8_0");
      FAIL() << "expected an Error for " << output;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("is the input file"), std::string::npos) << e.what();
    }
  }
  EXPECT_TRUE(testing::read_file_bytes(dir.file("model.gguf")) ==
              testing::read_file_bytes(fixture("stories260K.gguf")));
}

TEST(QuantizeModel, SplitModelRejected) {
  TempDir dir;
  GgufWriter writer;
  writer.set_string("general.architecture", "llama");
  writer.set_uint32("llama.block_count", 1);
  writer.set("split.count", GgufValue{GgufType::UINT16, uint64_t{2}});
  writer.open(dir.file("part.gguf"));
  writer.finish();
  EXPECT_THROW(run_quantize(dir.file("part.gguf"), dir.file("out.gguf"), "Q8_0"), Error);
}

}  // namespace
}  // namespace edgelm
