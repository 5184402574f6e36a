#pragma once
// Splits template text into tokens the way jinja2's lexer does, including
// whitespace control, trim_blocks and lstrip_blocks.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgelm::jinja {

enum class TokenType {
  data,            // literal template text
  variable_begin,  // {{
  variable_end,    // }}
  block_begin,     // {%
  block_end,       // %}
  name,
  string,    // text is the value, with escapes resolved
  integer,   // int_value is the value
  floating,  // float_value is the value
  op,        // text is the operator, such as "==" or "("
  eof,
};

struct Token {
  TokenType type = TokenType::eof;
  std::string text;
  int line = 1;
  int64_t int_value = 0;
  double float_value = 0;
};

// Hugging Face renders chat templates with both options on.
struct LexerOptions {
  bool trim_blocks = true;    // drop the first newline after a block or comment tag
  bool lstrip_blocks = true;  // drop spaces and tabs before a block or comment tag on its line
};

// Throws a syntax TemplateError with the line for an unterminated tag,
// comment or string, an unknown character or unbalanced brackets.
std::vector<Token> tokenize(std::string_view source, const LexerOptions& options = {});

}  // namespace edgelm::jinja
