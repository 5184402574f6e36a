#pragma once
// Counts in log lines and messages: "1 layer", "26 layers".

#include <cstdint>
#include <string>
#include <string_view>

#include <fmt/format.h>

namespace edgelm {

// Returns "n noun", with the plural form unless n is 1. The plural is the
// noun with "s" added, or `plural` for nouns such as "pass".
inline std::string count_noun(uint64_t n, std::string_view singular, std::string_view plural = {}) {
  if (n == 1) return fmt::format("1 {}", singular);
  if (plural.empty()) return fmt::format("{} {}s", n, singular);
  return fmt::format("{} {}", n, plural);
}

}  // namespace edgelm
