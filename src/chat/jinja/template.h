#pragma once
// A Jinja2 template as Hugging Face renders chat templates: parsed once,
// rendered with variables such as messages, bos_token and add_generation_prompt.

#include <memory>
#include <string>
#include <string_view>

#include "chat/jinja/ast.h"
#include "chat/jinja/interpreter.h"
#include "chat/jinja/lexer.h"
#include "chat/jinja/value.h"

namespace edgelm::jinja {

class Template {
 public:
  // Parses `source`, and throws a syntax TemplateError with the line when it is invalid.
  explicit Template(std::string_view source, const LexerOptions& options = {});

  // Renders with `variables` in scope next to the globals (range, namespace,
  // raise_exception, ...). Throws TemplateError: `raised` for
  // raise_exception(), `runtime` for errors and exceeded limits.
  std::string render(const Dict& variables, const Limits& limits = {}) const;

 private:
  std::shared_ptr<const TemplateTree> tree_;
};

}  // namespace edgelm::jinja
