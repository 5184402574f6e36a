#include "hf/hf_json_file.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "safetensors/safetensors_json.h"

namespace edgelm::hf {

std::string read_text_file(const std::string& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    fail("{}: cannot open the file: {}", path, std::strerror(errno));
  }
  std::ostringstream text;
  text << stream.rdbuf();
  if (stream.bad()) {
    fail("{}: reading the file failed", path);
  }
  return text.str();
}

Json read_json_file(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    fail("{}: file not found", path);
  }

  const std::string text = read_text_file(path);
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& parse_error) {
    fail("{}: invalid JSON: {}", path, json_error_text(parse_error.what()));
  }
}

std::optional<Json> read_json_file_if_present(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return std::nullopt;
  }
  return read_json_file(path);
}

}  // namespace edgelm::hf
