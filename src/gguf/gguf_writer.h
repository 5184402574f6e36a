#pragma once
// Writes GGUF version 3 files: metadata, tensor infos and tensor data, the
// data streamed to disk one tensor at a time.

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/temp_file_cleanup.h"
#include "gguf/gguf_file.h"
#include "tensor/dtype.h"

namespace edgelm {

// Usage: set the metadata and add every tensor, then open(), then
// write_tensor() once per tensor in the order they were added, then finish().
// The file is written under a temporary name beside the output and renamed
// to it by finish(), so a failed or abandoned write never leaves a partial
// file under the output name.
class GgufWriter {
 public:
  GgufWriter() = default;
  ~GgufWriter();
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Copies every metadata entry of `file`, in file order.
  void copy_metadata(const GgufFile& file);

  // Sets a metadata value. An existing key is removed first, so the key
  // moves to the end, as llama.cpp's gguf_set_* functions order them.
  void set(std::string key, GgufValue value);
  void set_uint32(std::string key, uint32_t value);
  void set_string(std::string key, std::string value);

  // Removes a key; returns whether it was present.
  bool remove(std::string_view key);

  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return metadata_; }

  // Declares the next tensor: shape in ggml order (dims[0] is the row
  // length) and element type. Throws Error on an invalid name, shape or a
  // row length that is not a multiple of the type's block size.
  void add_tensor(std::string name, std::vector<uint64_t> dims, DType type);

  // Bytes of tensor `index`'s data, without padding.
  uint64_t tensor_bytes(size_t index) const;

  // Alignment of the data section and of every tensor: general.alignment when set, else 32.
  uint64_t alignment() const;

  // Creates the temporary file and writes the header, metadata and tensor
  // infos. A symbolic link at `path` is followed: finish() replaces the file
  // it points to. Throws Error when the output cannot be created.
  void open(const std::string& path);

  // Appends the data of the next tensor; `size` must be its tensor_bytes().
  void write_tensor(const void* data, size_t size);

  // Flushes the file to disk and renames it to the output path. Throws Error
  // when a tensor was not written or the disk write failed.
  void finish();

  // Bytes written so far, padding included.
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  struct TensorInfo {
    std::string name;
    std::vector<uint64_t> dims;
    DType type;
    uint64_t n_bytes;
  };

  std::vector<uint8_t> encode_header() const;
  void write_bytes(const void* data, size_t size);
  void write_padding(uint64_t size);
  void discard();

  std::vector<std::pair<std::string, GgufValue>> metadata_;
  std::vector<TensorInfo> tensors_;

  std::string path_;
  std::string temp_path_;
  TempFileRegistration temp_registration_;  // deleted if a signal ends the process
  std::FILE* file_ = nullptr;
  size_t next_tensor_ = 0;
  uint64_t bytes_written_ = 0;
};

}  // namespace edgelm
