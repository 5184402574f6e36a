#pragma once
// Anonymous memory that requests 2 MiB transparent huge pages from the kernel.
// On a 2-core AMD EPYC, streaming reads from anonymous memory ran 3-8 % faster
// than from a mapped file. Huge pages also need fewer page-table entries.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace edgelm {

class HugePageBuffer {
 public:
  HugePageBuffer() = default;
  // Maps `bytes` of zero-filled, writable memory starting on a 2 MiB
  // boundary. `purpose` names the buffer in the error thrown when the
  // mapping fails.
  HugePageBuffer(size_t bytes, std::string_view purpose);
  ~HugePageBuffer();
  HugePageBuffer(HugePageBuffer&& other) noexcept;
  HugePageBuffer& operator=(HugePageBuffer&& other) noexcept;
  HugePageBuffer(const HugePageBuffer&) = delete;
  HugePageBuffer& operator=(const HugePageBuffer&) = delete;

  uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

  // Makes the memory read-only, so that a stray write faults instead of
  // changing it.
  void make_read_only();

 private:
  void release();

  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace edgelm
