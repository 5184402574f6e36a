// The SIMD activation quantizer against quantize_activations_ref, per ISA.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "isa_fixture.h"
#include "kernels/dot_kernels.h"
#include "tensor/quantize_activations.h"
#include "weight_rows.h"

namespace edgelm {
namespace {

class QuantizeActivations : public testing::IsaTest {};

// Random values over many magnitudes, plus ties, zero blocks, NaN and infinity.
std::vector<float> hard_activations(size_t n, uint32_t seed) {
  std::vector<float> x = testing::random_floats(n, seed, -1.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) x[i] = std::ldexp(x[i], static_cast<int>(i / 64 % 40) - 20);

  // Block 1 (of 32 or 256) has amax 127, so x.5 values are ties.
  for (size_t i = 256; i < 288; ++i) x[i] = static_cast<float>(i % 16) - 7.5f;
  x[256] = 127.0f;
  x[257] = 127.0f;  // first Q8_0 block of those
  for (size_t i = 512; i < 800; ++i) x[i] = 0.0f;  // whole zero blocks of both sizes
  x[1000] = std::numeric_limits<float>::quiet_NaN();
  x[1100] = std::numeric_limits<float>::infinity();
  x[1300] = -std::numeric_limits<float>::infinity();
  x[1500] = std::numeric_limits<float>::denorm_min();
  return x;
}

TEST_P(QuantizeActivations, MatchesReference) {
  const size_t n = 2048;
  for (DType type : {DType::Q8_0, DType::Q8_K}) {
    for (uint32_t seed = 1; seed < 4; ++seed) {
      const std::vector<float> x = hard_activations(n, seed);
      std::vector<uint8_t> expected(row_bytes(type, n)), actual(row_bytes(type, n) + 1, 0xee);
      quantize_activations_ref(type, x.data(), expected.data(), n);
      kernels::quantize_activations(type, x.data(), actual.data(), n);

      for (size_t i = 0; i < expected.size(); ++i) {
        ASSERT_EQ(actual[i], expected[i]) << dtype_name(type) << " seed=" << seed << " byte " << i;
      }
      EXPECT_EQ(actual.back(), 0xee) << "wrote past the end";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, QuantizeActivations, ::testing::ValuesIn(testing::isa_params()),
                         testing::isa_param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(QuantizeActivations);

}  // namespace
}  // namespace edgelm
