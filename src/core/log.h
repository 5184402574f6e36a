#pragma once
// Process-wide logging to stderr through spdlog; stdout stays free for results.

#include <string_view>

#include <spdlog/spdlog.h>

namespace edgelm {

// Sends all log lines to stderr at the given level ("debug", "info", "warn", "error", "off").
void init_logging(std::string_view level);

}  // namespace edgelm
