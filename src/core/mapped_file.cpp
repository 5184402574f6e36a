#include "core/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/available_memory.h"
#include "core/error.h"
#include "core/log.h"

namespace edgelm {

bool fits_in_memory(uint64_t file_bytes, std::optional<uint64_t> available) {
  if (!available) return true;
  const uint64_t needed = file_bytes + file_bytes / 10 + (uint64_t{512} << 20);
  return needed <= *available;
}

MappedFile::MappedFile(const std::string& path, FileAccess access) : path_(path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    fail("cannot open '{}': {}", path, std::strerror(errno));
  }

  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    fail("cannot stat '{}': {}", path, std::strerror(err));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("'{}' is not a regular file", path);
  }

  size_ = static_cast<size_t>(st.st_size);
  if (size_ > 0 && access == FileAccess::kReadIntoMemory) {
    const std::optional<uint64_t> available = available_memory_bytes();
    if (fits_in_memory(size_, available)) {
      try {
        read_into_memory(fd);
      } catch (...) {
        ::close(fd);
        throw;
      }
      ::close(fd);
      return;
    }
    spdlog::warn("{}: {} MiB of available memory is too little to read the {} MiB file into memory, so it is "
                 "mapped instead, which decodes more slowly",
                 path, available.value_or(0) >> 20, size_ >> 20);
  }

  if (size_ > 0) {
    void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      fail("cannot map '{}' ({} bytes): {}", path, size_, std::strerror(err));
    }
    data_ = static_cast<const uint8_t*>(p);
  }
  ::close(fd);
}

void MappedFile::read_into_memory(int fd) {
  buffer_ = HugePageBuffer(size_, fmt::format("reading '{}' into memory", path_));

  // Pieces of 64 MiB keep each read call short.
  constexpr size_t kPieceBytes = size_t{64} << 20;
  size_t done = 0;
  while (done < size_) {
    const ssize_t got = ::pread(fd, buffer_.data() + done, std::min(kPieceBytes, size_ - done), done);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      fail("reading '{}' at byte {} failed: {}; check the file and the disk, or pass --mmap", path_, done,
           std::strerror(errno));
    }
    if (got == 0) {
      fail("'{}' ended at byte {} of {} while it was read; it changed on disk, so load it again", path_, done,
           size_);
    }
    done += static_cast<size_t>(got);
  }

  buffer_.make_read_only();
  data_ = buffer_.data();
  access_ = FileAccess::kReadIntoMemory;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr && access_ == FileAccess::kMap) {
    ::munmap(const_cast<uint8_t*>(data_), size_);
  }
}

}  // namespace edgelm
