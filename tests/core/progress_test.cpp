// ProgressBar output in both styles, its formatting helpers and concurrent updates.

#include "core/progress.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

namespace edgelm {
namespace {

// Everything written to a temporary stream.
std::string contents(std::FILE* stream) {
  std::fflush(stream);
  std::rewind(stream);
  std::string text;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), stream)) > 0) text.append(buffer, n);
  return text;
}

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

TEST(Progress, FormatsDurations) {
  EXPECT_EQ(format_duration(0.0), "0.0 s");
  EXPECT_EQ(format_duration(0.64), "0.6 s");
  EXPECT_EQ(format_duration(4.6), "4.6 s");
  EXPECT_EQ(format_duration(59.9), "59.9 s");
  EXPECT_EQ(format_duration(59.96), "1:00");
  EXPECT_EQ(format_duration(65.0), "1:05");
  EXPECT_EQ(format_duration(3723.0), "1:02:03");
  EXPECT_EQ(format_duration(-3.0), "0.0 s");
}

TEST(Progress, FormatsBytes) {
  EXPECT_EQ(format_bytes(512), "512 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(27476736), "26.20 MiB");
  EXPECT_EQ(format_bytes(uint64_t{3} << 30), "3.00 GiB");
}

TEST(Progress, PlainLinesEveryTenPercent) {
  std::FILE* stream = std::tmpfile();
  ASSERT_NE(stream, nullptr);
  {
    ProgressBar bar("convert", 100, ProgressUnit::kCount, stream, /*interactive=*/false);
    for (int i = 0; i < 100; ++i) bar.advance(1);
    bar.finish();
    EXPECT_EQ(bar.done(), 100u);
  }
  const std::string text = contents(stream);
  std::fclose(stream);

  EXPECT_EQ(count(text, "\n"), 10u) << text;  // 10% to 90%, then the final line
  EXPECT_NE(text.find("convert:  10% (10/100) ETA "), std::string::npos) << text;
  EXPECT_NE(text.find("convert:  90% (90/100) ETA "), std::string::npos) << text;
  EXPECT_NE(text.find("convert: 100% (100/100) in 0.0 s\n"), std::string::npos) << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(Progress, TerminalRedrawsOneLine) {
  std::FILE* stream = std::tmpfile();
  ASSERT_NE(stream, nullptr);
  {
    ProgressBar bar("load", 2048, ProgressUnit::kBytes, stream, /*interactive=*/true);
    bar.advance(1024);
    bar.finish();
  }
  const std::string text = contents(stream);
  std::fclose(stream);

  EXPECT_EQ(text.front(), '\r');
  EXPECT_EQ(count(text, "\n"), 1u) << "one line, ended once";
  EXPECT_NE(text.find("load [==============================] 100% 2.0 KiB/2.0 KiB in 0.0 s"), std::string::npos)
      << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Progress, UnfinishedTerminalBarEndsLine) {
  std::FILE* stream = std::tmpfile();
  ASSERT_NE(stream, nullptr);
  {
    ProgressBar bar("task", 10, ProgressUnit::kCount, stream, /*interactive=*/true);
    bar.advance(3);
  }
  const std::string text = contents(stream);
  std::fclose(stream);
  EXPECT_NE(text.find("task [>"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Progress, ConcurrentAdvancesAddUp) {
  std::FILE* stream = std::tmpfile();
  ASSERT_NE(stream, nullptr);
  ProgressBar bar("work", 4000, ProgressUnit::kCount, stream, /*interactive=*/false);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&bar] {
      for (int i = 0; i < 1000; ++i) bar.advance(1);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(bar.done(), 4000u);
  bar.advance(10);
  EXPECT_EQ(bar.done(), 4000u) << "done never passes total";
  bar.finish();
  std::fclose(stream);
}

}  // namespace
}  // namespace edgelm
