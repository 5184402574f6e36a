#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <vector>

#include "isa_fixture.h"
#include "kernels/matvec.h"
#include "tensor/reference.h"
#include "weight_rows.h"

namespace edgelm {
namespace {

using testing::abs_dot;
using testing::dot_tolerance;
using testing::encode_row;
using testing::kKernelTypes;
using testing::random_floats;
using testing::random_integers;
using testing::random_row;

class DotRow : public testing::IsaTest {};

// Row lengths for each type: rows of block types are whole blocks.
std::vector<size_t> lengths(DType type) {
  switch (dtype_info(type).block_size) {
    case 1:
      return {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 127, 173, 4096, 4099};
    case 32:
      return {32, 64, 96, 128, 160, 224, 4096, 4128};
    default:
      return {256, 512, 768, 1280, 4096, 4352};
  }
}

// On the integer path the reference takes the quantized activations, so
// only float rounding separates the two.
TEST_P(DotRow, MatchesReference) {
  uint32_t seed = 1;
  for (DType type : kKernelTypes) {
    for (size_t n : lengths(type)) {
      const std::vector<uint8_t> row = random_row(type, n, seed++);
      const std::vector<float> x = random_floats(n, seed++, -2.0f, 2.0f);
      const std::vector<float> x_kernel = testing::kernel_activations(type, x);

      const double expected = dot_row_ref(type, row.data(), x_kernel.data(), n);
      const double tolerance = dot_tolerance(n, abs_dot(type, row.data(), x_kernel.data(), n));
      EXPECT_NEAR(dot_row(type, row.data(), x.data(), n), expected, tolerance)
          << dtype_name(type) << " n=" << n;
    }
  }
}

// The 8-bit activations of the integer path cost accuracy: the error stays
// within 4e-3 of sum |w x| (about 127 levels per block of activations).
TEST_P(DotRow, IntegerPathCloseToExact) {
  uint32_t seed = 50;
  size_t checked = 0;
  for (DType type : kKernelTypes) {
    if (activation_type(type) == DType::F32) continue;
    for (size_t n : lengths(type)) {
      const std::vector<uint8_t> row = random_row(type, n, seed++);
      const std::vector<float> x = random_floats(n, seed++, -2.0f, 2.0f);
      const double expected = dot_row_ref(type, row.data(), x.data(), n);
      EXPECT_NEAR(dot_row(type, row.data(), x.data(), n), expected, 4e-3 * abs_dot(type, row.data(), x.data(), n))
          << dtype_name(type) << " n=" << n;
      ++checked;
    }
  }
  if (GetParam() == "avx2" || GetParam() == "avx3") {
    EXPECT_GT(checked, 0u) << "no integer kernels on " << GetParam();
  }
}

// With small integers every partial sum is exact, so any misplaced, missing
// or repeated element shows up as an exact mismatch.
// The integer path rounds the activations, so it is left to MatchesReference.
TEST_P(DotRow, ExactOnIntegers) {
  uint32_t seed = 100;
  for (DType type : kKernelTypes) {
    if (activation_type(type) != DType::F32) continue;
    for (size_t n : lengths(type)) {
      std::vector<uint8_t> row;
      if (testing::is_random_block_type(type)) {
        row = testing::random_blocks(type, n, seed++, true);
      } else {
        const std::vector<float> w = random_integers(n, seed++, type == DType::Q8_0 ? 127 : 8);
        row = type == DType::Q8_0 ? testing::encode_q8_unit_scale(w) : encode_row(type, w);
      }
      // Values of the block types reach 2000, so x stays in [-1, 1] to keep sums below 2^24.
      const std::vector<float> x = random_integers(n, seed++, testing::is_random_block_type(type) ? 1 : 8);

      const double expected = dot_row_ref(type, row.data(), x.data(), n);
      EXPECT_EQ(dot_row(type, row.data(), x.data(), n), static_cast<float>(expected))
          << dtype_name(type) << " n=" << n;
    }
  }
}

TEST_P(DotRow, EmptyRowIsZero) {
  const float x = 1.0f;
  const uint8_t row[4] = {};
  EXPECT_EQ(dot_row(DType::F32, row, &x, 0), 0.0f);
  EXPECT_EQ(dot_f32(&x, &x, 0), 0.0f);
}

TEST_P(DotRow, DequantizeMatchesReference) {
  uint32_t seed = 200;
  for (DType type : kKernelTypes) {
    for (size_t n : lengths(type)) {
      const std::vector<uint8_t> row = testing::is_random_block_type(type)
                                           ? testing::random_blocks(type, n, seed++)
                                           : encode_row(type, random_floats(n, seed++, -3.0f, 3.0f));
      std::vector<float> expected(n), actual(n + 1, 42.0f);
      dequantize_row_ref(type, row.data(), expected.data(), n);
      dequantize_row(type, row.data(), actual.data(), n);
      for (size_t i = 0; i < n; ++i) {
        ASSERT_EQ(std::bit_cast<uint32_t>(actual[i]), std::bit_cast<uint32_t>(expected[i]))
            << dtype_name(type) << " n=" << n << " i=" << i;
      }
      EXPECT_EQ(actual[n], 42.0f) << "wrote past the end, " << dtype_name(type) << " n=" << n;
    }
  }
}

// Every fp16 bit pattern, so subnormals, infinities and NaN go through the
// vector conversion of each ISA.
TEST_P(DotRow, DequantizeEveryF16) {
  const size_t n = 0x10000;
  std::vector<uint16_t> halves(n);
  for (size_t i = 0; i < n; ++i) halves[i] = static_cast<uint16_t>(i);
  std::vector<float> actual(n);
  dequantize_row(DType::F16, reinterpret_cast<const uint8_t*>(halves.data()), actual.data(), n);

  for (size_t i = 0; i < n; ++i) {
    const float expected = f16_to_f32(halves[i]);
    if (std::isnan(expected)) {
      EXPECT_TRUE(std::isnan(actual[i])) << std::hex << i;
    } else {
      ASSERT_EQ(std::bit_cast<uint32_t>(actual[i]), std::bit_cast<uint32_t>(expected)) << std::hex << i;
    }
  }
}

// Scales that are subnormal, negative, the fp16 maximum and zero.
TEST_P(DotRow, Q8UnusualScales) {
  const uint16_t scales[] = {0x0001, 0x83ff, 0xbc00, 0x7bff, 0x0000, 0x2e66};
  const size_t n_blocks = std::size(scales);
  const size_t n = n_blocks * 32;
  const std::vector<float> quants = random_integers(n, 300, 127);
  std::vector<uint8_t> row = testing::encode_q8_unit_scale(quants);
  for (size_t b = 0; b < n_blocks; ++b) std::memcpy(row.data() + b * 34, &scales[b], 2);

  std::vector<float> expected(n), actual(n);
  dequantize_row_ref(DType::Q8_0, row.data(), expected.data(), n);
  dequantize_row(DType::Q8_0, row.data(), actual.data(), n);
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(std::bit_cast<uint32_t>(actual[i]), std::bit_cast<uint32_t>(expected[i])) << i;
  }
  EXPECT_EQ(expected[0], quants[0] * std::ldexp(1.0f, -24));

  // The fp16 maximum times 127 * 32 stays finite in float.
  const std::vector<float> x = random_floats(n, 301);
  const std::vector<float> x_kernel = testing::kernel_activations(DType::Q8_0, x);
  EXPECT_NEAR(dot_row(DType::Q8_0, row.data(), x.data(), n), dot_row_ref(DType::Q8_0, row.data(), x_kernel.data(), n),
              dot_tolerance(n, testing::abs_dot(DType::Q8_0, row.data(), x_kernel.data(), n)));
}

TEST_P(DotRow, DotF32MatchesReference) {
  uint32_t seed = 400;
  for (size_t n : lengths(DType::F32)) {
    const std::vector<float> a = random_floats(n, seed++);
    const std::vector<float> b = random_floats(n, seed++);
    const auto* a_bytes = reinterpret_cast<const uint8_t*>(a.data());
    EXPECT_EQ(dot_f32(a.data(), b.data(), n), dot_row(DType::F32, a_bytes, b.data(), n)) << n;
    EXPECT_NEAR(dot_f32(a.data(), b.data(), n), dot_row_ref(DType::F32, a_bytes, b.data(), n),
                dot_tolerance(n, abs_dot(DType::F32, a_bytes, b.data(), n)))
        << n;
  }
}

TEST_P(DotRow, AxpyMatchesReference) {
  uint32_t seed = 500;
  for (size_t n : lengths(DType::F32)) {
    const std::vector<float> x = random_floats(n, seed++);
    const std::vector<float> y0 = random_floats(n, seed++);
    const float a = -0.7f;
    std::vector<float> y = y0;
    y.push_back(42.0f);
    axpy_f32(a, x.data(), y.data(), n);

    // One rounding with FMA, two without: within one ulp of the sizes involved.
    for (size_t i = 0; i < n; ++i) {
      const double exact = static_cast<double>(a) * x[i] + y0[i];
      const double scale = std::fabs(static_cast<double>(a) * x[i]) + std::fabs(y0[i]);
      EXPECT_NEAR(y[i], exact, scale * std::ldexp(1.0, -23)) << "n=" << n << " i=" << i;
    }
    EXPECT_EQ(y[n], 42.0f) << "wrote past the end, n=" << n;
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, DotRow, ::testing::ValuesIn(testing::isa_params()), testing::isa_param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(DotRow);

}  // namespace
}  // namespace edgelm
