#include "chat/jinja/expression_parser.h"

#include "chat/jinja/template_error.h"

namespace edgelm::jinja {

std::string describe(const Token& token) {
  switch (token.type) {
    case TokenType::data: return "template data";
    case TokenType::variable_begin: return "begin of print statement";
    case TokenType::variable_end: return "end of print statement";
    case TokenType::block_begin: return "begin of statement block";
    case TokenType::block_end: return "end of statement block";
    case TokenType::eof: return "end of template";
    default: return token.text;
  }
}

void ExpressionParser::fail(const std::string& message) const {
  throw TemplateError(TemplateErrorKind::syntax, message, current().line);
}

Token ExpressionParser::next() {
  Token token = tokens_[pos_];
  if (pos_ + 1 < tokens_.size()) ++pos_;
  return token;
}

bool ExpressionParser::skip_op(std::string_view op) {
  if (!is_op(op)) return false;
  next();
  return true;
}

bool ExpressionParser::skip_name(std::string_view name) {
  if (!is_name(name)) return false;
  next();
  return true;
}

void ExpressionParser::expect_op(std::string_view op) {
  if (!skip_op(op)) fail(fmt::format("expected '{}', got '{}'", op, describe(current())));
}

void ExpressionParser::expect_name(std::string_view name) {
  if (!skip_name(name)) fail(fmt::format("expected '{}', got '{}'", name, describe(current())));
}

std::string ExpressionParser::expect_identifier() {
  if (current().type != TokenType::name) fail(fmt::format("expected a name, got '{}'", describe(current())));
  return next().text;
}

void ExpressionParser::expect(TokenType type) {
  if (current().type != type) {
    Token wanted;
    wanted.type = type;
    fail(fmt::format("expected '{}', got '{}'", describe(wanted), describe(current())));
  }
  next();
}

std::vector<std::unique_ptr<FilterExpr>> ExpressionParser::parse_filter_chain(bool first_without_pipe) {
  std::vector<std::unique_ptr<FilterExpr>> filters;
  while (first_without_pipe || skip_op("|")) {
    first_without_pipe = false;
    auto filter = std::make_unique<FilterExpr>(current().line);
    filter->name = parse_dotted_name();
    if (is_op("(")) filter->args = parse_call_args();
    filters.push_back(std::move(filter));
  }
  return filters;
}

std::string ExpressionParser::parse_dotted_name() {
  std::string name = expect_identifier();
  while (skip_op(".")) {
    name += '.';
    name += expect_identifier();
  }
  return name;
}

ExprPtr ExpressionParser::parse_tuple(bool explicit_parentheses, bool with_conditional, std::initializer_list<std::string_view> end_names) {
  int line = current().line;
  std::vector<ExprPtr> items;
  bool is_tuple = false;
  while (true) {
    if (!items.empty()) expect_op(",");
    bool at_end = current().type == TokenType::variable_end || current().type == TokenType::block_end || is_op(")");
    for (std::string_view name : end_names) at_end = at_end || is_name(name);
    if (at_end) break;
    items.push_back(parse_expression(with_conditional));
    if (!is_op(",")) break;
    is_tuple = true;
  }
  if (!is_tuple) {
    if (!items.empty()) return std::move(items[0]);
    if (!explicit_parentheses) fail(fmt::format("expected an expression, got '{}'", describe(current())));
  }
  auto tuple = std::make_unique<ListExpr>(line);
  tuple->items = std::move(items);
  tuple->is_tuple = true;
  return tuple;
}

ExprPtr ExpressionParser::parse_expression(bool with_conditional) {
  Nesting nesting(*this);
  return with_conditional ? parse_conditional() : parse_or();
}

ExprPtr ExpressionParser::parse_conditional() {
  int line = current().line;
  ExprPtr value = parse_or();
  while (skip_name("if")) {
    auto node = std::make_unique<ConditionalExpr>(line);
    node->condition = parse_or();
    if (skip_name("else")) node->else_value = parse_conditional();
    node->then_value = std::move(value);
    value = std::move(node);
    line = current().line;
  }
  return value;
}

ExprPtr ExpressionParser::parse_or() {
  int line = current().line;
  ExprPtr left = parse_and();
  while (skip_name("or")) left = std::make_unique<BinaryExpr>(BinaryOp::logical_or, std::move(left), parse_and(), line);
  return left;
}

ExprPtr ExpressionParser::parse_and() {
  int line = current().line;
  ExprPtr left = parse_not();
  while (skip_name("and")) left = std::make_unique<BinaryExpr>(BinaryOp::logical_and, std::move(left), parse_not(), line);
  return left;
}

ExprPtr ExpressionParser::parse_not() {
  if (is_name("not")) {
    Nesting nesting(*this);
    int line = next().line;
    return std::make_unique<UnaryExpr>(UnaryOp::logical_not, parse_not(), line);
  }
  return parse_compare();
}

ExprPtr ExpressionParser::parse_compare() {
  int line = current().line;
  ExprPtr first = parse_math1();
  auto node = std::make_unique<CompareExpr>(line);
  while (true) {
    static const std::pair<std::string_view, CompareOp> kOps[] = {
        {"==", CompareOp::eq}, {"!=", CompareOp::ne}, {"<", CompareOp::lt},
        {"<=", CompareOp::le}, {">", CompareOp::gt},  {">=", CompareOp::ge}};
    bool matched = false;
    for (const auto& [text, op] : kOps) {
      if (is_op(text)) {
        next();
        node->rest.emplace_back(op, parse_math1());
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (skip_name("in")) {
      node->rest.emplace_back(CompareOp::in, parse_math1());
    } else if (is_name("not") && peek().type == TokenType::name && peek().text == "in") {
      next();
      next();
      node->rest.emplace_back(CompareOp::not_in, parse_math1());
    } else {
      break;
    }
  }
  if (node->rest.empty()) return first;
  node->first = std::move(first);
  return node;
}

ExprPtr ExpressionParser::parse_math1() {
  int line = current().line;
  ExprPtr left = parse_concat();
  while (is_op("+") || is_op("-")) {
    BinaryOp op = is_op("+") ? BinaryOp::add : BinaryOp::subtract;
    next();
    left = std::make_unique<BinaryExpr>(op, std::move(left), parse_concat(), line);
  }
  return left;
}

ExprPtr ExpressionParser::parse_concat() {
  int line = current().line;
  ExprPtr left = parse_math2();
  while (skip_op("~")) left = std::make_unique<BinaryExpr>(BinaryOp::concat, std::move(left), parse_math2(), line);
  return left;
}

ExprPtr ExpressionParser::parse_math2() {
  int line = current().line;
  ExprPtr left = parse_pow();
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    BinaryOp op = is_op("*") ? BinaryOp::multiply
                  : is_op("/") ? BinaryOp::divide
                  : is_op("//") ? BinaryOp::floor_divide
                                : BinaryOp::modulo;
    next();
    left = std::make_unique<BinaryExpr>(op, std::move(left), parse_pow(), line);
  }
  return left;
}

// jinja2 groups ** from the left: 2 ** 3 ** 2 is 64.
ExprPtr ExpressionParser::parse_pow() {
  int line = current().line;
  ExprPtr left = parse_unary(true);
  while (skip_op("**")) left = std::make_unique<BinaryExpr>(BinaryOp::power, std::move(left), parse_unary(true), line);
  return left;
}

ExprPtr ExpressionParser::parse_unary(bool with_filter) {
  Nesting nesting(*this);
  int line = current().line;
  ExprPtr node;
  if (skip_op("-")) {
    node = std::make_unique<UnaryExpr>(UnaryOp::negate, parse_unary(false), line);
  } else if (skip_op("+")) {
    node = std::make_unique<UnaryExpr>(UnaryOp::plus, parse_unary(false), line);
  } else {
    node = parse_primary();
  }
  node = parse_postfix(std::move(node));
  if (with_filter) node = parse_filter_expr(std::move(node));
  return node;
}

ExprPtr ExpressionParser::parse_primary() {
  const Token& token = current();
  int line = token.line;
  switch (token.type) {
    case TokenType::name: {
      std::string name = next().text;
      if (name == "true" || name == "True") return std::make_unique<LiteralExpr>(Value(true), line);
      if (name == "false" || name == "False") return std::make_unique<LiteralExpr>(Value(false), line);
      if (name == "none" || name == "None") return std::make_unique<LiteralExpr>(Value::none(), line);
      return std::make_unique<NameExpr>(std::move(name), line);
    }
    case TokenType::string: {
      // Adjacent string literals join into one, as in Python.
      std::string text;
      while (current().type == TokenType::string) text += next().text;
      return std::make_unique<LiteralExpr>(Value(std::move(text)), line);
    }
    case TokenType::integer:
      return std::make_unique<LiteralExpr>(Value(next().int_value), line);
    case TokenType::floating:
      return std::make_unique<LiteralExpr>(Value(next().float_value), line);
    default:
      break;
  }
  if (skip_op("(")) {
    ExprPtr node = parse_tuple(true, true, {});
    expect_op(")");
    return node;
  }
  if (is_op("[")) return parse_list();
  if (is_op("{")) return parse_dict();
  fail(fmt::format("unexpected '{}'", describe(token)));
}

ExprPtr ExpressionParser::parse_list() {
  auto node = std::make_unique<ListExpr>(next().line);
  while (!is_op("]")) {
    if (!node->items.empty()) expect_op(",");
    if (is_op("]")) break;
    node->items.push_back(parse_expression(true));
  }
  expect_op("]");
  return node;
}

ExprPtr ExpressionParser::parse_dict() {
  auto node = std::make_unique<DictExpr>(next().line);
  while (!is_op("}")) {
    if (!node->entries.empty()) expect_op(",");
    if (is_op("}")) break;
    ExprPtr key = parse_expression(true);
    expect_op(":");
    node->entries.emplace_back(std::move(key), parse_expression(true));
  }
  expect_op("}");
  return node;
}

ExprPtr ExpressionParser::parse_postfix(ExprPtr node) {
  while (true) {
    if (is_op(".") || is_op("[")) {
      node = parse_subscript(std::move(node));
    } else if (is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr ExpressionParser::parse_filter_expr(ExprPtr node) {
  while (true) {
    if (is_op("|")) {
      for (auto& filter : parse_filter_chain()) {
        filter->value = std::move(node);
        node = std::move(filter);
      }
    } else if (is_name("is")) {
      node = parse_test(std::move(node));
    } else if (is_op("(")) {
      node = parse_call(std::move(node));
    } else {
      return node;
    }
  }
}

ExprPtr ExpressionParser::parse_subscript(ExprPtr object) {
  Token token = next();
  if (token.text == ".") {
    Token attribute = next();
    if (attribute.type == TokenType::name) return std::make_unique<AttributeExpr>(std::move(object), attribute.text, token.line);
    if (attribute.type != TokenType::integer) fail("expected a name or a number after '.'");
    return std::make_unique<ItemExpr>(std::move(object), std::make_unique<LiteralExpr>(Value(attribute.int_value), attribute.line), token.line);
  }

  // object[index] or object[start:stop:step]
  ExprPtr start;
  if (!is_op(":")) {
    start = parse_expression(true);
    if (!is_op(":")) {
      if (is_op(",")) fail("tuple subscripts are not supported in chat templates");
      expect_op("]");
      return std::make_unique<ItemExpr>(std::move(object), std::move(start), token.line);
    }
  }
  auto slice = std::make_unique<SliceExpr>(token.line);
  slice->object = std::move(object);
  slice->start = std::move(start);
  next();  // the first ':'
  if (!is_op(":") && !is_op("]")) slice->stop = parse_expression(true);
  if (skip_op(":")) {
    if (!is_op("]")) slice->step = parse_expression(true);
  }
  expect_op("]");
  return slice;
}

Arguments ExpressionParser::parse_call_args() {
  expect_op("(");
  Arguments args;
  bool need_comma = false;
  while (!is_op(")")) {
    if (need_comma) {
      expect_op(",");
      if (is_op(")")) break;
    }
    if (is_op("*") || is_op("**")) fail("*args and **kwargs in calls are not supported in chat templates");
    if (current().type == TokenType::name && peek().type == TokenType::op && peek().text == "=") {
      std::string key = next().text;
      next();
      args.keyword.emplace_back(std::move(key), parse_expression(true));
    } else {
      if (!args.keyword.empty()) fail("invalid syntax for function call expression: positional argument after keyword argument");
      args.positional.push_back(parse_expression(true));
    }
    need_comma = true;
  }
  expect_op(")");
  return args;
}

ExprPtr ExpressionParser::parse_call(ExprPtr callee) {
  auto node = std::make_unique<CallExpr>(current().line);
  node->callee = std::move(callee);
  node->args = parse_call_args();
  return node;
}

ExprPtr ExpressionParser::parse_test(ExprPtr value) {
  auto node = std::make_unique<TestExpr>(next().line);
  node->negated = skip_name("not");
  node->name = parse_dotted_name();
  node->value = std::move(value);
  if (is_op("(")) {
    node->args = parse_call_args();
    return node;
  }

  // One argument may follow without parentheses: `x is divisibleby 3`.
  const Token& token = current();
  bool starts_argument = token.type == TokenType::name || token.type == TokenType::string ||
                         token.type == TokenType::integer || token.type == TokenType::floating || is_op("[") || is_op("{");
  if (starts_argument && !is_name("else") && !is_name("or") && !is_name("and")) {
    if (is_name("is")) fail("tests cannot be chained with 'is'");
    node->args.positional.push_back(parse_postfix(parse_primary()));
  }
  return node;
}

}  // namespace edgelm::jinja
