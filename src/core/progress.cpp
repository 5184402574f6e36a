#include "core/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace edgelm {
namespace {

constexpr int kBarWidth = 30;
constexpr int kPlainStepPercent = 10;
// A terminal redraw happens on a percent change, but at most this often.
constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

int percent_of(uint64_t done, uint64_t total) {
  if (total == 0) return 100;
  return static_cast<int>(std::min<uint64_t>(100, done * 100 / total));
}

std::string format_amount(uint64_t value, ProgressUnit unit) {
  return unit == ProgressUnit::kBytes ? format_bytes(value) : std::to_string(value);
}

}  // namespace

std::string format_duration(double seconds) {
  // Under a minute in seconds with a decimal, as the commands' summary lines
  // print times, so that a progress line and its summary read alike.
  if (seconds < 59.95) return fmt::format("{:.1f} s", std::max(0.0, seconds));

  const auto total = static_cast<uint64_t>(std::max(0.0, std::round(seconds)));
  const uint64_t hours = total / 3600;
  const uint64_t minutes = total / 60 % 60;
  const uint64_t secs = total % 60;
  if (hours > 0) return fmt::format("{}:{:02}:{:02}", hours, minutes, secs);
  return fmt::format("{}:{:02}", minutes, secs);
}

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  const double kib = static_cast<double>(bytes) / 1024.0;
  if (kib < 1024.0) return fmt::format("{:.1f} KiB", kib);
  const double mib = kib / 1024.0;
  if (mib < 1024.0) return fmt::format("{:.2f} MiB", mib);
  return fmt::format("{:.2f} GiB", mib / 1024.0);
}

ProgressBar::ProgressBar(std::string label, uint64_t total, ProgressUnit unit, std::FILE* stream)
    : ProgressBar(std::move(label), total, unit, stream, ::isatty(::fileno(stream)) == 1) {}

ProgressBar::ProgressBar(std::string label, uint64_t total, ProgressUnit unit, std::FILE* stream, bool interactive)
    : label_(std::move(label)),
      total_(total),
      unit_(unit),
      stream_(stream),
      interactive_(interactive),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (interactive_) draw_locked(false);
}

ProgressBar::~ProgressBar() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!finished_ && interactive_) {
    std::fputc('\n', stream_);
    std::fflush(stream_);
  }
}

void ProgressBar::advance(uint64_t amount) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  done_ = std::min(total_, done_ + amount);

  const int percent = percent_of(done_, total_);
  if (percent == last_percent_) return;
  if (interactive_) {
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < kRedrawInterval && done_ < total_) return;
    draw_locked(false);
  } else if (percent / kPlainStepPercent != last_percent_ / kPlainStepPercent && done_ < total_) {
    // The 100 percent line is left to finish(), which adds the elapsed time.
    draw_locked(false);
  }
}

void ProgressBar::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  done_ = total_;
  draw_locked(true);
  finished_ = true;
}

uint64_t ProgressBar::done() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return done_;
}

double ProgressBar::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressBar::draw_locked(bool final_line) {
  const int percent = percent_of(done_, total_);
  last_percent_ = percent;
  last_draw_ = std::chrono::steady_clock::now();

  const double elapsed = elapsed_seconds();
  const std::string counts = fmt::format("{}/{}", format_amount(done_, unit_), format_amount(total_, unit_));

  // Remaining time extrapolated from the rate so far; unknown until something is done.
  std::string timing;
  if (final_line) {
    timing = fmt::format("in {}", format_duration(elapsed));
  } else if (done_ > 0 && total_ > 0) {
    const double remaining = elapsed * static_cast<double>(total_ - done_) / static_cast<double>(done_);
    timing = fmt::format("ETA {}", format_duration(remaining));
  } else {
    timing = "ETA --:--";
  }

  if (!interactive_) {
    fmt::print(stream_, "{}: {:3}% ({}) {}\n", label_, percent, counts, timing);
    std::fflush(stream_);
    return;
  }

  // Carriage return redraws the line; ESC [K clears what a longer previous line left.
  const int filled = percent * kBarWidth / 100;
  const std::string bar = std::string(filled, '=') + (filled < kBarWidth ? ">" : "") +
                          std::string(std::max(0, kBarWidth - filled - 1), ' ');
  fmt::print(stream_, "\r{} [{}] {:3}% {} {}\x1b[K", label_, bar, percent, counts, timing);
  if (final_line) std::fputc('\n', stream_);
  std::fflush(stream_);
}

}  // namespace edgelm
