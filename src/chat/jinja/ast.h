#pragma once
// The syntax tree of a parsed template: expressions and statements.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "chat/jinja/value.h"

namespace edgelm::jinja {

struct Expr;
struct Node;
using ExprPtr = std::unique_ptr<Expr>;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

enum class ExprKind {
  literal, name, list, dict, attribute, item, slice, unary, binary, compare, conditional, filter, test, call
};

struct Expr {
  Expr(ExprKind kind, int line) : kind(kind), line(line) {}
  virtual ~Expr() = default;
  ExprKind kind;
  int line;
};

struct Arguments {
  std::vector<ExprPtr> positional;
  std::vector<std::pair<std::string, ExprPtr>> keyword;
};

struct LiteralExpr : Expr {
  LiteralExpr(Value value, int line) : Expr(ExprKind::literal, line), value(std::move(value)) {}
  Value value;
};

struct NameExpr : Expr {
  NameExpr(std::string name, int line) : Expr(ExprKind::name, line), name(std::move(name)) {}
  std::string name;
};

// A list literal, or a tuple literal when `is_tuple`.
struct ListExpr : Expr {
  explicit ListExpr(int line) : Expr(ExprKind::list, line) {}
  std::vector<ExprPtr> items;
  bool is_tuple = false;
};

struct DictExpr : Expr {
  explicit DictExpr(int line) : Expr(ExprKind::dict, line) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> entries;
};

// object.name
struct AttributeExpr : Expr {
  AttributeExpr(ExprPtr object, std::string name, int line)
      : Expr(ExprKind::attribute, line), object(std::move(object)), name(std::move(name)) {}
  ExprPtr object;
  std::string name;
};

// object[index]
struct ItemExpr : Expr {
  ItemExpr(ExprPtr object, ExprPtr index, int line)
      : Expr(ExprKind::item, line), object(std::move(object)), index(std::move(index)) {}
  ExprPtr object;
  ExprPtr index;
};

// object[start:stop:step], where an omitted part is null.
struct SliceExpr : Expr {
  explicit SliceExpr(int line) : Expr(ExprKind::slice, line) {}
  ExprPtr object;
  ExprPtr start;
  ExprPtr stop;
  ExprPtr step;
};

enum class UnaryOp { logical_not, negate, plus };

struct UnaryExpr : Expr {
  UnaryExpr(UnaryOp op, ExprPtr operand, int line) : Expr(ExprKind::unary, line), op(op), operand(std::move(operand)) {}
  UnaryOp op;
  ExprPtr operand;
};

enum class BinaryOp { logical_and, logical_or, add, subtract, multiply, divide, floor_divide, modulo, power, concat };

struct BinaryExpr : Expr {
  BinaryExpr(BinaryOp op, ExprPtr left, ExprPtr right, int line)
      : Expr(ExprKind::binary, line), op(op), left(std::move(left)), right(std::move(right)) {}
  BinaryOp op;
  ExprPtr left;
  ExprPtr right;
};

enum class CompareOp { eq, ne, lt, le, gt, ge, in, not_in };

// A chain such as `a < b <= c`, which is true when every link is true.
struct CompareExpr : Expr {
  explicit CompareExpr(int line) : Expr(ExprKind::compare, line) {}
  ExprPtr first;
  std::vector<std::pair<CompareOp, ExprPtr>> rest;
};

// `then_value if condition else else_value`. A null else_value gives undefined.
struct ConditionalExpr : Expr {
  explicit ConditionalExpr(int line) : Expr(ExprKind::conditional, line) {}
  ExprPtr condition;
  ExprPtr then_value;
  ExprPtr else_value;
};

// value | name(args). `value` is null in a filter block or block set,
// where the rendered body is the input.
struct FilterExpr : Expr {
  explicit FilterExpr(int line) : Expr(ExprKind::filter, line) {}
  ExprPtr value;
  std::string name;
  Arguments args;
};

// value is [not] name(args)
struct TestExpr : Expr {
  explicit TestExpr(int line) : Expr(ExprKind::test, line) {}
  ExprPtr value;
  std::string name;
  Arguments args;
  bool negated = false;
};

struct CallExpr : Expr {
  explicit CallExpr(int line) : Expr(ExprKind::call, line) {}
  ExprPtr callee;
  Arguments args;
};

// An assignment target: a name, or a tuple of targets to unpack into.
struct Target {
  std::string name;
  std::vector<Target> items;
  bool is_tuple = false;
};

enum class NodeKind { text, output, if_chain, for_loop, set, set_block, macro, with, filter_block, scope, loop_break, loop_continue };

// Names a scope must start as undefined, hiding outer and context values:
// jinja2 decides at compile time that a name assigned in a scope is local to
// the whole scope when it is first assigned before being read (see
// scope_analysis.h).
using LocalNames = std::vector<std::string>;

struct Node {
  Node(NodeKind kind, int line) : kind(kind), line(line) {}
  virtual ~Node() = default;
  NodeKind kind;
  int line;
};

struct TextNode : Node {
  TextNode(std::string text, int line) : Node(NodeKind::text, line), text(std::move(text)) {}
  std::string text;
};

// {{ value }} or {% print value %}
struct OutputNode : Node {
  OutputNode(ExprPtr value, int line) : Node(NodeKind::output, line), value(std::move(value)) {}
  ExprPtr value;
};

// if / elif ... / else
struct IfNode : Node {
  explicit IfNode(int line) : Node(NodeKind::if_chain, line) {}
  std::vector<std::pair<ExprPtr, Body>> branches;
  Body else_body;
};

struct ForNode : Node {
  explicit ForNode(int line) : Node(NodeKind::for_loop, line) {}
  Target target;
  ExprPtr iterable;
  ExprPtr condition;  // the `if` of `for x in xs if condition`, or null
  Body body;
  Body else_body;  // rendered when no item passed the condition
  LocalNames body_locals;
  LocalNames else_locals;
};

// {% set target = value %} or {% set ns.attribute = value %}
struct SetNode : Node {
  explicit SetNode(int line) : Node(NodeKind::set, line) {}
  Target target;
  std::string namespace_name;  // set for a namespace attribute: namespace_name.attribute
  std::string attribute;
  ExprPtr value;
};

// {% set target %}body{% endset %}, optionally `{% set target | filter %}`
struct SetBlockNode : Node {
  explicit SetBlockNode(int line) : Node(NodeKind::set_block, line) {}
  Target target;
  std::string namespace_name;
  std::string attribute;
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
  LocalNames locals;
};

struct MacroNode : Node {
  explicit MacroNode(int line) : Node(NodeKind::macro, line) {}
  std::string name;
  std::vector<std::string> parameters;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() parameters
  Body body;
  LocalNames locals;
};

// {% with a = 1, b = 2 %}body{% endwith %}: a scope with its own variables.
struct WithNode : Node {
  explicit WithNode(int line) : Node(NodeKind::with, line) {}
  std::vector<std::pair<Target, ExprPtr>> assignments;
  Body body;
  LocalNames locals;
};

// {% filter name(args) | ... %}body{% endfilter %}
struct FilterBlockNode : Node {
  explicit FilterBlockNode(int line) : Node(NodeKind::filter_block, line) {}
  std::vector<std::unique_ptr<FilterExpr>> filters;
  Body body;
  LocalNames locals;
};

// A body rendered in a scope of its own, such as Hugging Face's {% generation %} block.
struct ScopeNode : Node {
  explicit ScopeNode(int line) : Node(NodeKind::scope, line) {}
  Body body;
  LocalNames locals;
};

// A parsed template: its body and the names local to its top-level scope.
struct TemplateTree {
  Body body;
  LocalNames locals;
};

}  // namespace edgelm::jinja
