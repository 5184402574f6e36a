#pragma once
// A read-only memory image of a whole file: mapped, or read into memory.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "core/huge_page_buffer.h"

namespace edgelm {

// The way a file's bytes reach memory.
enum class FileAccess {
  // Mapped: pages come from the page cache as they are touched, and
  // processes that map the same file share them.
  kMap,
  // Read into anonymous memory on huge pages: slower to load, but decoding
  // streams the weights faster. Falls back to kMap when the file does not
  // fit in the available memory with room to spare.
  kReadIntoMemory,
};

// Returns whether a file of file_bytes is read into memory when `available`
// bytes are available: the file plus a tenth and 512 MiB must fit. The margin
// is an estimate of what the KV cache and buffers need. Unknown memory gives true.
bool fits_in_memory(uint64_t file_bytes, std::optional<uint64_t> available);

class MappedFile {
 public:
  // Opens `path` read-only with the given access. Throws Error when it
  // cannot be opened, mapped or read.
  explicit MappedFile(const std::string& path, FileAccess access = FileAccess::kMap);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Returns how the bytes reached memory: kMap also when reading fell back to mapping.
  FileAccess access() const { return access_; }

 private:
  void read_into_memory(int fd);

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  FileAccess access_ = FileAccess::kMap;
  HugePageBuffer buffer_;  // the file's bytes when read into memory
};

}  // namespace edgelm
