#pragma once
// Renders a parsed template: evaluates expressions with Python's semantics,
// runs the statements and enforces the resource limits.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/value.h"

namespace edgelm::jinja {

// Bounds on one render, so that a hostile template cannot loop, recurse or
// allocate without end. Exceeding one is a runtime TemplateError.
struct Limits {
  size_t max_output_bytes = size_t{16} << 20;
  size_t max_allocated_bytes = size_t{1} << 30;  // all strings and lists built while rendering
  uint64_t max_loop_iterations = 1'000'000;       // all loops together
  int max_call_depth = 64;                        // nested macro calls
};

// Variables of one scope. Lookups fall back to the enclosing scope. A for
// loop body, a macro call and a with block each get a new scope, as in jinja2.
class Scope {
 public:
  explicit Scope(std::shared_ptr<Scope> parent = nullptr) : parent_(std::move(parent)) {}

  const Value* find(std::string_view name) const;
  void set(const std::string& name, Value value);

 private:
  std::shared_ptr<Scope> parent_;
  std::vector<std::pair<std::string, Value>> variables_;
};

class Interpreter {
 public:
  explicit Interpreter(const Limits& limits) : limits_(limits) {}
  ~Interpreter();
  Interpreter(const Interpreter&) = delete;
  Interpreter& operator=(const Interpreter&) = delete;

  // Renders the template with `globals` as the outermost scope.
  std::string render(const TemplateTree& tree, std::shared_ptr<Scope> globals);

  // Calls a function value (a global, a method or a macro).
  Value call(const Value& callee, const CallArgs& args);

  // Applies a filter or test by name, and throws for an unknown name.
  Value apply_filter(const std::string& name, const Value& input, const CallArgs& args);
  bool apply_test(const std::string& name, const Value& input, const CallArgs& args);

  // Counts `bytes` against Limits::max_allocated_bytes before a string or list is built.
  void charge(size_t bytes);
  // Counts one loop iteration against Limits::max_loop_iterations.
  void count_iteration();

  // Registers a namespace made during the render. The interpreter empties it
  // at the end, which frees namespaces that refer to each other.
  void track_namespace(const Value& name_space);

  // Runs a macro: binds the arguments in a new scope inside the macro's
  // defining scope and returns the rendered body.
  Value call_macro(const MacroNode& node, const std::weak_ptr<Scope>& closure, const CallArgs& args);

  const Limits& limits() const { return limits_; }

 private:
  enum class Flow { normal, loop_break, loop_continue };
  using ScopePtr = std::shared_ptr<Scope>;

  Flow exec_body(const Body& body, const ScopePtr& scope);
  Flow exec(const Node& node, const ScopePtr& scope);
  Flow exec_for(const ForNode& node, const ScopePtr& scope);
  void exec_set(const Target& target, const std::string& namespace_name, const std::string& attribute, Value value,
                const ScopePtr& scope);
  std::string capture(const Body& body, const ScopePtr& scope);
  // A new scope inside `parent` whose `locals` start as undefined.
  ScopePtr open_scope(const ScopePtr& parent, const LocalNames& locals);
  Value apply_filters(const std::vector<std::unique_ptr<FilterExpr>>& filters, Value input, const ScopePtr& scope);

  Value eval(const Expr& expr, const ScopePtr& scope);
  Value eval_inner(const Expr& expr, const ScopePtr& scope);
  Value eval_compare(const CompareExpr& expr, const ScopePtr& scope);
  CallArgs eval_args(const Arguments& args, const ScopePtr& scope);

  void bind(const Target& target, Value value, Scope& scope);
  void write(std::string_view text);

  Limits limits_;
  std::string* output_ = nullptr;  // the render output or a capture buffer
  size_t allocated_bytes_ = 0;
  uint64_t iterations_ = 0;
  int call_depth_ = 0;
  std::vector<Value> namespaces_;
};

}  // namespace edgelm::jinja
