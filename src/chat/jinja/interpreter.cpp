#include "chat/jinja/interpreter.h"

#include "chat/jinja/filters.h"
#include "chat/jinja/operators.h"
#include "chat/jinja/template_error.h"
#include "chat/jinja/tests.h"

namespace edgelm::jinja {

const Value* Scope::find(std::string_view name) const {
  for (const Scope* scope = this; scope != nullptr; scope = scope->parent_.get()) {
    for (const auto& [key, value] : scope->variables_) {
      if (key == name) return &value;
    }
  }
  return nullptr;
}

void Scope::set(const std::string& name, Value value) {
  for (auto& [key, existing] : variables_) {
    if (key == name) {
      existing = std::move(value);
      return;
    }
  }
  variables_.emplace_back(name, std::move(value));
}

Interpreter::~Interpreter() {
  for (const Value& name_space : namespaces_) name_space.as_namespace().attributes.entries.clear();
}

std::string Interpreter::render(const TemplateTree& tree, std::shared_ptr<Scope> globals) {
  std::string out;
  output_ = &out;
  exec_body(tree.body, open_scope(globals, tree.locals));
  output_ = nullptr;
  return out;
}

Interpreter::ScopePtr Interpreter::open_scope(const ScopePtr& parent, const LocalNames& locals) {
  auto scope = std::make_shared<Scope>(parent);
  for (const std::string& name : locals) scope->set(name, Value::undefined("'" + name + "' is undefined"));
  return scope;
}

void Interpreter::charge(size_t bytes) {
  allocated_bytes_ += bytes;
  if (allocated_bytes_ > limits_.max_allocated_bytes) {
    fail_render("the template built more than {} bytes of strings and lists", limits_.max_allocated_bytes);
  }
}

void Interpreter::count_iteration() {
  if (++iterations_ > limits_.max_loop_iterations) {
    fail_render("the template ran more than {} loop iterations and macro calls", limits_.max_loop_iterations);
  }
}

void Interpreter::track_namespace(const Value& name_space) { namespaces_.push_back(name_space); }

void Interpreter::write(std::string_view text) {
  if (output_->size() + text.size() > limits_.max_output_bytes) {
    fail_render("the rendered text exceeds the output limit of {} bytes", limits_.max_output_bytes);
  }
  charge(text.size());
  output_->append(text);
}

Interpreter::Flow Interpreter::exec_body(const Body& body, const ScopePtr& scope) {
  for (const NodePtr& node : body) {
    Flow flow = exec(*node, scope);
    if (flow != Flow::normal) return flow;
  }
  return Flow::normal;
}

Interpreter::Flow Interpreter::exec(const Node& node, const ScopePtr& scope) {
  try {
    switch (node.kind) {
      case NodeKind::text:
        write(static_cast<const TextNode&>(node).text);
        return Flow::normal;
      case NodeKind::output:
        write(to_str(eval(*static_cast<const OutputNode&>(node).value, scope)));
        return Flow::normal;
      case NodeKind::if_chain: {
        const auto& if_node = static_cast<const IfNode&>(node);
        for (const auto& [condition, body] : if_node.branches) {
          if (truthy(eval(*condition, scope))) return exec_body(body, scope);
        }
        return exec_body(if_node.else_body, scope);
      }
      case NodeKind::for_loop:
        return exec_for(static_cast<const ForNode&>(node), scope);
      case NodeKind::set: {
        const auto& set = static_cast<const SetNode&>(node);
        exec_set(set.target, set.namespace_name, set.attribute, eval(*set.value, scope), scope);
        return Flow::normal;
      }
      case NodeKind::set_block: {
        const auto& set = static_cast<const SetBlockNode&>(node);
        Value value = apply_filters(set.filters, Value(capture(set.body, open_scope(scope, set.locals))), scope);
        exec_set(set.target, set.namespace_name, set.attribute, std::move(value), scope);
        return Flow::normal;
      }
      case NodeKind::macro: {
        const auto& macro = static_cast<const MacroNode&>(node);
        // The macro keeps a weak pointer to its scope, because the scope stores the macro.
        std::weak_ptr<Scope> closure = scope;
        scope->set(macro.name, Value::function(macro.name, [&macro, closure](Interpreter& interpreter, const CallArgs& args) {
                     return interpreter.call_macro(macro, closure, args);
                   }));
        return Flow::normal;
      }
      case NodeKind::with: {
        const auto& with = static_cast<const WithNode&>(node);
        auto inner = open_scope(scope, with.locals);
        for (const auto& [target, value] : with.assignments) bind(target, eval(*value, scope), *inner);
        return exec_body(with.body, inner);
      }
      case NodeKind::filter_block: {
        const auto& block = static_cast<const FilterBlockNode&>(node);
        write(to_str(apply_filters(block.filters, Value(capture(block.body, open_scope(scope, block.locals))), scope)));
        return Flow::normal;
      }
      case NodeKind::scope: {
        const auto& inner = static_cast<const ScopeNode&>(node);
        return exec_body(inner.body, open_scope(scope, inner.locals));
      }
      case NodeKind::loop_break:
        return Flow::loop_break;
      case NodeKind::loop_continue:
        return Flow::loop_continue;
    }
  } catch (const TemplateError& e) {
    if (e.line() == 0) throw TemplateError(e.kind(), e.message(), node.line);
    throw;
  }
  return Flow::normal;
}

Interpreter::Flow Interpreter::exec_for(const ForNode& node, const ScopePtr& scope) {
  std::vector<Value> items = iterate(eval(*node.iterable, scope));

  // `for x in xs if condition` drops items before the loop starts, so
  // loop.length and loop.last count only the kept ones.
  if (node.condition) {
    std::vector<Value> selected;
    for (Value& item : items) {
      count_iteration();
      auto filter_scope = std::make_shared<Scope>(scope);
      bind(node.target, item, *filter_scope);
      if (truthy(eval(*node.condition, filter_scope))) selected.push_back(std::move(item));
    }
    items = std::move(selected);
  }
  if (items.empty()) return exec_body(node.else_body, open_scope(scope, node.else_locals));

  const int64_t length = static_cast<int64_t>(items.size());
  for (int64_t i = 0; i < length; ++i) {
    count_iteration();
    // Each iteration gets a fresh scope, so a set inside the body is
    // neither visible to the next iteration nor after the loop.
    auto body_scope = open_scope(scope, node.body_locals);
    bind(node.target, items[i], *body_scope);

    Dict loop;
    loop.set("index", Value(i + 1));
    loop.set("index0", Value(i));
    loop.set("revindex", Value(length - i));
    loop.set("revindex0", Value(length - i - 1));
    loop.set("first", Value(i == 0));
    loop.set("last", Value(i == length - 1));
    loop.set("length", Value(length));
    loop.set("depth", Value(int64_t{1}));
    loop.set("depth0", Value(int64_t{0}));
    loop.set("previtem", i > 0 ? items[i - 1] : Value::undefined("there is no previous item"));
    loop.set("nextitem", i + 1 < length ? items[i + 1] : Value::undefined("there is no next item"));
    loop.set("cycle", Value::function("loop.cycle", [i](Interpreter&, const CallArgs& args) {
               if (args.positional.empty()) fail_render("no items for cycling given");
               return args.positional[static_cast<size_t>(i) % args.positional.size()];
             }));
    body_scope->set("loop", Value::dict(std::move(loop)));

    if (exec_body(node.body, body_scope) == Flow::loop_break) break;
  }
  return Flow::normal;
}

void Interpreter::exec_set(const Target& target, const std::string& namespace_name, const std::string& attribute,
                           Value value, const ScopePtr& scope) {
  if (namespace_name.empty()) {
    bind(target, std::move(value), *scope);
    return;
  }
  const Value* name_space = scope->find(namespace_name);
  if (name_space == nullptr || !name_space->is_namespace()) fail_render("cannot assign attribute on non-namespace object");
  name_space->as_namespace().attributes.set(attribute, std::move(value));
}

void Interpreter::bind(const Target& target, Value value, Scope& scope) {
  if (!target.is_tuple) {
    scope.set(target.name, std::move(value));
    return;
  }
  std::vector<Value> items = iterate(value);
  if (items.size() < target.items.size()) {
    fail_render("not enough values to unpack (expected {}, got {})", target.items.size(), items.size());
  }
  if (items.size() > target.items.size()) fail_render("too many values to unpack (expected {})", target.items.size());
  for (size_t i = 0; i < items.size(); ++i) bind(target.items[i], std::move(items[i]), scope);
}

Value Interpreter::call_macro(const MacroNode& node, const std::weak_ptr<Scope>& closure, const CallArgs& args) {
  ScopePtr parent = closure.lock();
  if (!parent) fail_render("macro '{}' was called after the scope that defined it ended", node.name);
  count_iteration();
  if (call_depth_ >= limits_.max_call_depth) fail_render("macro calls nest deeper than {} levels", limits_.max_call_depth);
  struct DepthGuard {
    int& depth;
    explicit DepthGuard(int& d) : depth(++d) {}
    ~DepthGuard() { --depth; }
  } guard(call_depth_);

  const size_t n = node.parameters.size();
  if (args.positional.size() > n) fail_render("macro '{}' takes not more than {} argument(s)", node.name, n);
  auto scope = open_scope(parent, node.locals);
  std::vector<bool> given(n, false);
  for (size_t i = 0; i < args.positional.size(); ++i) {
    scope->set(node.parameters[i], args.positional[i]);
    given[i] = true;
  }
  for (const auto& [key, value] : args.keyword) {
    size_t i = 0;
    while (i < n && node.parameters[i] != key) ++i;
    if (i == n) fail_render("macro '{}' takes no keyword argument '{}'", node.name, key);
    if (given[i]) fail_render("macro '{}' got multiple values for argument '{}'", node.name, key);
    scope->set(key, value);
    given[i] = true;
  }

  // Defaults are evaluated at call time, where earlier parameters are visible.
  const size_t first_default = n - node.defaults.size();
  for (size_t i = 0; i < n; ++i) {
    if (given[i]) continue;
    Value value = i >= first_default ? eval(*node.defaults[i - first_default], scope)
                                     : Value::undefined("'" + node.parameters[i] + "' is undefined");
    scope->set(node.parameters[i], std::move(value));
  }
  return Value(capture(node.body, scope));
}

std::string Interpreter::capture(const Body& body, const ScopePtr& scope) {
  std::string buffer;
  std::string* saved = output_;
  output_ = &buffer;
  try {
    exec_body(body, scope);
  } catch (...) {
    output_ = saved;
    throw;
  }
  output_ = saved;
  return buffer;
}

Value Interpreter::apply_filters(const std::vector<std::unique_ptr<FilterExpr>>& filters, Value input, const ScopePtr& scope) {
  for (const auto& filter : filters) input = apply_filter(filter->name, input, eval_args(filter->args, scope));
  return input;
}

Value Interpreter::call(const Value& callee, const CallArgs& args) {
  if (callee.is_function()) return callee.as_function().call(*this, args);
  if (callee.is_undefined()) fail_undefined(callee);
  fail_render("'{}' object is not callable", type_name(callee));
}

Value Interpreter::apply_filter(const std::string& name, const Value& input, const CallArgs& args) {
  FilterFunction filter = find_filter(name);
  if (filter == nullptr) fail_render("No filter named '{}'.", name);
  return filter(*this, input, args);
}

bool Interpreter::apply_test(const std::string& name, const Value& input, const CallArgs& args) {
  TestFunction test = find_test(name);
  if (test == nullptr) fail_render("No test named '{}'.", name);
  return test(*this, input, args);
}

CallArgs Interpreter::eval_args(const Arguments& args, const ScopePtr& scope) {
  CallArgs call;
  for (const ExprPtr& arg : args.positional) call.positional.push_back(eval(*arg, scope));
  for (const auto& [key, arg] : args.keyword) call.keyword.emplace_back(key, eval(*arg, scope));
  return call;
}

Value Interpreter::eval(const Expr& expr, const ScopePtr& scope) {
  try {
    return eval_inner(expr, scope);
  } catch (const TemplateError& e) {
    if (e.line() == 0) throw TemplateError(e.kind(), e.message(), expr.line);
    throw;
  }
}

Value Interpreter::eval_inner(const Expr& expr, const ScopePtr& scope) {
  switch (expr.kind) {
    case ExprKind::literal:
      return static_cast<const LiteralExpr&>(expr).value;
    case ExprKind::name: {
      const auto& name = static_cast<const NameExpr&>(expr).name;
      const Value* value = scope->find(name);
      return value != nullptr ? *value : Value::undefined("'" + name + "' is undefined");
    }
    case ExprKind::list: {
      const auto& list = static_cast<const ListExpr&>(expr);
      std::vector<Value> items;
      for (const ExprPtr& item : list.items) items.push_back(eval(*item, scope));
      charge(items.size() * sizeof(Value));
      return Value::list(std::move(items), list.is_tuple ? ListKind::tuple : ListKind::list);
    }
    case ExprKind::dict: {
      Dict dict;
      for (const auto& [key_expr, value_expr] : static_cast<const DictExpr&>(expr).entries) {
        Value key = eval(*key_expr, scope);
        if (!key.is_string()) fail_render("dict keys must be strings in chat templates, not '{}'", type_name(key));
        dict.set(key.as_string(), eval(*value_expr, scope));
      }
      charge(dict.entries.size() * sizeof(Value));
      return Value::dict(std::move(dict));
    }
    case ExprKind::attribute: {
      const auto& attribute = static_cast<const AttributeExpr&>(expr);
      return get_attribute(eval(*attribute.object, scope), attribute.name);
    }
    case ExprKind::item: {
      const auto& item = static_cast<const ItemExpr&>(expr);
      Value object = eval(*item.object, scope);
      return get_item(object, eval(*item.index, scope));
    }
    case ExprKind::slice: {
      const auto& slice = static_cast<const SliceExpr&>(expr);
      Value object = eval(*slice.object, scope);
      Value start = slice.start ? eval(*slice.start, scope) : Value::none();
      Value stop = slice.stop ? eval(*slice.stop, scope) : Value::none();
      Value step = slice.step ? eval(*slice.step, scope) : Value::none();
      return get_slice(*this, object, start, stop, step);
    }
    case ExprKind::unary: {
      const auto& unary = static_cast<const UnaryExpr&>(expr);
      return unary_op(unary.op, eval(*unary.operand, scope));
    }
    case ExprKind::binary: {
      const auto& binary = static_cast<const BinaryExpr&>(expr);
      Value left = eval(*binary.left, scope);
      // `and` and `or` return an operand, as in Python, and skip the right one when they can.
      if (binary.op == BinaryOp::logical_and) return truthy(left) ? eval(*binary.right, scope) : left;
      if (binary.op == BinaryOp::logical_or) return truthy(left) ? left : eval(*binary.right, scope);
      return binary_op(*this, binary.op, left, eval(*binary.right, scope));
    }
    case ExprKind::compare:
      return eval_compare(static_cast<const CompareExpr&>(expr), scope);
    case ExprKind::conditional: {
      const auto& conditional = static_cast<const ConditionalExpr&>(expr);
      if (truthy(eval(*conditional.condition, scope))) return eval(*conditional.then_value, scope);
      if (conditional.else_value) return eval(*conditional.else_value, scope);
      return Value::undefined("the inline if-expression on line " + std::to_string(expr.line) +
                              " evaluated to false and no else section was defined.");
    }
    case ExprKind::filter: {
      const auto& filter = static_cast<const FilterExpr&>(expr);
      Value input = eval(*filter.value, scope);
      return apply_filter(filter.name, input, eval_args(filter.args, scope));
    }
    case ExprKind::test: {
      const auto& test = static_cast<const TestExpr&>(expr);
      Value input = eval(*test.value, scope);
      bool passed = apply_test(test.name, input, eval_args(test.args, scope));
      return Value(test.negated ? !passed : passed);
    }
    case ExprKind::call: {
      const auto& call_expr = static_cast<const CallExpr&>(expr);
      Value callee = eval(*call_expr.callee, scope);
      return call(callee, eval_args(call_expr.args, scope));
    }
  }
  fail_render("unknown expression");
}

Value Interpreter::eval_compare(const CompareExpr& expr, const ScopePtr& scope) {
  Value left = eval(*expr.first, scope);
  for (const auto& [op, right_expr] : expr.rest) {
    Value right = eval(*right_expr, scope);
    bool holds = false;
    switch (op) {
      case CompareOp::eq: holds = equals(left, right); break;
      case CompareOp::ne: holds = !equals(left, right); break;
      case CompareOp::lt: holds = compare(left, right, "<") < 0; break;
      case CompareOp::le: holds = compare(left, right, "<=") <= 0; break;
      case CompareOp::gt: holds = compare(left, right, ">") > 0; break;
      case CompareOp::ge: holds = compare(left, right, ">=") >= 0; break;
      case CompareOp::in: holds = contains(right, left); break;
      case CompareOp::not_in: holds = !contains(right, left); break;
    }
    if (!holds) return Value(false);
    left = std::move(right);
  }
  return Value(true);
}

}  // namespace edgelm::jinja
