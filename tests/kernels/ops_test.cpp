#include "kernels/ops.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace edgelm {
namespace {

TEST(Ops, RmsNormScalesByWeight) {
  std::vector<float> x = {1.0f, -2.0f, 3.0f, -4.0f};
  std::vector<float> w = {1.0f, 2.0f, 0.5f, 1.0f};
  std::vector<float> out(4);
  rms_norm(x.data(), w.data(), 1e-6f, out.data(), 4);
  double rms = std::sqrt((1.0 + 4.0 + 9.0 + 16.0) / 4.0 + 1e-6);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(out[i], x[i] / rms * w[i], 1e-6) << i;
}

TEST(Ops, SoftCapBoundsValues) {
  std::vector<float> x = {0.0f, 10.0f, 100.0f, -1000.0f};
  soft_cap(x.data(), x.size(), 50.0f);
  EXPECT_FLOAT_EQ(x[0], 0.0f);
  EXPECT_NEAR(x[1], 50.0 * std::tanh(0.2), 1e-5);
  EXPECT_NEAR(x[2], 50.0 * std::tanh(2.0), 1e-4);
  EXPECT_NEAR(x[3], -50.0, 1e-4);
}

TEST(Ops, GeluTanhMatchesFormula) {
  std::vector<float> gate = {-3.0f, -0.5f, 0.0f, 0.7f, 4.0f};
  std::vector<float> up = {1.0f, 2.0f, 3.0f, -1.0f, 0.5f};
  std::vector<float> expected;
  for (size_t i = 0; i < gate.size(); ++i) {
    double g = gate[i];
    double gelu = 0.5 * g * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (g + 0.044715 * g * g * g)));
    expected.push_back(static_cast<float>(gelu * up[i]));
  }
  gelu_tanh_mul(gate.data(), up.data(), gate.size());
  for (size_t i = 0; i < gate.size(); ++i) EXPECT_NEAR(gate[i], expected[i], 1e-6) << i;
}

// Llama 3.1's rope_freqs divides each pair's frequency by its factor.
TEST(Ops, RopeAnglesUseFrequencyFactors) {
  const uint32_t n_rot = 8;
  const float base = 500000.0f;
  std::vector<float> factors = {1.0f, 2.0f, 4.0f, 8.0f};
  std::vector<float> cos(4), sin(4);
  rope_angles(n_rot, 1000, base, factors.data(), cos.data(), sin.data());
  for (uint32_t i = 0; i < 4; ++i) {
    double angle = 1000.0 * std::pow(500000.0, -2.0 * i / n_rot) / factors[i];
    EXPECT_NEAR(cos[i], std::cos(angle), 1e-6) << i;
    EXPECT_NEAR(sin[i], std::sin(angle), 1e-6) << i;
  }
}

// Halves pair dimension i with i + n_rot/2; adjacent pairs 2i with 2i + 1.
TEST(Ops, RopeRotatePairings) {
  std::vector<float> cos = {0.0f, 1.0f};
  std::vector<float> sin = {1.0f, 0.0f};  // pair 0 turns by 90 degrees, pair 1 stays

  std::vector<float> halves = {1.0f, 2.0f, 3.0f, 4.0f};
  rope_rotate(halves.data(), 4, /*halves=*/true, cos.data(), sin.data());
  EXPECT_EQ(halves, (std::vector<float>{-3.0f, 2.0f, 1.0f, 4.0f}));

  std::vector<float> adjacent = {1.0f, 2.0f, 3.0f, 4.0f};
  rope_rotate(adjacent.data(), 4, /*halves=*/false, cos.data(), sin.data());
  EXPECT_EQ(adjacent, (std::vector<float>{-2.0f, 1.0f, 3.0f, 4.0f}));
}

TEST(Ops, SoftmaxSumsToOne) {
  std::vector<float> x = {1000.0f, 1001.0f, 999.0f};
  softmax(x.data(), x.size());
  EXPECT_NEAR(x[0] + x[1] + x[2], 1.0f, 1e-6);
  EXPECT_NEAR(x[1] / x[0], std::exp(1.0), 1e-4);
}

}  // namespace
}  // namespace edgelm
