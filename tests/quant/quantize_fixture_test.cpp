// Quantizing the f32 tiny-gemma2 fixture must reproduce, byte for byte, the
// tensors llama.cpp wrote into its quantized fixtures.

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "quant/quantize.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

std::unique_ptr<GgufFile> open_fixture(const std::string& name) {
  return GgufFile::open(testing::fixtures_dir() + "/" + name);
}

// Quantizes an f32 tensor row by row.
std::vector<uint8_t> quantize_tensor(const GgufTensor& source, DType type) {
  const size_t n_per_row = source.dims[0];
  const size_t row_size = row_bytes(type, n_per_row);
  std::vector<uint8_t> out(row_size * source.n_rows());
  std::vector<float> row(n_per_row);
  for (size_t r = 0; r < source.n_rows(); ++r) {
    std::memcpy(row.data(), source.data + r * n_per_row * sizeof(float), n_per_row * sizeof(float));
    quantize_row(type, row.data(), out.data() + r * row_size, n_per_row);
  }
  return out;
}

// For every quantized tensor of `quantized_name`, quantizes the same tensor of
// the f32 fixture and counts byte-identical results per type.
void expect_identical_tensors(const std::string& quantized_name, size_t expected_count) {
  auto source = open_fixture("tiny-gemma2-f32.gguf");
  auto reference = open_fixture(quantized_name);

  std::map<std::string, std::pair<int, int>> identical_per_type;
  size_t compared = 0;
  for (const GgufTensor& expected : reference->tensors()) {
    if (!quantize_supported(expected.type)) continue;
    const GgufTensor* input = source->find_tensor(expected.name);
    ASSERT_NE(input, nullptr) << expected.name;
    ASSERT_EQ(input->type, DType::F32) << expected.name;

    std::vector<uint8_t> actual = quantize_tensor(*input, expected.type);
    ASSERT_EQ(actual.size(), expected.n_bytes) << expected.name;
    const bool identical = std::memcmp(actual.data(), expected.data, actual.size()) == 0;
    EXPECT_TRUE(identical) << expected.name << " (" << dtype_name(expected.type) << ") differs from llama.cpp's bytes";

    auto& counts = identical_per_type[std::string(dtype_name(expected.type))];
    counts.first += identical ? 1 : 0;
    counts.second += 1;
    ++compared;
  }
  EXPECT_EQ(compared, expected_count);
  for (const auto& [type, counts] : identical_per_type) {
    std::printf("%s %s: %d/%d tensors identical\n", quantized_name.c_str(), type.c_str(), counts.first, counts.second);
  }
}

TEST(QuantizeFixture, Q8_0MatchesConverter) { expect_identical_tensors("tiny-gemma2-q8_0.gguf", 43); }
TEST(QuantizeFixture, Q6_KMatchesLlamaCpp) { expect_identical_tensors("tiny-gemma2-q6_k.gguf", 43); }
TEST(QuantizeFixture, Q5_K_MMatchesLlamaCpp) { expect_identical_tensors("tiny-gemma2-q5_k_m.gguf", 43); }
TEST(QuantizeFixture, Q4_K_MMatchesLlamaCpp) { expect_identical_tensors("tiny-gemma2-q4_k_m.gguf", 43); }
TEST(QuantizeFixture, Q4_0MatchesLlamaCpp) { expect_identical_tensors("tiny-gemma2-q4_0.gguf", 43); }

}  // namespace
}  // namespace edgelm
