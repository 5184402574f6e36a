#include "kernels/matvec.h"

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "isa_fixture.h"
#include "tensor/reference.h"
#include "weight_rows.h"

namespace edgelm {
namespace {

using testing::kKernelTypes;
using testing::random_floats;

class Matvec : public testing::IsaTest {};

// A random matrix whose rows are `padding` bytes apart beyond their size,
// as a view into a larger tensor would be.
struct Matrix {
  std::vector<uint8_t> bytes;
  WeightMatrix view;

  Matrix(DType type, size_t rows, size_t cols, size_t padding, uint32_t seed) {
    const size_t stride = row_bytes(type, cols) + padding;
    bytes.assign(rows * stride + 1, 0xee);
    for (size_t r = 0; r < rows; ++r) {
      const std::vector<uint8_t> row = testing::random_row(type, cols, seed + static_cast<uint32_t>(r));
      if (!row.empty()) std::memcpy(bytes.data() + r * stride, row.data(), row.size());
    }
    view = WeightMatrix{type, bytes.data(), rows, cols, stride};
  }
};

// A column count near odd_cols that is a whole number of blocks of `type`.
size_t cols_for(DType type, size_t odd_cols) {
  const size_t block = dtype_info(type).block_size;
  return block == 1 ? odd_cols : block * (odd_cols % 7 + 1);
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

TEST_P(Matvec, MatchesDotRow) {
  ThreadPool pool(2);
  uint32_t seed = 1000;
  for (DType type : kKernelTypes) {
    for (size_t rows : {1, 15, 16, 17, 50}) {
      for (size_t odd_cols : {1, 33, 173, 300}) {
        const size_t cols = cols_for(type, odd_cols);
        const Matrix w(type, rows, cols, rows % 2 == 0 ? 6 : 0, seed);
        const std::vector<float> x = random_floats(cols, seed + 500);
        const std::vector<float> x_kernel = testing::kernel_activations(type, x);
        seed += 1000;

        std::vector<float> y(rows + 1, 42.0f);
        matvec(w.view, x.data(), y.data(), pool);

        for (size_t r = 0; r < rows; ++r) {
          const uint8_t* row = w.view.row(r);
          EXPECT_EQ(std::bit_cast<uint32_t>(y[r]), std::bit_cast<uint32_t>(dot_row(type, row, x.data(), cols)))
              << dtype_name(type) << " rows=" << rows << " cols=" << cols << " r=" << r;
          EXPECT_NEAR(y[r], dot_row_ref(type, row, x_kernel.data(), cols),
                      testing::dot_tolerance(cols, testing::abs_dot(type, row, x_kernel.data(), cols)));
        }
        EXPECT_EQ(y[rows], 42.0f) << "wrote past the end";
      }
    }
  }
}

TEST_P(Matvec, SameForThreadCounts) {
  ThreadPool one(1), two(2), three(3);
  for (DType type : kKernelTypes) {
    const size_t cols = dtype_info(type).block_size == 1 ? 250 : 512;
    const Matrix w(type, 101, cols, 0, 2000);
    const std::vector<float> x = random_floats(cols, 2001);

    std::vector<float> y1(101), y2(101), y3(101);
    matvec(w.view, x.data(), y1.data(), one);
    matvec(w.view, x.data(), y2.data(), two);
    matvec(w.view, x.data(), y3.data(), three);
    EXPECT_TRUE(same_bits(y1, y2)) << dtype_name(type);
    EXPECT_TRUE(same_bits(y1, y3)) << dtype_name(type);
  }
}

// Token counts cover whole token tiles, partial tiles, single tokens, and
// prompts that cross the 64-token blocks of the AVX2 Q8_0 kernel.
TEST_P(Matvec, MatmulMatchesMatvec) {
  ThreadPool pool(3);
  for (DType type : kKernelTypes) {
    const size_t rows = 37;
    const size_t cols = dtype_info(type).block_size == 1 ? 171 : 512;
    const Matrix w(type, rows, cols, 4, 3000);

    for (size_t n_tokens : {1, 2, 3, 4, 5, 7, 8, 9, 63, 64, 66, 131}) {
      const std::vector<float> x = random_floats(n_tokens * cols, 3001 + static_cast<uint32_t>(n_tokens));
      std::vector<float> y(n_tokens * rows + 1, 42.0f);
      matmul(w.view, x.data(), n_tokens, y.data(), pool);
      EXPECT_EQ(y.back(), 42.0f) << "wrote past the end";

      for (size_t t = 0; t < n_tokens; ++t) {
        std::vector<float> expected(rows);
        matvec(w.view, x.data() + t * cols, expected.data(), pool);
        const std::vector<float> actual(y.begin() + t * rows, y.begin() + (t + 1) * rows);
        EXPECT_TRUE(same_bits(actual, expected)) << dtype_name(type) << " n_tokens=" << n_tokens << " t=" << t;
      }
    }
  }
}

// One loop over several matrices gives each one's matmul bit for bit, and
// matrices of different types fall back to one matmul each.
TEST_P(Matvec, SharedInputMatchesMatmul) {
  ThreadPool pool(2);
  uint32_t seed = 7000;
  for (DType type : kKernelTypes) {
    const size_t cols = cols_for(type, 173);
    const DType other = type == DType::Q8_0 ? DType::F32 : DType::Q8_0;
    for (DType second : {type, other}) {
      const size_t second_cols = dtype_info(second).block_size == 1 || cols % 32 == 0 ? cols : 0;
      if (second_cols == 0) continue;
      const Matrix a(type, 37, cols, 0, seed);
      const Matrix b(second, 20, cols, 4, seed + 100);
      const Matrix c(type, 5, cols, 0, seed + 200);
      seed += 1000;
      const size_t n_tokens = 6;
      const std::vector<float> x = random_floats(n_tokens * cols, seed);

      std::vector<float> ya(n_tokens * 37), yb(n_tokens * 20), yc(n_tokens * 5);
      const MatmulOutput outputs[] = {{&a.view, ya.data()}, {&b.view, yb.data()}, {&c.view, yc.data()}};
      matmul_shared_input(outputs, x.data(), n_tokens, pool);

      std::vector<float> ea(ya.size()), eb(yb.size()), ec(yc.size());
      matmul(a.view, x.data(), n_tokens, ea.data(), pool);
      matmul(b.view, x.data(), n_tokens, eb.data(), pool);
      matmul(c.view, x.data(), n_tokens, ec.data(), pool);
      EXPECT_TRUE(same_bits(ya, ea)) << dtype_name(type) << " with " << dtype_name(second);
      EXPECT_TRUE(same_bits(yb, eb)) << dtype_name(type) << " with " << dtype_name(second);
      EXPECT_TRUE(same_bits(yc, ec)) << dtype_name(type) << " with " << dtype_name(second);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Isa, Matvec, ::testing::ValuesIn(testing::isa_params()), testing::isa_param_name);
GTEST_ALLOW_UNINSTANTIATED_PARAMETERIZED_TEST(Matvec);

TEST(Matvec, RejectsBadMatrix) {
  ThreadPool pool(1);
  std::vector<uint8_t> bytes(4096);
  std::vector<float> x(64), y(64);

  const WeightMatrix unsupported{DType::IQ4_NL, bytes.data(), 2, 32, 18};
  EXPECT_THROW(matvec(unsupported, x.data(), y.data(), pool), Error);

  const WeightMatrix partial_block{DType::Q8_0, bytes.data(), 2, 40, 64};
  EXPECT_THROW(matvec(partial_block, x.data(), y.data(), pool), Error);

  const WeightMatrix short_stride{DType::F32, bytes.data(), 2, 16, 32};
  EXPECT_THROW(matmul(short_stride, x.data(), 1, y.data(), pool), Error);

  EXPECT_THROW(dot_row(DType::IQ2_XXS, bytes.data(), x.data(), 256), Error);
  EXPECT_THROW(dot_row(DType::Q4_K, bytes.data(), x.data(), 32), Error);
  EXPECT_THROW(dequantize_row(DType::Q8_0, bytes.data(), y.data(), 31), Error);
}

TEST(Matvec, EmptyShapes) {
  ThreadPool pool(2);
  std::vector<float> x(4, 1.0f), y(4, 42.0f);

  // No rows: nothing is written. No columns: every output is an empty sum.
  const WeightMatrix no_rows{DType::F32, nullptr, 0, 4, 16};
  matvec(no_rows, x.data(), y.data(), pool);
  EXPECT_EQ(y[0], 42.0f);

  std::vector<uint8_t> bytes(16);
  const WeightMatrix no_cols{DType::F16, bytes.data(), 3, 0, 0};
  matvec(no_cols, x.data(), y.data(), pool);
  EXPECT_EQ(y[0], 0.0f);
  EXPECT_EQ(y[2], 0.0f);
  EXPECT_EQ(y[3], 42.0f);

  const WeightMatrix one{DType::F32, reinterpret_cast<const uint8_t*>(x.data()), 1, 4, 16};
  matmul(one, x.data(), 0, y.data(), pool);
  EXPECT_EQ(y[3], 42.0f);
}

}  // namespace
}  // namespace edgelm
