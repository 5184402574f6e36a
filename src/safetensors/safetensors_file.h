#pragma once
// Bounds-checked reader for one safetensors file, with the tensor data memory-mapped.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/mapped_file.h"

namespace edgelm {

// Element types as safetensors names them. kOther is any type edgelm does
// not convert (integers, bool, float64, other float8 kinds). Such a tensor is
// still listed, so that errors can name it.
enum class SafetensorsDType { F32, F16, BF16, F8_E4M3, kOther };

// Bytes of one element, or 0 for kOther.
size_t safetensors_dtype_size(SafetensorsDType type);

struct SafetensorsTensor {
  std::string name;
  std::string dtype_name;  // as the header spells it: "BF16", "F8_E4M3", ...
  SafetensorsDType dtype = SafetensorsDType::kOther;
  std::vector<uint64_t> shape;  // row-major: shape.back() is the contiguous row length
  const uint8_t* data = nullptr;
  uint64_t n_bytes = 0;

  uint64_t n_elements() const;
};

class SafetensorsFile {
 public:
  // Opens, maps and validates `path`. Throws Error naming the file and, where
  // there is one, the tensor, for any of:
  //  - a file under 8 bytes, a header length past the end of the file or
  //    above 100 MiB, a header that is not a JSON object or has a key twice;
  //  - an entry without dtype, shape or data_offsets, or with values of the
  //    wrong JSON type, negative or non-integer numbers;
  //  - a shape with more than 2^64 elements, offsets out of range or
  //    overlapping another tensor, a byte count that does not match dtype
  //    and shape;
  //  - "__metadata__" values that are not strings.
  // Unknown dtype names are accepted as kOther. Their byte count is checked
  // where the element size is known from the name: 8 bytes for F64, I64, U64
  // and C64, 4 for I32 and U32, 2 for I16 and U16, 1 for I8, U8, BOOL,
  // F8_E5M2 and F8_E8M0.
  static std::unique_ptr<SafetensorsFile> open(const std::string& path);

  // Parses an image already in memory (the fuzzer and tests use it). `name`
  // stands for the file in error messages; the buffer must outlive the result.
  static std::unique_ptr<SafetensorsFile> parse(const uint8_t* data, size_t size, const std::string& name);

  const std::string& path() const { return path_; }

  // Tensors in the order of their data offsets.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;

  // The optional "__metadata__" object (string values only).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;

  std::string path_;
  std::unique_ptr<MappedFile> mapping_;
  std::vector<SafetensorsTensor> tensors_;
  std::map<std::string, size_t, std::less<>> index_;
  std::map<std::string, std::string> metadata_;
};

// Converts `n` elements starting at element `first` of a F32, F16, BF16 or
// F8_E4M3 tensor to float. F8_E4M3 is PyTorch's float8_e4m3fn: no
// infinities, S.1111.111 is NaN, the largest value is 448. Float8 values are
// returned unscaled; see SafetensorsCheckpoint::to_float for the scales.
// Throws Error for other dtypes and for a range past the tensor's end.
void safetensors_to_float(const SafetensorsTensor& tensor, uint64_t first, uint64_t n, float* out);

}  // namespace edgelm
