#pragma once
// jinja2's built-in filters (`value | name(args)`) that chat templates use,
// with tojson as Hugging Face overrides it.

#include <string_view>

#include "chat/jinja/value.h"

namespace edgelm::jinja {

using FilterFunction = Value (*)(Interpreter& interpreter, const Value& input, const CallArgs& args);

// The filter called `name`, or nullptr when there is none.
FilterFunction find_filter(std::string_view name);

}  // namespace edgelm::jinja
