#pragma once
// Scalar reference conversions for the supported weight types. The SIMD
// kernels in src/kernels are tested against these.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tensor/dtype.h"

namespace edgelm {

// IEEE half and bfloat16 to float (exact) and back (round to nearest even).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t b);
uint16_t f32_to_bf16(float f);

// Whether a row of `type` can be dequantized and multiplied by the kernels.
bool dtype_supported(DType type);

// The names of the supported types, comma-separated, for error messages.
std::string_view supported_dtype_names();

// Writes the `n` values of one row of `type` to dst as float. n is a multiple
// of the block size. Throws Error for unsupported types.
void dequantize_row_ref(DType type, const uint8_t* src, float* dst, size_t n);

// Dot product of one row of `type` with float vector x, accumulated in double
// so it serves as the ground truth for the SIMD kernels.
double dot_row_ref(DType type, const uint8_t* row, const float* x, size_t n);

// Quantizes n floats (a multiple of 32) to Q8_0 blocks, as ggml does.
void quantize_row_q8_0_ref(const float* src, uint8_t* dst, size_t n);

}  // namespace edgelm
