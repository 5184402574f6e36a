#pragma once
// Binds the arguments of a call to named parameters, as Python does for the
// built-in filters, tests, methods and globals.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/value.h"

namespace edgelm::jinja {

class BoundArgs {
 public:
  // Throws a runtime TemplateError naming `function` for more positional
  // arguments than parameters, or an unknown or repeated keyword.
  BoundArgs(std::string_view function, const CallArgs& args, std::initializer_list<std::string_view> parameters);

  // Whether parameter `index` was given.
  bool has(size_t index) const { return values_[index] != nullptr; }
  // Parameter `index`, or `fallback` when it was not given.
  Value get(size_t index, Value fallback = Value()) const;
  // Parameter `index` as an int or bool; throws naming the function when it is another type.
  int64_t get_int(size_t index, int64_t fallback) const;
  // Parameter `index` as a str; throws naming the function when it is another type.
  std::string get_string(size_t index, std::string fallback) const;

 private:
  std::string function_;
  std::vector<std::string_view> names_;
  std::vector<const Value*> values_;
};

}  // namespace edgelm::jinja
