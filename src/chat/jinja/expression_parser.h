#pragma once
// The token stream and the expression grammar of jinja2, with its operator
// precedence. parser.cpp adds the statements on top.

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/lexer.h"

namespace edgelm::jinja {

// Maximum nesting depth of expressions and blocks. Deeper templates are
// rejected before the recursive descent could exhaust the stack.
constexpr int kMaxNesting = 200;

// A token's name in syntax error messages.
std::string describe(const Token& token);

class ExpressionParser {
 public:
  explicit ExpressionParser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

 protected:
  // RAII guard for the nesting depth.
  class Nesting {
   public:
    explicit Nesting(ExpressionParser& parser) : parser_(parser) {
      if (++parser_.depth_ > kMaxNesting) parser_.fail("template nesting is deeper than " + std::to_string(kMaxNesting) + " levels");
    }
    ~Nesting() { --parser_.depth_; }

   private:
    ExpressionParser& parser_;
  };

  const Token& current() const { return tokens_[pos_]; }
  const Token& peek() const { return tokens_[pos_ + 1 < tokens_.size() ? pos_ + 1 : pos_]; }
  Token next();

  // Throws a syntax TemplateError at the current token's line.
  [[noreturn]] void fail(const std::string& message) const;

  bool is_op(std::string_view op) const { return current().type == TokenType::op && current().text == op; }
  bool is_name(std::string_view name) const { return current().type == TokenType::name && current().text == name; }
  bool skip_op(std::string_view op);
  bool skip_name(std::string_view name);
  void expect_op(std::string_view op);
  void expect_name(std::string_view name);
  std::string expect_identifier();
  void expect(TokenType type);

  // Filters after a set target or a filter tag: `| a(1) | b`.
  std::vector<std::unique_ptr<FilterExpr>> parse_filter_chain(bool first_without_pipe = false);
  std::string parse_dotted_name();
  // Parses expressions separated by commas. More than one, or a trailing comma, make a tuple.
  ExprPtr parse_tuple(bool explicit_parentheses, bool with_conditional, std::initializer_list<std::string_view> end_names);
  ExprPtr parse_expression(bool with_conditional);
  Arguments parse_call_args();

 private:
  ExprPtr parse_conditional();
  ExprPtr parse_or();
  ExprPtr parse_and();
  ExprPtr parse_not();
  ExprPtr parse_compare();
  ExprPtr parse_math1();
  ExprPtr parse_concat();
  ExprPtr parse_math2();
  ExprPtr parse_pow();
  ExprPtr parse_unary(bool with_filter);
  ExprPtr parse_primary();
  ExprPtr parse_list();
  ExprPtr parse_dict();
  ExprPtr parse_postfix(ExprPtr node);
  ExprPtr parse_filter_expr(ExprPtr node);
  ExprPtr parse_subscript(ExprPtr object);
  ExprPtr parse_call(ExprPtr callee);
  ExprPtr parse_test(ExprPtr value);

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace edgelm::jinja
