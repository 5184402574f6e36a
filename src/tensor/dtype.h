#pragma once
// Tensor element types as GGUF numbers them, with their block layouts.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edgelm {

// Values are the ggml type ids stored in GGUF tensor infos.
enum class DType : uint32_t {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
};

// Layout of one type: `block_size` elements are stored in `block_bytes` bytes.
struct DTypeInfo {
  DType type;
  std::string_view name;
  uint32_t block_size;
  uint32_t block_bytes;
};

// Returns the layout of a ggml type id, or nullptr when the id is not a known type.
const DTypeInfo* find_dtype(uint32_t id);

// Returns the layout of a known type.
const DTypeInfo& dtype_info(DType type);

// Name as llama.cpp prints it ("f32", "q8_0", ...).
std::string_view dtype_name(DType type);

// Bytes of one row of `n` elements; `n` must be a multiple of the block size.
size_t row_bytes(DType type, size_t n);

}  // namespace edgelm
