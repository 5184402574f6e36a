#include "core/available_memory.h"

#include <charconv>
#include <fstream>
#include <string>
#include <string_view>

namespace edgelm {

std::optional<uint64_t> available_memory_bytes() {
  constexpr std::string_view kKey = "MemAvailable:";
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    // "MemAvailable:   23456789 kB"
    if (line.rfind(kKey, 0) != 0) continue;
    const size_t start = line.find_first_not_of(" \t", kKey.size());
    if (start == std::string::npos) return std::nullopt;
    uint64_t kib = 0;
    auto [end, error] = std::from_chars(line.data() + start, line.data() + line.size(), kib);
    if (error != std::errc() || end == line.data() + start) return std::nullopt;
    return kib << 10;
  }
  return std::nullopt;
}

}  // namespace edgelm
