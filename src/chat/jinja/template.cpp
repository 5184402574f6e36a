#include "chat/jinja/template.h"

#include "chat/jinja/globals.h"
#include "chat/jinja/parser.h"

namespace edgelm::jinja {

Template::Template(std::string_view source, const LexerOptions& options)
    : tree_(std::make_shared<const TemplateTree>(parse(tokenize(source, options)))) {}

std::string Template::render(const Dict& variables, const Limits& limits) const {
  auto globals = std::make_shared<Scope>();
  add_globals(*globals);
  auto context = std::make_shared<Scope>(globals);
  for (const auto& [name, value] : variables.entries) context->set(name, value);

  Interpreter interpreter(limits);
  return interpreter.render(*tree_, context);
}

}  // namespace edgelm::jinja
