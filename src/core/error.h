#pragma once
// The one exception type edgelm throws for bad input, bad files and bad settings.

#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace edgelm {

// An error a user can act on: the message names the value that was wrong and,
// where there is one, what to do about it.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Throws an Error with a fmt-formatted message.
template <typename... Args>
[[noreturn]] void fail(fmt::format_string<Args...> format, Args&&... args) {
  throw Error(fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace edgelm
