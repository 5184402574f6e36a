#pragma once
// Loads the jinja2 renders that tests/tools/render_templates.py stores under
// tests/data/templates/, and the fixture templates they were made from.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"
#include "chat/jinja/template_error.h"
#include "support/expected_output.h"

namespace edgelm::testing {

// The fixture templates render_templates.py renders, by output name.
inline const std::vector<std::string>& fixture_template_names() {
  static const std::vector<std::string> names = {"gemma-2", "llama-3.1", "mistral-nemo", "qwen-2.5", "tiny-gemma2"};
  return names;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline nlohmann::ordered_json load_json(const std::string& path) {
  std::string text = read_file(path);
  if (text.empty()) throw std::runtime_error("cannot read " + path);
  return nlohmann::ordered_json::parse(text);
}

// tests/data/templates/<name>.json, or the same file in `directory`.
inline nlohmann::ordered_json load_template_data(const std::string& name, const std::string& directory = "") {
  std::string dir = directory.empty() ? std::string(EDGELM_SOURCE_DIR) + "/tests/data/templates" : directory;
  return load_json(dir + "/" + name + ".json");
}

// The template text a data file was rendered from, read from the fixtures.
inline std::string read_fixture_template(const nlohmann::ordered_json& data) {
  std::string path = fixtures_dir() + "/" + data["template_file"].get<std::string>();
  if (path.size() > 5 && path.substr(path.size() - 5) == ".json") return load_json(path)["chat_template"].get<std::string>();
  std::string text = read_file(path);
  if (text.empty()) throw std::runtime_error("cannot read " + path);
  return text;
}

inline std::vector<ChatMessage> messages_of(const nlohmann::ordered_json& test_case) {
  std::vector<ChatMessage> messages;
  for (const auto& m : test_case["messages"]) messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
  return messages;
}

// The error kind edgelm gives for the Python exception jinja2 raised.
// TemplateAssertionError (an unknown filter) is reported by jinja2 while
// compiling and by edgelm while rendering, so it maps to runtime.
inline jinja::TemplateErrorKind expected_kind(const std::string& python_error_type) {
  if (python_error_type == "TemplateError") return jinja::TemplateErrorKind::raised;
  if (python_error_type == "TemplateSyntaxError") return jinja::TemplateErrorKind::syntax;
  return jinja::TemplateErrorKind::runtime;
}

inline const char* kind_name(jinja::TemplateErrorKind kind) {
  switch (kind) {
    case jinja::TemplateErrorKind::syntax: return "syntax";
    case jinja::TemplateErrorKind::raised: return "raised";
    case jinja::TemplateErrorKind::runtime: return "runtime";
  }
  return "?";
}

}  // namespace edgelm::testing
