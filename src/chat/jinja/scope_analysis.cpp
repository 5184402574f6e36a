#include "chat/jinja/scope_analysis.h"

#include <functional>
#include <map>
#include <set>

namespace edgelm::jinja {
namespace {

// The initial value of a scope's local: the value in the enclosing scopes or
// render variables (`resolve`, also jinja2's alias of an enclosing local),
// undefined, or a parameter bound on entry.
enum class Start { resolve, alias, undefined, parameter };

// The symbols of one scope, as jinja2's Symbols class tracks them.
struct Symbols {
  const Symbols* parent = nullptr;
  std::map<std::string, Start> refs;  // names with a local in this scope
  std::set<std::string> stores;       // names assigned in this scope

  bool find_ref(const std::string& name) const {
    for (const Symbols* s = this; s != nullptr; s = s->parent) {
      if (s->refs.count(name)) return true;
    }
    return false;
  }

  void load(const std::string& name) {
    if (!find_ref(name)) refs[name] = Start::resolve;
  }

  void store(const std::string& name) {
    stores.insert(name);
    if (refs.count(name)) return;
    refs[name] = parent != nullptr && parent->find_ref(name) ? Start::alias : Start::undefined;
  }

  void declare_parameter(const std::string& name) {
    stores.insert(name);
    refs[name] = Start::parameter;
  }

  // Merges the branches of an if: a name first assigned inside a branch
  // starts from its enclosing or render value, because a branch that is
  // not taken leaves it so (jinja2 3.1.6; 3.1.2 kept names assigned in
  // every branch local).
  void branch_update(const std::vector<Symbols>& branches) {
    std::set<std::string> new_stores;
    for (const Symbols& branch : branches) {
      for (const std::string& name : branch.stores) {
        if (!stores.count(name)) new_stores.insert(name);
      }
    }
    for (const Symbols& branch : branches) {
      for (const auto& [name, start] : branch.refs) refs[name] = start;
      stores.insert(branch.stores.begin(), branch.stores.end());
    }
    for (const std::string& name : new_stores) {
      refs[name] = parent != nullptr && parent->find_ref(name) ? Start::alias : Start::resolve;
    }
  }

  LocalNames undefined_names() const {
    LocalNames names;
    for (const auto& [name, start] : refs) {
      if (start == Start::undefined) names.push_back(name);
    }
    return names;
  }
};

// Analyses of nested scopes, run once the enclosing scope is complete.
// jinja2 analyzes a whole scope before the scopes inside it, so an inner
// scope also finds names that the outer one assigns further down.
using Deferred = std::vector<std::function<void(const Symbols&)>>;

void visit_expr(const Expr* expr, Symbols& symbols);
void visit_node(Node& node, Symbols& symbols, Deferred& deferred);
void analyze_body(Body& body, Symbols& symbols, Deferred& deferred);

void visit_args(const Arguments& args, Symbols& symbols) {
  for (const auto& arg : args.positional) visit_expr(arg.get(), symbols);
  for (const auto& [key, arg] : args.keyword) visit_expr(arg.get(), symbols);
}

// Expressions only read names.
void visit_expr(const Expr* expr, Symbols& symbols) {
  if (expr == nullptr) return;
  switch (expr->kind) {
    case ExprKind::literal:
      return;
    case ExprKind::name:
      symbols.load(static_cast<const NameExpr*>(expr)->name);
      return;
    case ExprKind::list:
      for (const auto& item : static_cast<const ListExpr*>(expr)->items) visit_expr(item.get(), symbols);
      return;
    case ExprKind::dict:
      for (const auto& [key, value] : static_cast<const DictExpr*>(expr)->entries) {
        visit_expr(key.get(), symbols);
        visit_expr(value.get(), symbols);
      }
      return;
    case ExprKind::attribute:
      visit_expr(static_cast<const AttributeExpr*>(expr)->object.get(), symbols);
      return;
    case ExprKind::item: {
      const auto* item = static_cast<const ItemExpr*>(expr);
      visit_expr(item->object.get(), symbols);
      visit_expr(item->index.get(), symbols);
      return;
    }
    case ExprKind::slice: {
      const auto* slice = static_cast<const SliceExpr*>(expr);
      visit_expr(slice->object.get(), symbols);
      visit_expr(slice->start.get(), symbols);
      visit_expr(slice->stop.get(), symbols);
      visit_expr(slice->step.get(), symbols);
      return;
    }
    case ExprKind::unary:
      visit_expr(static_cast<const UnaryExpr*>(expr)->operand.get(), symbols);
      return;
    case ExprKind::binary: {
      const auto* binary = static_cast<const BinaryExpr*>(expr);
      visit_expr(binary->left.get(), symbols);
      visit_expr(binary->right.get(), symbols);
      return;
    }
    case ExprKind::compare: {
      const auto* compare = static_cast<const CompareExpr*>(expr);
      visit_expr(compare->first.get(), symbols);
      for (const auto& [op, operand] : compare->rest) visit_expr(operand.get(), symbols);
      return;
    }
    case ExprKind::conditional: {
      const auto* conditional = static_cast<const ConditionalExpr*>(expr);
      visit_expr(conditional->condition.get(), symbols);
      visit_expr(conditional->then_value.get(), symbols);
      visit_expr(conditional->else_value.get(), symbols);
      return;
    }
    case ExprKind::filter: {
      const auto* filter = static_cast<const FilterExpr*>(expr);
      visit_expr(filter->value.get(), symbols);
      visit_args(filter->args, symbols);
      return;
    }
    case ExprKind::test: {
      const auto* test = static_cast<const TestExpr*>(expr);
      visit_expr(test->value.get(), symbols);
      visit_args(test->args, symbols);
      return;
    }
    case ExprKind::call: {
      const auto* call = static_cast<const CallExpr*>(expr);
      visit_expr(call->callee.get(), symbols);
      visit_args(call->args, symbols);
      return;
    }
  }
}

void visit_target(const Target& target, Symbols& symbols, bool as_parameter) {
  if (target.is_tuple) {
    for (const Target& item : target.items) visit_target(item, symbols, as_parameter);
  } else if (as_parameter) {
    symbols.declare_parameter(target.name);
  } else {
    symbols.store(target.name);
  }
}

// Analyzes a scope inside `parent` (null for the template) and returns the
// names it must start as undefined.
LocalNames analyze_scope(const Symbols* parent, const std::function<void(Symbols&, Deferred&)>& visit) {
  Symbols symbols;
  symbols.parent = parent;
  Deferred deferred;
  visit(symbols, deferred);
  for (const auto& analyze_nested : deferred) analyze_nested(symbols);
  return symbols.undefined_names();
}

// Queues the analysis of a nested scope whose result goes to `locals`.
void defer_scope(Deferred& deferred, LocalNames& locals, std::function<void(Symbols&, Deferred&)> visit) {
  deferred.push_back([&locals, visit](const Symbols& parent) { locals = analyze_scope(&parent, visit); });
}

void visit_if(IfNode& node, Symbols& symbols, Deferred& deferred) {
  // jinja2 nests elif branches: if A {body} elif B {...} else {...} is
  // analyzed as three branches (body, the elif chain, else), and each elif
  // as an if of its own with an empty else.
  visit_expr(node.branches[0].first.get(), symbols);
  auto visit_branch = [&](auto&& visit) {
    Symbols branch = symbols;
    visit(branch);
    return branch;
  };
  std::vector<Symbols> branches;
  branches.push_back(visit_branch([&](Symbols& s) { analyze_body(node.branches[0].second, s, deferred); }));
  branches.push_back(visit_branch([&](Symbols& s) {
    for (size_t i = 1; i < node.branches.size(); ++i) {
      visit_expr(node.branches[i].first.get(), s);
      std::vector<Symbols> elif_branches;
      elif_branches.push_back(s);
      analyze_body(node.branches[i].second, elif_branches.back(), deferred);
      elif_branches.push_back(s);
      elif_branches.push_back(s);
      s.branch_update(elif_branches);
    }
  }));
  branches.push_back(visit_branch([&](Symbols& s) { analyze_body(node.else_body, s, deferred); }));
  symbols.branch_update(branches);
}

// Records the names a statement reads and assigns in its scope, and queues
// the analysis of the scopes it opens, with this scope as parent.
void visit_node(Node& node, Symbols& symbols, Deferred& deferred) {
  switch (node.kind) {
    case NodeKind::text:
    case NodeKind::loop_break:
    case NodeKind::loop_continue:
      return;
    case NodeKind::output:
      visit_expr(static_cast<OutputNode&>(node).value.get(), symbols);
      return;
    case NodeKind::if_chain:
      visit_if(static_cast<IfNode&>(node), symbols, deferred);
      return;
    case NodeKind::for_loop: {
      auto& loop = static_cast<ForNode&>(node);
      visit_expr(loop.iterable.get(), symbols);
      defer_scope(deferred, loop.body_locals, [&loop](Symbols& inner, Deferred& nested) {
        visit_target(loop.target, inner, true);
        analyze_body(loop.body, inner, nested);
      });
      defer_scope(deferred, loop.else_locals,
                  [&loop](Symbols& inner, Deferred& nested) { analyze_body(loop.else_body, inner, nested); });
      return;
    }
    case NodeKind::set: {
      auto& set = static_cast<SetNode&>(node);
      visit_expr(set.value.get(), symbols);
      if (set.namespace_name.empty()) {
        visit_target(set.target, symbols, false);
      } else {
        symbols.load(set.namespace_name);
      }
      return;
    }
    case NodeKind::set_block: {
      auto& set = static_cast<SetBlockNode&>(node);
      if (set.namespace_name.empty()) {
        visit_target(set.target, symbols, false);
      } else {
        symbols.load(set.namespace_name);
      }
      defer_scope(deferred, set.locals, [&set](Symbols& inner, Deferred& nested) { analyze_body(set.body, inner, nested); });
      return;
    }
    case NodeKind::macro: {
      auto& macro = static_cast<MacroNode&>(node);
      symbols.store(macro.name);
      defer_scope(deferred, macro.locals, [&macro](Symbols& inner, Deferred& nested) {
        for (const std::string& parameter : macro.parameters) inner.declare_parameter(parameter);
        for (const auto& value : macro.defaults) visit_expr(value.get(), inner);
        analyze_body(macro.body, inner, nested);
      });
      return;
    }
    case NodeKind::with: {
      auto& with = static_cast<WithNode&>(node);
      for (const auto& [target, value] : with.assignments) visit_expr(value.get(), symbols);
      defer_scope(deferred, with.locals, [&with](Symbols& inner, Deferred& nested) {
        for (const auto& [target, value] : with.assignments) visit_target(target, inner, true);
        analyze_body(with.body, inner, nested);
      });
      return;
    }
    case NodeKind::filter_block: {
      auto& block = static_cast<FilterBlockNode&>(node);
      for (const auto& filter : block.filters) visit_args(filter->args, symbols);
      defer_scope(deferred, block.locals, [&block](Symbols& inner, Deferred& nested) { analyze_body(block.body, inner, nested); });
      return;
    }
    case NodeKind::scope: {
      auto& scope = static_cast<ScopeNode&>(node);
      defer_scope(deferred, scope.locals, [&scope](Symbols& inner, Deferred& nested) { analyze_body(scope.body, inner, nested); });
      return;
    }
  }
}

void analyze_body(Body& body, Symbols& symbols, Deferred& deferred) {
  for (NodePtr& node : body) visit_node(*node, symbols, deferred);
}

}  // namespace

void analyze_scopes(TemplateTree& tree) {
  tree.locals = analyze_scope(nullptr, [&tree](Symbols& root, Deferred& deferred) { analyze_body(tree.body, root, deferred); });
}

}  // namespace edgelm::jinja
