#pragma once
// A bounds-checked cursor over a GGUF image. Every read names the field it
// reads, so a short file reports which field ended early and at which byte.

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <type_traits>

namespace edgelm {

// GGUF stores numbers little-endian, and the reader copies them as they are.
static_assert(std::endian::native == std::endian::little, "the GGUF reader needs a little-endian host");

// The advice every message about a damaged file ends with.
inline constexpr std::string_view kDamagedFileAdvice =
    "The file is truncated or corrupt, so re-download or re-convert it.";

// Builds a field's name for an error message. Called only when a read fails,
// so names like "metadata 'tokenizer.ggml.tokens'[70001]" cost nothing on
// the good path.
using FieldName = std::function<std::string()>;

// A FieldName for a fixed name such as "kv_count".
inline FieldName named(const char* name) {
  return [name] { return std::string(name); };
}

// Returns `text` fit for an error message: control bytes, and bytes above
// 0x7f unless the text is valid UTF-8, become \xNN, and anything past
// `max_length` bytes becomes "...".
std::string printable(std::string_view text, size_t max_length = 80);

// Returns true when `text` is well-formed UTF-8 (no overlong forms, no
// surrogates, nothing above U+10FFFF).
bool is_valid_utf8(std::string_view text);

class ByteReader {
 public:
  ByteReader(const uint8_t* data, size_t size, std::string_view file_name)
      : data_(data), size_(size), file_name_(file_name) {}

  size_t offset() const { return offset_; }
  size_t size() const { return size_; }
  size_t remaining() const { return size_ - offset_; }
  const std::string& file_name() const { return file_name_; }

  // Reads one little-endian number.
  template <typename T>
  T read(const FieldName& field) {
    static_assert(std::is_trivially_copyable_v<T>);
    require(sizeof(T), field);
    return read_unchecked<T>();
  }

  // Reads one number; the caller has already checked that it fits.
  template <typename T>
  T read_unchecked() {
    T value;
    std::memcpy(&value, data_ + offset_, sizeof(T));
    offset_ += sizeof(T);
    return value;
  }

  // Reads a GGUF string: a uint64 byte length, then the bytes.
  std::string_view read_string(const FieldName& field);

  // Reads a uint64 element count and checks that `count` elements of at
  // least `min_element_bytes` each fit in the rest of the file, so that no
  // caller sizes a container from a count the file cannot back.
  uint64_t read_count(const FieldName& field, uint64_t min_element_bytes);

  // Throws the truncation error unless `n` more bytes are left.
  void require(uint64_t n, const FieldName& field) const {
    if (n > remaining()) fail_truncated(n, field);
  }

 private:
  [[noreturn]] void fail_truncated(uint64_t needed, const FieldName& field) const;

  const uint8_t* data_;
  size_t size_;
  size_t offset_ = 0;
  std::string file_name_;
};

}  // namespace edgelm
