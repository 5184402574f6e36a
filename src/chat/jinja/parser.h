#pragma once
// Builds the syntax tree from tokens with jinja2's grammar and operator precedence.

#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"

namespace edgelm::jinja {

// Throws a syntax TemplateError with the line for invalid syntax, unknown or
// unsupported tags, unclosed blocks and nesting deeper than the parser allows.
// The scopes' LocalNames are filled in (see scope_analysis.h).
TemplateTree parse(std::vector<Token> tokens);

}  // namespace edgelm::jinja
