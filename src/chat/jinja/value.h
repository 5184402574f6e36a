#pragma once
// A template value with Python's data model: undefined, None, bool, int,
// float, str, list/tuple, dict, namespace and callables. Strings, lists and
// dicts are shared and immutable once built, as ImmutableSandboxedEnvironment
// keeps them, so a namespace is the one mutable object.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgelm::jinja {

class Value;
class Interpreter;

// Lists and dicts nest at most this deep, so that printing, comparing and
// freeing them cannot exhaust the stack.
constexpr int kMaxValueDepth = 256;

// Python sequence types a template meets. A generator is what jinja2's
// map, select, reject, selectattr, rejectattr, unique, items and reverse
// filters return: always true, without len() or subscripts.
// edgelm builds a generator's items at once. When that fails, the error is
// kept and raised on iteration, as jinja2 raises it on first use.
// NOTE: unlike Python's, these generators can be iterated more than once.
enum class ListKind { list, tuple, generator };

struct ListData {
  std::vector<Value> items;
  ListKind kind = ListKind::list;
  int depth = 1;      // 1 + the depth of the most nested element
  std::string error;  // for a generator whose filter failed: the error iterating raises

  bool is_tuple() const { return kind == ListKind::tuple; }
  bool is_generator() const { return kind == ListKind::generator; }
};

// A dict with string keys, in insertion order as Python keeps them.
struct Dict {
  std::vector<std::pair<std::string, Value>> entries;
  int depth = 1;  // set by Value::dict

  const Value* find(std::string_view key) const;
  // Replaces the value of an existing key in place, or appends the key.
  void set(std::string key, Value value);
};

// The object namespace() returns: attributes a template may set inside loops.
struct Namespace {
  Dict attributes;
};

// Positional and keyword arguments of a call.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// A global function, a bound method, a macro or loop.cycle.
struct Function {
  std::string name;
  std::function<Value(Interpreter&, const CallArgs&)> call;
};

class Value {
 public:
  enum class Type { undefined, none, boolean, integer, floating, string, list, dict, name_space, function };

  // The default value is undefined.
  Value() = default;
  Value(bool value) : type_(Type::boolean), int_(value ? 1 : 0) {}
  Value(int64_t value) : type_(Type::integer), int_(value) {}
  Value(int value) : Value(static_cast<int64_t>(value)) {}
  Value(double value) : type_(Type::floating), float_(value) {}
  Value(std::string value);
  Value(const char* value) : Value(std::string(value)) {}

  // An undefined value whose `message` is the error shown when it is used,
  // such as "'x' is undefined".
  static Value undefined(std::string message);
  static Value none();
  // These throw a runtime TemplateError when the result would nest deeper than kMaxValueDepth.
  static Value list(std::vector<Value> items, ListKind kind = ListKind::list);
  static Value tuple(std::vector<Value> items) { return list(std::move(items), ListKind::tuple); }
  static Value generator(std::vector<Value> items) { return list(std::move(items), ListKind::generator); }
  // A generator that raises `error` when iterated.
  static Value failed_generator(std::string error);
  static Value dict(Dict dict);
  static Value make_namespace(Dict attributes);
  static Value function(std::string name, std::function<Value(Interpreter&, const CallArgs&)> call);

  Type type() const { return type_; }
  bool is_undefined() const { return type_ == Type::undefined; }
  bool is_none() const { return type_ == Type::none; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_int() const { return type_ == Type::integer; }
  bool is_float() const { return type_ == Type::floating; }
  // int, float or bool: Python's numbers.Number.
  bool is_number() const { return is_int() || is_float() || is_bool(); }
  bool is_string() const { return type_ == Type::string; }
  bool is_list() const { return type_ == Type::list; }
  bool is_dict() const { return type_ == Type::dict; }
  bool is_namespace() const { return type_ == Type::name_space; }
  bool is_function() const { return type_ == Type::function; }

  bool as_bool() const { return int_ != 0; }
  // The integer of an int or bool.
  int64_t as_int() const { return int_; }
  // The number of an int, bool or float as a double.
  double as_double() const { return is_float() ? float_ : static_cast<double>(int_); }
  const std::string& as_string() const { return *string_; }
  const ListData& as_list() const { return *list_; }
  const Dict& as_dict() const { return *dict_; }
  Namespace& as_namespace() const { return *namespace_; }
  const Function& as_function() const { return *function_; }
  const std::string& undefined_message() const;
  // Nesting depth: 0 for scalars, namespaces and functions.
  int depth() const;

  // Identity, for the `sameas` test: the same scalar or the same shared object.
  bool same_object(const Value& other) const;

 private:
  Type type_ = Type::undefined;
  int64_t int_ = 0;
  double float_ = 0;
  std::shared_ptr<const std::string> string_;  // also the message of an undefined value
  std::shared_ptr<const ListData> list_;
  std::shared_ptr<const Dict> dict_;
  std::shared_ptr<Namespace> namespace_;
  std::shared_ptr<const Function> function_;
};

// Python's bool(value).
bool truthy(const Value& value);

// Python's type name, as its error messages print it ('str', 'NoneType', ...).
std::string type_name(const Value& value);

// Python's str() and repr(). An undefined value prints as "".
std::string to_str(const Value& value);
std::string repr(const Value& value);

// Python's ==, where undefined equals only undefined as in jinja2.
bool equals(const Value& a, const Value& b);

// Python's ordering for <, <=, >, >=: negative, zero or positive. Throws a
// runtime TemplateError naming `op` for types Python cannot order.
int compare(const Value& a, const Value& b, std::string_view op = "<");

// Throws the error of using an undefined value.
[[noreturn]] void fail_undefined(const Value& value);

}  // namespace edgelm::jinja
