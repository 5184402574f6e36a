#pragma once
// A progress bar for long tasks: bar, percent, done/total and estimated time
// left. On a terminal it redraws one line; elsewhere (a pipe or a log file)
// it prints a plain line at every 10 percent.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

namespace edgelm {

// Unit of done/total: plain counts, or byte sizes printed as KiB, MiB, GiB.
enum class ProgressUnit { kCount, kBytes };

class ProgressBar {
 public:
  // Starts a bar over `total` units. `interactive` forces the terminal or
  // the plain style; by default it is whether `stream` is a terminal.
  ProgressBar(std::string label, uint64_t total, ProgressUnit unit = ProgressUnit::kCount,
              std::FILE* stream = stderr);
  ProgressBar(std::string label, uint64_t total, ProgressUnit unit, std::FILE* stream, bool interactive);
  // Ends the line if finish() was not called, so later output starts on its own line.
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // Adds `amount` done units and redraws when the display changes. Safe to
  // call from several threads.
  void advance(uint64_t amount);

  // Marks the task complete and prints the final line with the elapsed time.
  void finish();

  uint64_t done() const;

 private:
  void draw_locked(bool final_line);
  double elapsed_seconds() const;

  std::string label_;
  uint64_t total_;
  ProgressUnit unit_;
  std::FILE* stream_;
  bool interactive_;

  mutable std::mutex mutex_;
  uint64_t done_ = 0;
  int last_percent_ = -1;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
  bool finished_ = false;
};

// "0.6 s", "12.3 s" under a minute, then "1:05" or "1:02:03": minutes and
// seconds, with hours when needed.
std::string format_duration(double seconds);

// "512 B", "1.5 KiB", "27.48 MiB", "3.20 GiB".
std::string format_bytes(uint64_t bytes);

}  // namespace edgelm
