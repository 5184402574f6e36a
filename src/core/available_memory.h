#pragma once
// The amount of memory the kernel can give to a new allocation.

#include <cstdint>
#include <optional>

namespace edgelm {

// MemAvailable of /proc/meminfo in bytes (free memory plus the page cache
// and buffers that can be reclaimed), or nullopt when it is missing.
std::optional<uint64_t> available_memory_bytes();

}  // namespace edgelm
