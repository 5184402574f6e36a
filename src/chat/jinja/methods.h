#pragma once
// Methods of str, dict and list that templates call, such as
// content.strip() or message.get('content').

#include <string>

#include "chat/jinja/value.h"

namespace edgelm::jinja {

// The method `name` of `object` bound to it, or an undefined value when the
// type has no such method. Mutating methods (list.append, dict.update, ...)
// resolve but raise when called, as in jinja2's ImmutableSandboxedEnvironment.
Value find_method(const Value& object, const std::string& name);

}  // namespace edgelm::jinja
