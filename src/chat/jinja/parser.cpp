#include "chat/jinja/parser.h"

#include <initializer_list>
#include <string_view>

#include "chat/jinja/expression_parser.h"
#include "chat/jinja/scope_analysis.h"
#include "chat/jinja/template_error.h"

namespace edgelm::jinja {
namespace {

// The statement grammar: text, {{ }} and {% %} tags with their bodies.
class Parser : public ExpressionParser {
 public:
  using ExpressionParser::ExpressionParser;

  Body parse_template() {
    Body body = subparse({});
    if (current().type != TokenType::eof) fail(fmt::format("unexpected '{}'", describe(current())));
    return body;
  }

 private:
  // Parses nodes until a block tag whose name is one of `end_tags`, which is
  // left as the current token.
  Body subparse(std::initializer_list<std::string_view> end_tags) {
    Nesting nesting(*this);
    Body body;
    while (current().type != TokenType::eof) {
      const Token& token = current();
      if (token.type == TokenType::data) {
        body.push_back(std::make_unique<TextNode>(token.text, token.line));
        next();
      } else if (token.type == TokenType::variable_begin) {
        int line = next().line;
        body.push_back(std::make_unique<OutputNode>(parse_tuple(false, true, {}), line));
        expect(TokenType::variable_end);
      } else if (token.type == TokenType::block_begin) {
        next();
        for (std::string_view end : end_tags) {
          if (is_name(end)) return body;
        }
        body.push_back(parse_statement());
        expect(TokenType::block_end);
      } else {
        fail(fmt::format("unexpected '{}'", describe(token)));
      }
    }
    return body;
  }

  // The body of a block statement, after its opening tag's end.
  Body parse_statements(std::initializer_list<std::string_view> end_tags, bool drop_end_tag) {
    skip_op(":");
    expect(TokenType::block_end);
    Body body = subparse(end_tags);
    if (current().type == TokenType::eof) {
      std::string names;
      for (std::string_view end : end_tags) names += (names.empty() ? "'" : " or '") + std::string(end) + "'";
      fail("unexpected end of template; a block is not closed, expected " + names);
    }
    if (drop_end_tag) next();
    return body;
  }

  NodePtr parse_statement() {
    if (current().type != TokenType::name) fail("tag name expected");
    const std::string tag = current().text;
    int line = current().line;

    if (tag == "if") return parse_if();
    if (tag == "for") return parse_for();
    if (tag == "set") return parse_set();
    if (tag == "macro") return parse_macro();
    if (tag == "with") return parse_with();
    if (tag == "filter") return parse_filter_block();

    if (tag == "print") {
      next();
      return std::make_unique<OutputNode>(parse_tuple(false, true, {}), line);
    }
    if (tag == "break" || tag == "continue") {
      next();
      if (loop_depth_ == 0) fail(fmt::format("'{}' outside of a loop", tag));
      return std::make_unique<Node>(tag == "break" ? NodeKind::loop_break : NodeKind::loop_continue, line);
    }
    if (tag == "generation") {
      // Hugging Face's tag that marks assistant text renders its body unchanged.
      next();
      auto node = std::make_unique<ScopeNode>(line);
      node->body = parse_statements({"endgeneration"}, true);
      return node;
    }

    static constexpr std::string_view kUnsupported[] = {"block", "extends", "include", "import", "from", "call", "autoescape"};
    for (std::string_view name : kUnsupported) {
      if (tag == name) fail(fmt::format("the '{}' tag is not supported in chat templates", tag));
    }
    fail(fmt::format("encountered unknown tag '{}'", tag));
  }

  NodePtr parse_if() {
    auto node = std::make_unique<IfNode>(next().line);
    while (true) {
      ExprPtr condition = parse_tuple(false, false, {});
      Body body = parse_statements({"elif", "else", "endif"}, false);
      node->branches.emplace_back(std::move(condition), std::move(body));
      bool elif = is_name("elif");
      bool has_else = is_name("else");
      next();
      if (elif) continue;
      if (has_else) node->else_body = parse_statements({"endif"}, true);
      break;
    }
    return node;
  }

  NodePtr parse_for() {
    auto node = std::make_unique<ForNode>(next().line);
    node->target = parse_assign_target({"in"});
    expect_name("in");
    node->iterable = parse_tuple(false, false, {"recursive"});
    if (skip_name("if")) node->condition = parse_expression(true);
    if (is_name("recursive")) fail("recursive loops are not supported in chat templates");

    ++loop_depth_;
    node->body = parse_statements({"endfor", "else"}, false);
    --loop_depth_;
    bool has_else = is_name("else");
    next();
    if (has_else) node->else_body = parse_statements({"endfor"}, true);
    return node;
  }

  NodePtr parse_set() {
    int line = next().line;
    Target target;
    std::string namespace_name;
    std::string attribute;
    if (current().type == TokenType::name && peek().type == TokenType::op && peek().text == ".") {
      namespace_name = next().text;
      next();
      attribute = expect_identifier();
    } else {
      target = parse_assign_target({});
    }

    if (skip_op("=")) {
      auto node = std::make_unique<SetNode>(line);
      node->target = std::move(target);
      node->namespace_name = std::move(namespace_name);
      node->attribute = std::move(attribute);
      node->value = parse_tuple(false, true, {});
      return node;
    }

    auto node = std::make_unique<SetBlockNode>(line);
    node->target = std::move(target);
    node->namespace_name = std::move(namespace_name);
    node->attribute = std::move(attribute);
    if (is_op("|")) node->filters = parse_filter_chain();
    node->body = parse_statements({"endset"}, true);
    return node;
  }

  NodePtr parse_macro() {
    auto node = std::make_unique<MacroNode>(next().line);
    node->name = expect_identifier();
    expect_op("(");
    while (!is_op(")")) {
      if (!node->parameters.empty()) expect_op(",");
      node->parameters.push_back(expect_identifier());
      if (skip_op("=")) {
        node->defaults.push_back(parse_expression(true));
      } else if (!node->defaults.empty()) {
        fail("non-default argument follows default argument");
      }
    }
    expect_op(")");
    int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;  // break and continue cannot cross a macro boundary
    node->body = parse_statements({"endmacro"}, true);
    loop_depth_ = saved_loop_depth;
    return node;
  }

  NodePtr parse_with() {
    auto node = std::make_unique<WithNode>(next().line);
    while (current().type != TokenType::block_end) {
      if (!node->assignments.empty()) expect_op(",");
      Target target = parse_assign_target({});
      expect_op("=");
      node->assignments.emplace_back(std::move(target), parse_expression(true));
    }
    node->body = parse_statements({"endwith"}, true);
    return node;
  }

  NodePtr parse_filter_block() {
    auto node = std::make_unique<FilterBlockNode>(next().line);
    node->filters = parse_filter_chain(/*first_without_pipe=*/true);
    node->body = parse_statements({"endfilter"}, true);
    return node;
  }

  // `name`, `a, b` or `(a, b)`, ending before a name in `end_names`.
  Target parse_assign_target(std::initializer_list<std::string_view> end_names) {
    Target target;
    std::vector<Target> items;
    bool is_tuple = false;
    while (true) {
      if (!items.empty()) expect_op(",");
      bool at_end = current().type == TokenType::block_end || is_op(")") || is_op("=");
      for (std::string_view name : end_names) at_end = at_end || is_name(name);
      if (at_end) break;
      items.push_back(parse_target_primary());
      if (!is_op(",")) break;
      is_tuple = true;
    }
    if (items.empty()) fail(fmt::format("expected an assignment target, got '{}'", describe(current())));
    if (!is_tuple) return std::move(items[0]);
    target.is_tuple = true;
    target.items = std::move(items);
    return target;
  }

  Target parse_target_primary() {
    Nesting nesting(*this);
    if (skip_op("(")) {
      Target target = parse_assign_target({});
      expect_op(")");
      return target;
    }
    Target target;
    target.name = expect_identifier();
    static constexpr std::string_view kConstants[] = {"true", "false", "none", "True", "False", "None"};
    for (std::string_view constant : kConstants) {
      if (target.name == constant) fail(fmt::format("cannot assign to '{}'", target.name));
    }
    return target;
  }

  int loop_depth_ = 0;  // enclosing for loops, for break and continue
};

}  // namespace

TemplateTree parse(std::vector<Token> tokens) {
  TemplateTree tree;
  tree.body = Parser(std::move(tokens)).parse_template();
  analyze_scopes(tree);
  return tree;
}

}  // namespace edgelm::jinja
