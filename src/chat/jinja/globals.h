#pragma once
// The global functions a chat template can call: jinja2's range, dict and
// namespace, and Hugging Face's raise_exception and strftime_now.

#include "chat/jinja/interpreter.h"

namespace edgelm::jinja {

void add_globals(Scope& scope);

}  // namespace edgelm::jinja
