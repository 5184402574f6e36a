#pragma once
// Strict JSON parsing for safetensors headers and index files: rejects a key
// that appears twice in one object, which nlohmann::json would silently drop.

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace edgelm {

// Receives each scalar value (string, number, bool, null) in document order,
// with the object keys that lead to it. Array levels add no key.
using JsonValueVisitor = std::function<void(const std::vector<std::string>& key_path, const nlohmann::json& value)>;

// Parses `text` as a JSON object. `description` names the text in messages
// ("header", "index"). Throws Error naming `file` when the text is not valid
// JSON, is not an object, or an object in it has a key twice.
nlohmann::json parse_json_object(std::string_view text, const std::string& file, std::string_view description,
                                 const JsonValueVisitor& on_value = {});

// An nlohmann exception message without its "[json.exception.parse_error.101] "
// prefix, which means nothing to a user, and cut to 300 printable characters.
std::string json_error_text(std::string_view message);

}  // namespace edgelm
