#pragma once
// Matrix-vector and matrix-matrix products of file-format weights with float32 activations.
// SIMD through Highway with run-time dispatch; every path matches tensor/reference.h.

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_pool.h"
#include "tensor/weight_matrix.h"

namespace edgelm {

// y[r] = sum_c W[r][c] * x[c] for every row r. x has w.cols floats, y has w.rows.
// Rows are split across the pool; each row's sum order is fixed, so results do
// not depend on the thread count.
void matvec(const WeightMatrix& w, const float* x, float* y, ThreadPool& pool);

// Y[t][r] = sum_c W[r][c] * X[t][c] for t < n_tokens. X is n_tokens x w.cols,
// Y is n_tokens x w.rows, both row-major. Each output equals what matvec gives
// for that token alone (batch-invariant).
void matmul(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool);

// Several products of one input: outputs[i].y = outputs[i].w times X, as
// matmul gives each, in one parallel loop (so the pool synchronizes once, not
// once per matrix). Used for the Q, K, V projections and for gate and up.
struct MatmulOutput {
  const WeightMatrix* w;
  float* y;
};
void matmul_shared_input(std::span<const MatmulOutput> outputs, const float* x, size_t n_tokens, ThreadPool& pool);

// Dot product of one weight row with x (n elements). It takes the path
// matvec takes for `type`, so it returns the same float as matvec's row.
float dot_row(DType type, const uint8_t* row, const float* x, size_t n);

// The 8-bit type that matvec, matmul and dot_row quantize the activations to
// for weights of `type` on the active ISA (Q8_0 or Q8_K, blocks of 32 or 256
// values with one scale each), or F32 where they multiply float activations.
// The integer kernels exist for all block types on AVX2 and AVX-512. On random rows their error is below 1e-3 of sum |w x|, where the
// float path's is below 1e-6.
DType activation_type(DType weight_type);

// Float dot product, used for attention scores.
float dot_f32(const float* a, const float* b, size_t n);

// y[i] += a * x[i], used for attention-weighted values.
void axpy_f32(float a, const float* x, float* y, size_t n);

// Writes one row of `type` as floats (embedding lookup).
void dequantize_row(DType type, const uint8_t* src, float* dst, size_t n);

// Instruction sets. The names are Highway's target names in lower case
// ("avx3", "avx2", "sse4", "ssse3", "scalar" on x86 builds).
std::vector<std::string> available_isas();  // best first, those this CPU runs
std::string active_isa();
// Restricts dispatch to `name` and the targets below it. Throws Error for an
// unknown name or one this CPU lacks. "auto" restores the best.
void set_max_isa(std::string_view name);

// Reads the environment variable EDGELM_ISA on the first call and applies it
// like set_max_isa; later calls do nothing. Every function above calls it
// first, and Highway kernels elsewhere call it before their first dispatch so
// that they run on the same target. Throws Error for a name this CPU lacks.
// NOTE: set_max_isa changes Highway's process-wide target choice, so call it
// while no kernel runs on another thread.
void init_isa();

}  // namespace edgelm
