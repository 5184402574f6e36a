#pragma once
// Typed access to the fields of a Hugging Face tokenizer.json, with errors that
// name the file and the field path (such as "model.merges[12]").

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace edgelm::hf {

using Json = nlohmann::json;

// The file being read and the path of the current JSON value inside it.
struct JsonPath {
  std::string_view file;
  std::string path;

  JsonPath operator/(std::string_view key) const { return {file, path.empty() ? std::string(key) : path + "." + std::string(key)}; }
  JsonPath operator[](size_t index) const { return {file, path + "[" + std::to_string(index) + "]"}; }
};

// Throws Error "FILE: PATH: MESSAGE".
template <typename... Args>
[[noreturn]] void fail_at(const JsonPath& where, fmt::format_string<Args...> format, Args&&... args) {
  fail("{}: {}: {}", where.file, where.path.empty() ? "top level" : where.path,
       fmt::format(format, std::forward<Args>(args)...));
}

inline const Json& require_field(const Json& object, std::string_view key, const JsonPath& where) {
  if (!object.is_object()) {
    fail_at(where, "expected a JSON object, found {}", object.type_name());
  }
  const auto it = object.find(key);
  if (it == object.end()) {
    fail_at(where / key, "field is missing");
  }
  return *it;
}

// Returns the field, or nullptr when it is absent or null.
inline const Json* optional_field(const Json& object, std::string_view key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

inline const std::string& as_string(const Json& value, const JsonPath& where) {
  if (!value.is_string()) {
    fail_at(where, "expected a string, found {}", value.type_name());
  }
  return value.get_ref<const std::string&>();
}

inline const std::string& string_field(const Json& object, std::string_view key, const JsonPath& where) {
  return as_string(require_field(object, key, where), where / key);
}

inline bool bool_field(const Json& object, std::string_view key, bool default_value, const JsonPath& where) {
  const Json* value = optional_field(object, key);
  if (value == nullptr) {
    return default_value;
  }
  if (!value->is_boolean()) {
    fail_at(where / key, "expected true or false, found {}", value->type_name());
  }
  return value->get<bool>();
}

// A token id: an integer in [0, INT32_MAX].
inline int32_t as_token_id(const Json& value, const JsonPath& where) {
  if (!value.is_number_integer()) {
    fail_at(where, "expected a token id (an integer), found {}", value.type_name());
  }
  const int64_t id = value.is_number_unsigned() ? static_cast<int64_t>(std::min<uint64_t>(value.get<uint64_t>(), INT64_MAX))
                                                : value.get<int64_t>();
  if (id < 0 || id > INT32_MAX) {
    fail_at(where, "token id {} is out of range", id);
  }
  return static_cast<int32_t>(id);
}

inline const std::string& type_field(const Json& object, const JsonPath& where) {
  return string_field(object, "type", where);
}

}  // namespace edgelm::hf
