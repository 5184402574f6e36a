#pragma once
// The exception a chat template throws while it is parsed or rendered.

#include <string>

#include "core/error.h"

namespace edgelm::jinja {

// The cause of a TemplateError: invalid template text (syntax), a call of
// raise_exception() (raised), or an operation that failed while rendering
// (runtime: a type error, an undefined value used, a limit reached).
enum class TemplateErrorKind { syntax, raised, runtime };

// An error in a template, with the message and the 1-based template line.
// Line 0 means the line is not known yet, and the interpreter fills it in.
class TemplateError : public Error {
 public:
  TemplateError(TemplateErrorKind kind, std::string message, int line)
      : Error(line > 0 ? "line " + std::to_string(line) + ": " + message : message),
        kind_(kind),
        message_(std::move(message)),
        line_(line) {}

  TemplateErrorKind kind() const { return kind_; }
  // The message without the line, as raise_exception() received it for `raised`.
  const std::string& message() const { return message_; }
  int line() const { return line_; }

 private:
  TemplateErrorKind kind_;
  std::string message_;
  int line_;
};

// Throws a runtime TemplateError whose line the interpreter adds.
template <typename... Args>
[[noreturn]] void fail_render(fmt::format_string<Args...> format, Args&&... args) {
  throw TemplateError(TemplateErrorKind::runtime, fmt::format(format, std::forward<Args>(args)...), 0);
}

}  // namespace edgelm::jinja
