#pragma once
// Scalar reference for the 8-bit quantization of float activations that the
// integer dot-product kernels multiply with quantized weight rows. The SIMD
// quantizer of src/kernels must return the same bytes.

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace edgelm {

// Quantizes one activation row of n floats to `type`, writing
// row_bytes(type, n) bytes; n is a multiple of the block size.
//  - Q8_K, blocks of 256: float d, 256 int8 quants, 16 int16 sums of 16 quants.
//  - Q8_0, blocks of 32: fp16 d, 32 int8 quants (ggml's Q8_0 layout).
// Per block, d = amax / 127 and q = round(x * (127 / amax)) to nearest even,
// clamped to [-127, 127]; an all-zero block has d = 0 and q = 0. NaN inputs
// and NaN products (infinity times 0) become quant 0.
// NOTE: ggml's quantizers round differently: its Q8_0 rounds half away from
// zero, and its Q8_K maps the value of largest magnitude to -128. That does
// not matter here, because only edgelm's kernels read these blocks.
void quantize_activations_ref(DType type, const float* src, uint8_t* dst, size_t n);

// Writes the n values d * q of a row of Q8_K blocks.
void dequantize_row_q8_k_ref(const uint8_t* src, float* dst, size_t n);

}  // namespace edgelm
