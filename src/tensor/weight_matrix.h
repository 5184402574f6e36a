#pragma once
// A view of a 2-D weight tensor stored row by row in its file's block format.

#include <cstddef>
#include <cstdint>

#include "tensor/dtype.h"

namespace edgelm {

// Row r contains `cols` elements at data + r * row_stride, in format `type`.
// For GGUF tensors cols is dims[0] and rows is dims[1].
struct WeightMatrix {
  DType type = DType::F32;
  const uint8_t* data = nullptr;
  size_t rows = 0;
  size_t cols = 0;
  size_t row_stride = 0;  // bytes

  const uint8_t* row(size_t r) const { return data + r * row_stride; }
};

}  // namespace edgelm
