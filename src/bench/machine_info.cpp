#include "bench/machine_info.h"

#include <charconv>
#include <filesystem>
#include <fstream>
#include <string_view>

namespace edgelm {
namespace {

// The text after "key<spaces>:" when `line` starts with key, else nullopt.
std::optional<std::string> field_value(const std::string& line, std::string_view key) {
  if (line.rfind(key, 0) != 0) return std::nullopt;
  const size_t colon = line.find(':', key.size());
  if (colon == std::string::npos) return std::nullopt;
  for (size_t i = key.size(); i < colon; ++i) {
    if (line[i] != ' ' && line[i] != '\t') return std::nullopt;
  }
  const size_t start = line.find_first_not_of(" \t", colon + 1);
  return start == std::string::npos ? std::string() : line.substr(start);
}

// Parses sysfs cache sizes such as "32K", "512K" or "32768K" into bytes.
std::optional<uint64_t> parse_cache_size(std::string_view text) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return std::nullopt;
  const std::string_view unit(end, text.data() + text.size() - end);
  if (unit.empty()) return value;
  if (unit == "K") return value << 10;
  if (unit == "M") return value << 20;
  if (unit == "G") return value << 30;
  return std::nullopt;
}

}  // namespace

std::string cpu_model_name() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (auto value = field_value(line, "model name")) return *value;
  }
  return "unknown CPU";
}

std::optional<uint64_t> last_level_cache_bytes() {
  namespace fs = std::filesystem;
  std::error_code error;
  fs::directory_iterator entries("/sys/devices/system/cpu/cpu0/cache", error);
  if (error) return std::nullopt;

  // The largest level wins; on equal levels the larger size (a unified cache
  // and a data cache share level 1).
  int best_level = 0;
  std::optional<uint64_t> best_bytes;
  for (const fs::directory_entry& entry : entries) {
    if (entry.path().filename().string().rfind("index", 0) != 0) continue;
    int level = 0;
    std::string size_text;
    std::ifstream(entry.path() / "level") >> level;
    std::ifstream(entry.path() / "size") >> size_text;
    const std::optional<uint64_t> bytes = parse_cache_size(size_text);
    if (!bytes) continue;
    if (level > best_level || (level == best_level && *bytes > best_bytes.value_or(0))) {
      best_level = level;
      best_bytes = bytes;
    }
  }
  return best_bytes;
}

}  // namespace edgelm
