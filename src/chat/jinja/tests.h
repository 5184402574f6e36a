#pragma once
// jinja2's built-in tests (`value is name(args)`).

#include <string_view>

#include "chat/jinja/value.h"

namespace edgelm::jinja {

using TestFunction = bool (*)(Interpreter& interpreter, const Value& input, const CallArgs& args);

// The test called `name`, or nullptr when there is none.
TestFunction find_test(std::string_view name);

}  // namespace edgelm::jinja
