#include "chat/jinja/value.h"

#include <algorithm>

#include "chat/jinja/python_text.h"
#include "chat/jinja/template_error.h"

namespace edgelm::jinja {

const Value* Dict::find(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k == key) return &v;
  }
  return nullptr;
}

void Dict::set(std::string key, Value value) {
  for (auto& [k, v] : entries) {
    if (k == key) {
      v = std::move(value);
      return;
    }
  }
  entries.emplace_back(std::move(key), std::move(value));
}

Value::Value(std::string value) : type_(Type::string), string_(std::make_shared<const std::string>(std::move(value))) {}

Value Value::undefined(std::string message) {
  Value v;
  v.string_ = std::make_shared<const std::string>(std::move(message));
  return v;
}

Value Value::none() {
  Value v;
  v.type_ = Type::none;
  return v;
}

namespace {

int checked_depth(int child_depth) {
  if (child_depth + 1 > kMaxValueDepth) fail_render("lists and dicts nest deeper than {} levels", kMaxValueDepth);
  return child_depth + 1;
}

}  // namespace

Value Value::list(std::vector<Value> items, ListKind kind) {
  int child_depth = 0;
  for (const Value& item : items) child_depth = std::max(child_depth, item.depth());
  Value v;
  v.type_ = Type::list;
  v.list_ = std::make_shared<const ListData>(ListData{std::move(items), kind, checked_depth(child_depth), {}});
  return v;
}

Value Value::dict(Dict dict) {
  int child_depth = 0;
  for (const auto& entry : dict.entries) child_depth = std::max(child_depth, entry.second.depth());
  dict.depth = checked_depth(child_depth);
  Value v;
  v.type_ = Type::dict;
  v.dict_ = std::make_shared<const Dict>(std::move(dict));
  return v;
}

Value Value::failed_generator(std::string error) {
  Value v;
  v.type_ = Type::list;
  v.list_ = std::make_shared<const ListData>(ListData{{}, ListKind::generator, 1, std::move(error)});
  return v;
}

const std::string& Value::undefined_message() const {
  static const std::string kDefault = "undefined value";
  return string_ ? *string_ : kDefault;
}

int Value::depth() const {
  if (type_ == Type::list) return list_->depth;
  if (type_ == Type::dict) return dict_->depth;
  return 0;
}

Value Value::make_namespace(Dict attributes) {
  Value v;
  v.type_ = Type::name_space;
  v.namespace_ = std::make_shared<Namespace>(Namespace{std::move(attributes)});
  return v;
}

Value Value::function(std::string name, std::function<Value(Interpreter&, const CallArgs&)> call) {
  Value v;
  v.type_ = Type::function;
  v.function_ = std::make_shared<const Function>(Function{std::move(name), std::move(call)});
  return v;
}

bool Value::same_object(const Value& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case Type::undefined:
    case Type::none:
      return true;
    case Type::boolean:
    case Type::integer:
      return int_ == other.int_;
    case Type::floating:
      return float_ == other.float_;
    case Type::string:
      return string_ == other.string_;
    case Type::list:
      return list_ == other.list_;
    case Type::dict:
      return dict_ == other.dict_;
    case Type::name_space:
      return namespace_ == other.namespace_;
    case Type::function:
      return function_ == other.function_;
  }
  return false;
}

bool truthy(const Value& value) {
  switch (value.type()) {
    case Value::Type::undefined:
    case Value::Type::none:
      return false;
    case Value::Type::boolean:
    case Value::Type::integer:
      return value.as_int() != 0;
    case Value::Type::floating:
      return value.as_double() != 0.0;
    case Value::Type::string:
      return !value.as_string().empty();
    case Value::Type::list:
      return value.as_list().is_generator() || !value.as_list().items.empty();
    case Value::Type::dict:
      return !value.as_dict().entries.empty();
    case Value::Type::name_space:
    case Value::Type::function:
      return true;
  }
  return false;
}

std::string type_name(const Value& value) {
  switch (value.type()) {
    case Value::Type::undefined: return "Undefined";
    case Value::Type::none: return "NoneType";
    case Value::Type::boolean: return "bool";
    case Value::Type::integer: return "int";
    case Value::Type::floating: return "float";
    case Value::Type::string: return "str";
    case Value::Type::list:
      switch (value.as_list().kind) {
        case ListKind::list: return "list";
        case ListKind::tuple: return "tuple";
        case ListKind::generator: return "generator";
      }
      return "list";
    case Value::Type::dict: return "dict";
    case Value::Type::name_space: return "Namespace";
    case Value::Type::function: return "function";
  }
  return "object";
}

namespace {

std::string repr_at(const Value& value, int depth);

std::string dict_repr(const Dict& dict, int depth) {
  std::string out = "{";
  for (size_t i = 0; i < dict.entries.size(); ++i) {
    if (i > 0) out += ", ";
    out += string_repr(dict.entries[i].first) + ": " + repr_at(dict.entries[i].second, depth + 1);
  }
  return out + "}";
}

// `depth` counts the enclosing containers. Namespaces may contain
// themselves, so the depth is checked here rather than at construction.
std::string repr_at(const Value& value, int depth) {
  if (depth > 2 * kMaxValueDepth) fail_render("cannot print a value nested deeper than {} levels", 2 * kMaxValueDepth);
  switch (value.type()) {
    case Value::Type::undefined: return "";
    case Value::Type::none: return "None";
    case Value::Type::boolean: return value.as_bool() ? "True" : "False";
    case Value::Type::integer: return std::to_string(value.as_int());
    case Value::Type::floating: return float_repr(value.as_double());
    case Value::Type::string: return string_repr(value.as_string());
    case Value::Type::list: {
      const ListData& list = value.as_list();
      // Python prints a generator with its address; edgelm prints no address.
      if (list.is_generator()) return "<generator object>";
      std::string out = list.is_tuple() ? "(" : "[";
      for (size_t i = 0; i < list.items.size(); ++i) {
        if (i > 0) out += ", ";
        out += repr_at(list.items[i], depth + 1);
      }
      // A one-element tuple prints with a trailing comma, as "(1,)".
      if (list.is_tuple() && list.items.size() == 1) out += ",";
      return out + (list.is_tuple() ? ")" : "]");
    }
    case Value::Type::dict: return dict_repr(value.as_dict(), depth);
    case Value::Type::name_space: return "<Namespace " + dict_repr(value.as_namespace().attributes, depth) + ">";
    case Value::Type::function: return "<function " + value.as_function().name + ">";
  }
  return "";
}

}  // namespace

std::string to_str(const Value& value) {
  switch (value.type()) {
    case Value::Type::undefined: return "";
    case Value::Type::string: return value.as_string();
    default: return repr(value);
  }
}

std::string repr(const Value& value) { return repr_at(value, 0); }

bool equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) {
    if (a.is_float() || b.is_float()) return a.as_double() == b.as_double();
    return a.as_int() == b.as_int();
  }
  if (a.type() != b.type()) return false;

  switch (a.type()) {
    case Value::Type::undefined:
    case Value::Type::none:
      return true;
    case Value::Type::string:
      return a.as_string() == b.as_string();
    case Value::Type::list: {
      const auto& x = a.as_list();
      const auto& y = b.as_list();
      if (x.is_generator() || y.is_generator()) return a.same_object(b);
      if (x.kind != y.kind || x.items.size() != y.items.size()) return false;
      for (size_t i = 0; i < x.items.size(); ++i) {
        if (!equals(x.items[i], y.items[i])) return false;
      }
      return true;
    }
    case Value::Type::dict: {
      // Python compares dicts as mappings, whatever the key order.
      const auto& x = a.as_dict();
      const auto& y = b.as_dict();
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [key, item] : x.entries) {
        const Value* other = y.find(key);
        if (other == nullptr || !equals(item, *other)) return false;
      }
      return true;
    }
    default:
      return a.same_object(b);
  }
}

int compare(const Value& a, const Value& b, std::string_view op) {
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);

  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) return a.as_int() < b.as_int() ? -1 : (a.as_int() > b.as_int() ? 1 : 0);
    double x = a.as_double();
    double y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  // UTF-8 byte order is code point order, which is how Python orders str.
  if (a.is_string() && b.is_string()) return a.as_string().compare(b.as_string()) < 0 ? -1 : (a.as_string() == b.as_string() ? 0 : 1);
  if (a.is_list() && b.is_list() && a.as_list().kind == b.as_list().kind && !a.as_list().is_generator()) {
    const auto& x = a.as_list().items;
    const auto& y = b.as_list().items;
    for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!equals(x[i], y[i])) return compare(x[i], y[i], op);
    }
    return x.size() < y.size() ? -1 : (x.size() > y.size() ? 1 : 0);
  }
  fail_render("'{}' not supported between instances of '{}' and '{}'", op, type_name(a), type_name(b));
}

void fail_undefined(const Value& value) {
  throw TemplateError(TemplateErrorKind::runtime, value.undefined_message(), 0);
}

}  // namespace edgelm::jinja
