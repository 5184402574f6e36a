// A file's image in memory, mapped or read: the same bytes either way.

#include "core/mapped_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "core/error.h"

namespace edgelm {
namespace {

std::string write_file(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = ::testing::TempDir() + name + "_" + std::to_string(::getpid());
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// An odd size, so the last page and the last huge page are partial.
std::vector<uint8_t> pattern_bytes(size_t n) {
  std::vector<uint8_t> bytes(n);
  for (size_t i = 0; i < n; ++i) bytes[i] = static_cast<uint8_t>(i * 31 + i / 251);
  return bytes;
}

TEST(MappedFile, ReadIntoMemoryHasFileBytes) {
  const std::vector<uint8_t> bytes = pattern_bytes((size_t{3} << 20) + 12345);
  const std::string path = write_file("mapped_file_read", bytes);

  const MappedFile file(path, FileAccess::kReadIntoMemory);
  EXPECT_EQ(file.access(), FileAccess::kReadIntoMemory);
  ASSERT_EQ(file.size(), bytes.size());
  EXPECT_EQ(std::memcmp(file.data(), bytes.data(), bytes.size()), 0);
  // Read files start on a 2 MiB boundary, where huge pages can back them.
  EXPECT_EQ(reinterpret_cast<uintptr_t>(file.data()) % (uintptr_t{2} << 20), 0u);
  ::unlink(path.c_str());
}

TEST(MappedFile, MapHasFileBytes) {
  const std::vector<uint8_t> bytes = pattern_bytes(70001);
  const std::string path = write_file("mapped_file_map", bytes);

  const MappedFile file(path, FileAccess::kMap);
  EXPECT_EQ(file.access(), FileAccess::kMap);
  ASSERT_EQ(file.size(), bytes.size());
  EXPECT_EQ(std::memcmp(file.data(), bytes.data(), bytes.size()), 0);
  ::unlink(path.c_str());
}

TEST(MappedFile, EmptyFileHasNoBytes) {
  const std::string path = write_file("mapped_file_empty", {});
  const MappedFile file(path, FileAccess::kReadIntoMemory);
  EXPECT_EQ(file.size(), 0u);
  EXPECT_EQ(file.data(), nullptr);
  ::unlink(path.c_str());
}

TEST(MappedFile, MissingFileNamesPath) {
  try {
    MappedFile file("/nonexistent/model.gguf", FileAccess::kReadIntoMemory);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("'/nonexistent/model.gguf'"), std::string::npos) << error.what();
  }
}

TEST(FitsInMemory, NeedsFileTenthAndMargin) {
  const uint64_t mib = uint64_t{1} << 20;
  // 1000 MiB + 100 MiB + 512 MiB = 1612 MiB.
  EXPECT_TRUE(fits_in_memory(1000 * mib, 1612 * mib));
  EXPECT_FALSE(fits_in_memory(1000 * mib, 1611 * mib));
  EXPECT_FALSE(fits_in_memory(16000 * mib, 16000 * mib));
}

TEST(FitsInMemory, UnknownMemoryReads) {
  EXPECT_TRUE(fits_in_memory(uint64_t{1} << 40, std::nullopt));
}

}  // namespace
}  // namespace edgelm
