#pragma once
// Float rows to quantized blocks, bit-identical to llama.cpp's reference
// quantizers (ggml's quantize_row_*_ref, used by llama-quantize when it is
// given no importance matrix).

#include <cstddef>
#include <cstdint>
#include <span>

#include "tensor/dtype.h"

namespace edgelm {

// Whether quantize_row can produce `type`: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and
// Q2_K to Q6_K.
bool quantize_supported(DType type);

// The types quantize_row can produce, in DType order.
std::span<const DType> quantizable_types();

// Quantizes the n floats of `src` to `type`, writing row_bytes(type, n)
// bytes to dst. Throws Error when the type is not supported or n is not a
// multiple of its block size. Values must be finite.
void quantize_row(DType type, const float* src, uint8_t* dst, size_t n);

}  // namespace edgelm
