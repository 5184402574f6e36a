#pragma once
// Entry points into the Highway kernels of dot_kernels.cpp. They dispatch to
// the chosen SIMD target without validating their arguments, because the
// public functions of matvec.h check types and sizes first.

#include <cstddef>
#include <cstdint>

#include "tensor/weight_matrix.h"

namespace edgelm::kernels {

// Y[t][r] = dot(W row r, X[t]) for rows [row_begin, row_end) and all tokens.
// Y is n_tokens x w.rows. Every output has the sum order of dot_row.
void matmul_rows(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, size_t row_begin,
                 size_t row_end);

float dot_row(DType type, const uint8_t* row, const float* x, size_t n);
float dot_f32(const float* a, const float* b, size_t n);
void axpy_f32(float a, const float* x, float* y, size_t n);
void dequantize_row(DType type, const uint8_t* src, float* dst, size_t n);

// The type the active target quantizes activations to for weights of
// `type`: Q8_0 or Q8_K where an integer kernel exists, otherwise F32.
DType activation_type(DType type);

// Quantizes one activation row of n floats to activation_type's result,
// with the bytes of quantize_activations_ref.
void quantize_activations(DType type, const float* x, uint8_t* dst, size_t n);

// Like matmul_rows, with the activations of token t already quantized to
// activation_type(w.type) at xq + t * xq_stride.
void matmul_rows_quantized(const WeightMatrix& w, const uint8_t* xq, size_t xq_stride, size_t n_tokens, float* y,
                           size_t row_begin, size_t row_end);

// Dot product of one weight row with quantized activations xq (n values).
float dot_row_quantized(DType type, const uint8_t* row, const uint8_t* xq, size_t n);

// The HWY_* bit of the target the dispatch currently calls.
int64_t dispatched_target();

}  // namespace edgelm::kernels
