#include "chat/jinja/bound_args.h"

#include "chat/jinja/template_error.h"

namespace edgelm::jinja {

BoundArgs::BoundArgs(std::string_view function, const CallArgs& args, std::initializer_list<std::string_view> parameters)
    : function_(function), names_(parameters), values_(parameters.size(), nullptr) {
  if (args.positional.size() > names_.size()) {
    fail_render("{}() takes at most {} argument(s) ({} given)", function_, names_.size(), args.positional.size());
  }
  for (size_t i = 0; i < args.positional.size(); ++i) values_[i] = &args.positional[i];

  for (const auto& [key, value] : args.keyword) {
    size_t index = 0;
    while (index < names_.size() && names_[index] != key) ++index;
    if (index == names_.size()) fail_render("{}() got an unexpected keyword argument '{}'", function_, key);
    if (values_[index] != nullptr) fail_render("{}() got multiple values for argument '{}'", function_, key);
    values_[index] = &value;
  }
}

Value BoundArgs::get(size_t index, Value fallback) const {
  return values_[index] != nullptr ? *values_[index] : fallback;
}

int64_t BoundArgs::get_int(size_t index, int64_t fallback) const {
  if (values_[index] == nullptr) return fallback;
  const Value& value = *values_[index];
  if (!value.is_int() && !value.is_bool()) {
    fail_render("{}(): argument '{}' must be an integer, not '{}'", function_, names_[index], type_name(value));
  }
  return value.as_int();
}

std::string BoundArgs::get_string(size_t index, std::string fallback) const {
  if (values_[index] == nullptr) return fallback;
  const Value& value = *values_[index];
  if (!value.is_string()) {
    fail_render("{}(): argument '{}' must be a string, not '{}'", function_, names_[index], type_name(value));
  }
  return value.as_string();
}

}  // namespace edgelm::jinja
