#pragma once
// Writes small GGUF images for tests, including deliberately broken ones.

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"
#include "tensor/dtype.h"

namespace edgelm::testing {

// Little-endian byte buffer with GGUF's encodings of numbers and strings.
class ByteWriter {
 public:
  template <typename T>
  ByteWriter& put(T value) {
    size_t at = bytes_.size();
    bytes_.resize(at + sizeof(T));
    std::memcpy(bytes_.data() + at, &value, sizeof(T));
    return *this;
  }

  ByteWriter& u8(uint8_t v) { return put(v); }
  ByteWriter& u32(uint32_t v) { return put(v); }
  ByteWriter& u64(uint64_t v) { return put(v); }

  // A GGUF string: uint64 length, then the bytes.
  ByteWriter& str(std::string_view text) {
    u64(text.size());
    return append_bytes(text.data(), text.size());
  }

  ByteWriter& append(const ByteWriter& other) { return append_bytes(other.bytes_.data(), other.bytes_.size()); }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  size_t size() const { return bytes_.size(); }

 private:
  // resize and memcpy in place of vector::insert, which trips GCC 12's
  // -Wstringop-overflow and -Warray-bounds false positives at -O3.
  ByteWriter& append_bytes(const void* data, size_t size) {
    if (size == 0) return *this;
    size_t at = bytes_.size();
    bytes_.resize(at + size);
    std::memcpy(bytes_.data() + at, data, size);
    return *this;
  }

  std::vector<uint8_t> bytes_;
};

// An array value's payload: element type, count, then the encoded elements.
inline ByteWriter gguf_array(GgufType element_type, uint64_t count, const ByteWriter& elements) {
  ByteWriter out;
  out.u32(static_cast<uint32_t>(element_type)).u64(count).append(elements);
  return out;
}

// Builds a GGUF image: header, metadata, tensor infos, padding, data.
// Tensors added without an offset are placed one after another at the
// alignment; the data section is filled with the byte pattern i % 251.
class GgufBuilder {
 public:
  GgufBuilder& version(uint32_t v) {
    version_ = v;
    return *this;
  }
  GgufBuilder& magic(std::string_view m) {
    magic_ = std::string(m);
    return *this;
  }
  // Overrides the counts written in the header.
  GgufBuilder& tensor_count(uint64_t n) {
    tensor_count_ = n;
    return *this;
  }
  GgufBuilder& kv_count(uint64_t n) {
    kv_count_ = n;
    return *this;
  }
  // Alignment used for padding and automatic offsets (does not write the key).
  GgufBuilder& alignment(uint64_t a) {
    alignment_ = a;
    return *this;
  }
  // Overrides the data section size (default: up to the end of the last tensor).
  GgufBuilder& data_size(uint64_t n) {
    data_size_ = n;
    return *this;
  }

  // One metadata entry with a raw value payload.
  GgufBuilder& kv(std::string_view key, GgufType type, const ByteWriter& payload) {
    return kv_raw(key, static_cast<uint32_t>(type), payload);
  }
  GgufBuilder& kv_raw(std::string_view key, uint32_t type_id, const ByteWriter& payload) {
    metadata_.str(key).u32(type_id).append(payload);
    ++n_kv_;
    return *this;
  }

  GgufBuilder& kv_u32(std::string_view key, uint32_t v) { return kv(key, GgufType::UINT32, ByteWriter().u32(v)); }
  GgufBuilder& kv_u64(std::string_view key, uint64_t v) { return kv(key, GgufType::UINT64, ByteWriter().u64(v)); }
  GgufBuilder& kv_f32(std::string_view key, float v) { return kv(key, GgufType::FLOAT32, ByteWriter().put(v)); }
  GgufBuilder& kv_string(std::string_view key, std::string_view v) {
    return kv(key, GgufType::STRING, ByteWriter().str(v));
  }
  GgufBuilder& kv_strings(std::string_view key, const std::vector<std::string>& items) {
    ByteWriter elements;
    for (const std::string& item : items) elements.str(item);
    return kv(key, GgufType::ARRAY, gguf_array(GgufType::STRING, items.size(), elements));
  }

  // One tensor info; `offset` defaults to the next aligned free position.
  GgufBuilder& tensor(std::string_view name, std::vector<uint64_t> dims, DType type,
                      std::optional<uint64_t> offset = std::nullopt) {
    return tensor_raw(name, dims, static_cast<uint32_t>(type), offset);
  }
  GgufBuilder& tensor_raw(std::string_view name, std::vector<uint64_t> dims, uint32_t type_id,
                          std::optional<uint64_t> offset = std::nullopt) {
    uint64_t n_bytes = tensor_bytes(dims, type_id);
    uint64_t at = offset.value_or(next_offset_);
    infos_.str(name).u32(static_cast<uint32_t>(dims.size()));
    for (uint64_t dim : dims) infos_.u64(dim);
    infos_.u32(type_id).u64(at);
    ++n_tensors_;

    uint64_t end = at + n_bytes;
    if (end > data_end_ && end >= at) data_end_ = end;
    next_offset_ = (data_end_ + alignment_ - 1) / alignment_ * alignment_;
    return *this;
  }

  // Appends raw bytes after the tensor infos (for hand-made tensor infos).
  GgufBuilder& raw_info(const ByteWriter& bytes) {
    infos_.append(bytes);
    return *this;
  }

  std::vector<uint8_t> build() const {
    ByteWriter out;
    for (char c : magic_) out.u8(static_cast<uint8_t>(c));
    out.u32(version_);
    out.u64(tensor_count_.value_or(n_tensors_));
    out.u64(kv_count_.value_or(n_kv_));
    out.append(metadata_).append(infos_);

    // Padding and data only when there is a data section to write.
    uint64_t data_bytes = data_size_.value_or(data_end_);
    if (n_tensors_ > 0 || data_bytes > 0) {
      while (out.size() % alignment_ != 0) out.u8(0);
      for (uint64_t i = 0; i < data_bytes; ++i) out.u8(static_cast<uint8_t>(i % 251));
    }
    return out.bytes();
  }

  // Size of the header, metadata and tensor infos, before any padding.
  size_t header_size() const { return 4 + 4 + 8 + 8 + metadata_.size() + infos_.size(); }

 private:
  // Bytes of a tensor whose layout is known; 0 for broken shapes or types.
  static uint64_t tensor_bytes(const std::vector<uint64_t>& dims, uint32_t type_id) {
    const DTypeInfo* info = find_dtype(type_id);
    if (info == nullptr || dims.empty() || dims[0] % info->block_size != 0) return 0;
    uint64_t bytes = dims[0] / info->block_size * info->block_bytes;
    for (size_t i = 1; i < dims.size(); ++i) {
      if (__builtin_mul_overflow(bytes, dims[i], &bytes)) return 0;
    }
    return bytes > (uint64_t{1} << 24) ? 0 : bytes;
  }

  std::string magic_ = "GGUF";
  uint32_t version_ = 3;
  std::optional<uint64_t> tensor_count_;
  std::optional<uint64_t> kv_count_;
  std::optional<uint64_t> data_size_;
  uint64_t alignment_ = 32;
  uint64_t n_kv_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t next_offset_ = 0;
  uint64_t data_end_ = 0;
  ByteWriter metadata_;
  ByteWriter infos_;
};

}  // namespace edgelm::testing
