#include "tokenizer/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace edgelm {
namespace {


TEST(Utf8, ValidLengths) {
  const std::string text = "a\xC3\xA9\xE6\x97\xA5\xF0\x9F\x98\x80";  // a é 日 😀
  std::vector<size_t> lengths;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Step step = scan_utf8(text, pos);
    EXPECT_EQ(step.status, Utf8Status::VALID);
    lengths.push_back(step.length);
    pos += step.length;
  }
  EXPECT_EQ(lengths, (std::vector<size_t>{1, 2, 3, 4}));
}

TEST(Utf8, IncompleteAtEnd) {
  const Utf8Step step = scan_utf8("\xF0\x9F\x98", 0);
  EXPECT_EQ(step.status, Utf8Status::INCOMPLETE);
  EXPECT_EQ(step.length, 3u);
}

// Expected strings are what Python 3 gives for bytes.decode("utf-8", "replace").
TEST(Utf8, ReplacementMatchesPython) {
  EXPECT_EQ(replace_invalid_utf8("\xE3\x81" "A"), "\uFFFD" "A");
  EXPECT_EQ(replace_invalid_utf8("\xFF"), "\uFFFD");
  EXPECT_EQ(replace_invalid_utf8("\xC0\x80"), "\uFFFD\uFFFD");
  EXPECT_EQ(replace_invalid_utf8("\xED\xA0\x80"), "\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(replace_invalid_utf8("\xF4\x90\x80\x80"), "\uFFFD\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(replace_invalid_utf8("\xF0\x9F\x98"), "\uFFFD");
  EXPECT_EQ(replace_invalid_utf8("ok \xE6\x97\xA5"), "ok \xE6\x97\xA5");
}

}  // namespace
}  // namespace edgelm
