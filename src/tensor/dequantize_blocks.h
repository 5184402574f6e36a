#pragma once
// Scalar dequantizers for one block of each block-quantized weight type, with
// ggml's arithmetic, so the results are bit-identical to ggml's.

#include <cstdint>

#include "tensor/dtype.h"

namespace edgelm {

// Whether `type` is one of the block types dequantize_block_ref handles.
bool is_block_quantized(DType type);

// Writes the dtype_info(type).block_size values of one block to dst.
// `type` must satisfy is_block_quantized.
void dequantize_block_ref(DType type, const uint8_t* block, float* dst);

}  // namespace edgelm
