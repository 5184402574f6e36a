#include "safetensors/safetensors_json.h"

#include <unordered_set>

#include <fmt/format.h>

#include "core/error.h"
#include "gguf/byte_reader.h"

namespace edgelm {
namespace {

// One open object or array while parsing.
struct JsonLevel {
  bool is_object = false;
  std::unordered_set<std::string> keys;
  std::string current_key;
};

std::string describe_path(const std::vector<JsonLevel>& levels) {
  std::string path;
  for (size_t i = 0; i + 1 < levels.size(); ++i) {
    if (!levels[i].is_object) continue;
    if (!path.empty()) path += '.';
    path += levels[i].current_key;
  }
  return path.empty() ? std::string("the top-level object") : fmt::format("object '{}'", printable(path));
}

}  // namespace

std::string json_error_text(std::string_view message) {
  if (!message.empty() && message.front() == '[') {
    size_t close = message.find("] ");
    if (close != std::string_view::npos) message.remove_prefix(close + 2);
  }
  return printable(message, 300);
}

nlohmann::json parse_json_object(std::string_view text, const std::string& file, std::string_view description,
                                 const JsonValueVisitor& on_value) {
  std::vector<JsonLevel> levels;
  std::vector<std::string> key_path;

  auto callback = [&](int /*depth*/, nlohmann::json::parse_event_t event, nlohmann::json& parsed) {
    using Event = nlohmann::json::parse_event_t;
    switch (event) {
      case Event::object_start:
      case Event::array_start:
        levels.push_back(JsonLevel{event == Event::object_start, {}, {}});
        break;
      case Event::object_end:
      case Event::array_end:
        if (!levels.empty()) levels.pop_back();
        break;
      case Event::key: {
        JsonLevel& level = levels.back();
        level.current_key = parsed.get<std::string>();
        if (!level.keys.insert(level.current_key).second) {
          fail("{}: {} has the key '{}' twice in {}. Each key must appear once, so fix or re-create the file.", file,
               description, printable(level.current_key), describe_path(levels));
        }
        break;
      }
      case Event::value:
        if (on_value) {
          key_path.clear();
          for (const JsonLevel& level : levels) {
            if (level.is_object) key_path.push_back(level.current_key);
          }
          on_value(key_path, parsed);
        }
        break;
    }
    return true;
  };

  nlohmann::json value;
  try {
    value = nlohmann::json::parse(text.begin(), text.end(), callback);
  } catch (const nlohmann::json::exception& error) {
    fail("{}: {} is not valid JSON: {}. The file is truncated or corrupt, so re-download or re-create it.", file,
         description, json_error_text(error.what()));
  }

  if (!value.is_object()) {
    fail("{}: {} is a JSON {}, but it must be a JSON object. The file is corrupt or of another format.", file,
         description, value.type_name());
  }
  return value;
}

}  // namespace edgelm
