// Dequantizes tensors that llama.cpp's llama-quantize wrote and compares them
// with the float32 originals: a wrong block layout gives errors near 100% of
// the tensor's RMS, a right one the quantization error of the type.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "kernels/matvec.h"
#include "kernels/weight_rows.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

// All elements of a tensor as float, through the scalar reference or the SIMD kernels.
std::vector<float> dequantize_tensor(const GgufTensor& tensor, bool simd) {
  const size_t cols = tensor.dims[0];
  const size_t stride = row_bytes(tensor.type, cols);
  std::vector<float> values(tensor.n_elements());
  for (size_t r = 0; r < tensor.n_rows(); ++r) {
    if (simd) {
      dequantize_row(tensor.type, tensor.data + r * stride, values.data() + r * cols, cols);
    } else {
      dequantize_row_ref(tensor.type, tensor.data + r * stride, values.data() + r * cols, cols);
    }
  }
  return values;
}

// RMS of (a - b) divided by the RMS of b.
double relative_rms_error(const std::vector<float>& a, const std::vector<float>& b) {
  double error = 0.0, norm = 0.0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double diff = static_cast<double>(a[i]) - b[i];
    error += diff * diff;
    norm += static_cast<double>(b[i]) * b[i];
  }
  return std::sqrt(error / norm);
}

struct QuantFile {
  const char* file;
  const char* tensor;
  DType type;
  double max_error;  // relative RMS error, about 1.2 times what the file has
};

class QuantFixture : public ::testing::TestWithParam<QuantFile> {};

TEST_P(QuantFixture, CloseToFloat32) {
  const QuantFile& param = GetParam();
  const auto original_file = GgufFile::open(fixture("tiny-gemma2-f32.gguf"));
  const auto quantized_file = GgufFile::open(fixture(param.file));
  const GgufTensor* original = original_file->find_tensor(param.tensor);
  const GgufTensor* quantized = quantized_file->find_tensor(param.tensor);
  ASSERT_NE(original, nullptr);
  ASSERT_NE(quantized, nullptr);
  ASSERT_EQ(quantized->type, param.type) << dtype_name(quantized->type);
  ASSERT_EQ(original->dims, quantized->dims);

  const std::vector<float> expected = dequantize_tensor(*original, false);
  const std::vector<float> reference = dequantize_tensor(*quantized, false);
  const double error = relative_rms_error(reference, expected);
  EXPECT_LT(error, param.max_error) << param.file << " " << param.tensor;

  // The SIMD kernels of every ISA return the same floats.
  for (const std::string& isa : available_isas()) {
    set_max_isa(isa);
    EXPECT_EQ(dequantize_tensor(*quantized, true), reference) << isa;
  }
  set_max_isa("auto");
}

// matvec of the file's tensor, through each ISA's kernels, against the
// double-precision reference. Activations are a real embedding row (or random
// for other widths), so the integer path meets the activation statistics of the model.
TEST_P(QuantFixture, MatvecCloseToReference) {
  const QuantFile& param = GetParam();
  const auto original_file = GgufFile::open(fixture("tiny-gemma2-f32.gguf"));
  const auto quantized_file = GgufFile::open(fixture(param.file));
  const GgufTensor* quantized = quantized_file->find_tensor(param.tensor);
  ASSERT_NE(quantized, nullptr);

  const size_t cols = quantized->dims[0];
  const size_t rows = std::min<size_t>(quantized->n_rows(), 512);
  const WeightMatrix w{quantized->type, quantized->data, rows, cols, row_bytes(quantized->type, cols)};
  const GgufTensor* embedding = original_file->find_tensor("token_embd.weight");
  ASSERT_NE(embedding, nullptr);
  std::vector<float> x = testing::random_floats(cols, 9, -1.0f, 1.0f);
  if (embedding->dims[0] == cols) dequantize_row_ref(embedding->type, embedding->data, x.data(), cols);

  ThreadPool pool(2);
  for (const std::string& isa : available_isas()) {
    set_max_isa(isa);
    std::vector<float> y(rows);
    matvec(w, x.data(), y.data(), pool);
    const bool integer_path = activation_type(w.type) != DType::F32;
    for (size_t r = 0; r < rows; ++r) {
      const double abs_sum = testing::abs_dot(w.type, w.row(r), x.data(), cols);
      const double tolerance = integer_path ? 4e-3 * abs_sum : testing::dot_tolerance(cols, abs_sum);
      ASSERT_NEAR(y[r], dot_row_ref(w.type, w.row(r), x.data(), cols), tolerance) << isa << " row " << r;
    }
  }
  set_max_isa("auto");
}

const QuantFile kQuantFiles[] = {
    // Measured errors: 0.086, 0.072, 0.036, 0.018, 0.017, 0.018.
    {"tiny-gemma2-q4_0.gguf", "blk.0.ffn_up.weight", DType::Q4_0, 0.10},
    {"tiny-gemma2-q4_k_m.gguf", "blk.0.ffn_up.weight", DType::Q4_K, 0.09},
    {"tiny-gemma2-q5_k_m.gguf", "blk.0.ffn_up.weight", DType::Q5_K, 0.045},
    {"tiny-gemma2-q6_k.gguf", "blk.0.ffn_up.weight", DType::Q6_K, 0.022},
    {"tiny-gemma2-q6_k.gguf", "token_embd.weight", DType::Q6_K, 0.022},
    {"tiny-gemma2-q4_k_m.gguf", "blk.2.ffn_down.weight", DType::Q6_K, 0.022},
};

std::string quant_file_name(const ::testing::TestParamInfo<QuantFile>& info) {
  std::string name = std::string(info.param.file).substr(12) + "_" + info.param.tensor;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Files, QuantFixture, ::testing::ValuesIn(kQuantFiles), quant_file_name);

}  // namespace
}  // namespace edgelm
