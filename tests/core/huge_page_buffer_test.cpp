// Anonymous memory on a 2 MiB boundary: zero-filled, sized as asked, movable.

#include "core/huge_page_buffer.h"

#include <gtest/gtest.h>

#include <utility>

namespace edgelm {
namespace {

constexpr uintptr_t kHugePage = uintptr_t{2} << 20;

TEST(HugePageBuffer, AlignedAndZeroFilled) {
  const size_t bytes = (size_t{5} << 20) + 7;
  HugePageBuffer buffer(bytes, "a test buffer");
  ASSERT_NE(buffer.data(), nullptr);
  EXPECT_EQ(buffer.size(), bytes);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(buffer.data()) % kHugePage, 0u);

  size_t nonzero = 0;
  for (size_t i = 0; i < bytes; i += 4096) nonzero += buffer.data()[i] != 0;
  EXPECT_EQ(nonzero, 0u);
  EXPECT_EQ(buffer.data()[bytes - 1], 0);

  // The whole range is writable before make_read_only.
  buffer.data()[0] = 1;
  buffer.data()[bytes - 1] = 2;
  EXPECT_EQ(buffer.data()[bytes - 1], 2);
}

TEST(HugePageBuffer, MoveTransfersMemory) {
  HugePageBuffer first(4096, "a test buffer");
  first.data()[10] = 42;
  uint8_t* const memory = first.data();

  HugePageBuffer second(std::move(first));
  EXPECT_EQ(second.data(), memory);
  EXPECT_EQ(second.size(), 4096u);
  EXPECT_EQ(second.data()[10], 42);
  EXPECT_EQ(first.data(), nullptr);
  EXPECT_EQ(first.size(), 0u);

  HugePageBuffer third;
  third = std::move(second);
  EXPECT_EQ(third.data(), memory);
  EXPECT_EQ(second.data(), nullptr);
}

TEST(HugePageBuffer, ZeroBytesHasNoMemory) {
  HugePageBuffer buffer(0, "a test buffer");
  EXPECT_EQ(buffer.data(), nullptr);
  EXPECT_EQ(buffer.size(), 0u);
}

}  // namespace
}  // namespace edgelm
