#pragma once
// Per-type row quantizers, each equal to ggml's quantize_row_*_ref (what
// llama-quantize runs when no importance matrix is given). `n` is a multiple
// of the type's block size; `y` receives n / block_size blocks.
// Use quantize_row() in quant/quantize.h, which checks its arguments.

#include <cstddef>
#include <cstdint>

namespace edgelm::quant {

void quantize_row_q4_0(const float* x, uint8_t* y, size_t n);
void quantize_row_q4_1(const float* x, uint8_t* y, size_t n);
void quantize_row_q5_0(const float* x, uint8_t* y, size_t n);
void quantize_row_q5_1(const float* x, uint8_t* y, size_t n);
void quantize_row_q8_0(const float* x, uint8_t* y, size_t n);

void quantize_row_q2_k(const float* x, uint8_t* y, size_t n);
void quantize_row_q3_k(const float* x, uint8_t* y, size_t n);
void quantize_row_q4_k(const float* x, uint8_t* y, size_t n);
void quantize_row_q5_k(const float* x, uint8_t* y, size_t n);
void quantize_row_q6_k(const float* x, uint8_t* y, size_t n);

}  // namespace edgelm::quant
