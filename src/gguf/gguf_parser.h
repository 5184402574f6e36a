#pragma once
// Reads and validates the GGUF header, metadata and tensor infos of one image.

#include <cstddef>
#include <cstdint>
#include <string>

#include "gguf/byte_reader.h"
#include "gguf/gguf_file.h"

namespace edgelm {

// Limits that keep a hostile file from exhausting the stack or memory. Real
// files use no nested arrays, and by estimate a 262k-token vocabulary with
// scores, token types and merges needs about 1.3 million metadata values.
// NOTE: at the value limit the parsed metadata takes up to about 400 MB
// (48 bytes per GgufValue), even for one-byte values in the file.
inline constexpr int kMaxArrayDepth = 8;
inline constexpr uint64_t kMaxMetadataValues = uint64_t{1} << 23;
inline constexpr uint32_t kMaxTensorDims = 4;
// Keys and tensor names must be valid UTF-8 (the format specifies ASCII keys)
// so that messages can print them. String values stay raw bytes, because
// token pieces may be any bytes.
inline constexpr size_t kMaxKeyBytes = 65535;
inline constexpr size_t kMaxTensorNameBytes = 64;  // the GGUF format's limit
inline constexpr uint64_t kDefaultAlignment = 32;

class GgufParser {
 public:
  GgufParser(const uint8_t* data, size_t size, const std::string& name);

  // Fills `file` from the image; throws Error on the first problem.
  void parse_into(GgufFile& file);

 private:
  void read_header();
  void read_metadata();
  GgufValue read_value(GgufType type, int depth, const FieldName& field);
  GgufArray read_array(int depth, const FieldName& field);
  void read_tensor_infos();
  GgufTensor read_tensor_info(uint64_t index);
  void read_alignment();
  void place_tensors();
  void check_overlaps() const;

  const uint8_t* data_;
  size_t size_;
  std::string name_;
  ByteReader reader_;
  GgufFile* file_ = nullptr;
  uint64_t tensor_count_ = 0;
  uint64_t kv_count_ = 0;
  uint64_t value_count_ = 0;
};

}  // namespace edgelm
