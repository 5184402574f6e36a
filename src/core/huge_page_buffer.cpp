#include "core/huge_page_buffer.h"

#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "core/error.h"

namespace edgelm {
namespace {

constexpr size_t kHugePageBytes = size_t{2} << 20;

}  // namespace

HugePageBuffer::HugePageBuffer(size_t bytes, std::string_view purpose) {
  if (bytes == 0) return;

  // mmap aligns only to 4 KiB pages: map one huge page more and unmap the
  // parts before the first 2 MiB boundary and after the buffer.
  const size_t rounded = (bytes + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  const size_t mapped = rounded + kHugePageBytes;
  void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) {
    fail("allocating {} bytes for {} failed: {}; free some memory and retry", bytes, purpose, std::strerror(errno));
  }
  auto* start = static_cast<uint8_t*>(p);
  const uintptr_t address = reinterpret_cast<uintptr_t>(start);
  auto* aligned = reinterpret_cast<uint8_t*>((address + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes);
  if (aligned > start) ::munmap(start, aligned - start);
  const size_t tail = (start + mapped) - (aligned + rounded);
  if (tail > 0) ::munmap(aligned + rounded, tail);

  // Only a hint: where transparent huge pages are off, the kernel uses
  // 4 KiB pages and the buffer works the same, only slower to stream.
  ::madvise(aligned, rounded, MADV_HUGEPAGE);
  data_ = aligned;
  size_ = bytes;
}

HugePageBuffer::~HugePageBuffer() { release(); }

HugePageBuffer::HugePageBuffer(HugePageBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

HugePageBuffer& HugePageBuffer::operator=(HugePageBuffer&& other) noexcept {
  if (this != &other) {
    release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void HugePageBuffer::make_read_only() {
  if (data_ != nullptr) ::mprotect(data_, size_, PROT_READ);
}

void HugePageBuffer::release() {
  if (data_ == nullptr) return;
  const size_t rounded = (size_ + kHugePageBytes - 1) / kHugePageBytes * kHugePageBytes;
  ::munmap(data_, rounded);
  data_ = nullptr;
  size_ = 0;
}

}  // namespace edgelm
