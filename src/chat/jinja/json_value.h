#pragma once
// Conversions between template values and JSON.

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chat/jinja/value.h"

namespace edgelm::jinja {

// Converts a JSON document to a template value, keeping the key order of
// objects. Throws a runtime TemplateError when it nests deeper than kMaxValueDepth.
Value from_json(const nlohmann::ordered_json& json);

// Options of Python's json.dumps that the tojson filter passes through.
struct JsonDumpOptions {
  std::optional<std::string> indent;  // unset for one line, else a newline and this string per level
  std::optional<std::string> item_separator;  // default ", " on one line, "," when indenting
  std::string key_separator = ": ";
  bool sort_keys = false;
  bool ensure_ascii = false;
};

// json.dumps(value, ...) as Python writes it. Throws a runtime TemplateError
// for values JSON cannot hold (undefined, namespaces, functions).
std::string to_json_text(const Value& value, const JsonDumpOptions& options);

}  // namespace edgelm::jinja
