#pragma once
// Facts about the machine a benchmark runs on, read from Linux's procfs and sysfs.

#include <cstdint>
#include <optional>
#include <string>

namespace edgelm {

// The "model name" line of /proc/cpuinfo (the first CPU's), or "unknown CPU"
// when the file or the line is missing.
std::string cpu_model_name();

// Size in bytes of the largest cache level of CPU 0, from
// /sys/devices/system/cpu/cpu0/cache/index*/size, or nullopt when sysfs does
// not list one.
std::optional<uint64_t> last_level_cache_bytes();

}  // namespace edgelm
