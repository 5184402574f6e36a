#pragma once
// Bounds-checked reader for GGUF files (versions 2 and 3), with the tensor data memory-mapped.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/mapped_file.h"
#include "tensor/dtype.h"

namespace edgelm {

// Metadata value types, numbered as in the GGUF format.
enum class GgufType : uint32_t {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
};

// Name of a metadata value type as the GGUF format spells it ("uint32",
// "string", ...), or "unknown" for an id outside the format.
std::string_view gguf_type_name(GgufType type);

struct GgufValue;

// An array value: the element type and the elements (arrays may nest).
struct GgufArray {
  GgufType element_type = GgufType::UINT8;
  std::vector<GgufValue> items;
};

// One metadata value. Unsigned integers are held as uint64_t, signed as
// int64_t, floats as double; `type` keeps the type the file declared.
struct GgufValue {
  GgufType type = GgufType::UINT8;
  std::variant<uint64_t, int64_t, double, bool, std::string, GgufArray> value;
};

// One tensor: shape in ggml order (dims[0] is the contiguous row length),
// element type, and its bytes inside the mapped file.
struct GgufTensor {
  std::string name;
  std::vector<uint64_t> dims;
  DType type = DType::F32;
  uint64_t offset = 0;      // from the start of the data section
  const uint8_t* data = nullptr;
  uint64_t n_bytes = 0;

  uint64_t n_elements() const;
  uint64_t n_rows() const;  // product of dims[1..]
};

// Throws Error naming `path` when nothing exists there, with the message every
// command gives for a missing model. Other failures, such as a missing
// permission, are reported when the file is opened.
void check_model_path_exists(const std::string& path);

class GgufFile {
 public:
  // Opens, maps (or reads, see FileAccess) and validates `path`. Every
  // structural problem throws Error with the file, the field and the bad value.
  static std::unique_ptr<GgufFile> open(const std::string& path, FileAccess access = FileAccess::kMap);

  // Parses a GGUF image already in memory (used by the fuzzer and tests).
  // `name` stands for the file name in error messages. The buffer must
  // outlive the returned object.
  static std::unique_ptr<GgufFile> parse(const uint8_t* data, size_t size, const std::string& name);

  // Builds a file from metadata and tensors made in memory, such as a
  // Hugging Face checkpoint read as GGUF. `keep_alive` owns whatever the
  // tensors' data points into. Throws Error on a repeated key or tensor name.
  static std::unique_ptr<GgufFile> assemble(std::string name, std::vector<std::pair<std::string, GgufValue>> metadata,
                                            std::vector<GgufTensor> tensors, std::shared_ptr<const void> keep_alive);

  const std::string& path() const { return path_; }
  // Returns how the file's bytes reached memory. Parsed and assembled images give kMap.
  FileAccess access() const { return mapping_ ? mapping_->access() : FileAccess::kMap; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }

  // Metadata in file order and by key.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }
  const GgufValue* find(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters. The required forms throw Error naming the key when it is
  // missing or has an incompatible type; the optional forms return nullopt
  // when missing and throw when the type is wrong. Integer getters accept any
  // integer type whose value fits.
  std::string get_string(std::string_view key) const;
  uint64_t get_uint(std::string_view key) const;
  int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;
  bool get_bool(std::string_view key) const;
  std::optional<std::string> find_string(std::string_view key) const;
  std::optional<uint64_t> find_uint(std::string_view key) const;
  std::optional<double> find_float(std::string_view key) const;
  std::optional<bool> find_bool(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<float> get_float_array(std::string_view key) const;
  std::vector<int64_t> get_int_array(std::string_view key) const;

  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* find_tensor(std::string_view name) const;

 private:
  GgufFile() = default;

  std::string path_;
  std::unique_ptr<MappedFile> mapping_;
  std::shared_ptr<const void> keep_alive_;  // the data of an assembled file
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::map<std::string, size_t, std::less<>> metadata_index_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;

  friend class GgufParser;
};

}  // namespace edgelm
