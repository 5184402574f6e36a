#include "chat/jinja/operators.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "chat/jinja/interpreter.h"
#include "chat/jinja/methods.h"
#include "chat/jinja/python_text.h"
#include "chat/jinja/template_error.h"

namespace edgelm::jinja {
namespace {

const char* op_symbol(BinaryOp op) {
  switch (op) {
    case BinaryOp::add: return "+";
    case BinaryOp::subtract: return "-";
    case BinaryOp::multiply: return "*";
    case BinaryOp::divide: return "/";
    case BinaryOp::floor_divide: return "//";
    case BinaryOp::modulo: return "%";
    case BinaryOp::power: return "**";
    case BinaryOp::concat: return "~";
    case BinaryOp::logical_and: return "and";
    case BinaryOp::logical_or: return "or";
  }
  return "?";
}

[[noreturn]] void fail_operands(BinaryOp op, const Value& a, const Value& b) {
  fail_render("unsupported operand type(s) for {}: '{}' and '{}'", op_symbol(op), type_name(a), type_name(b));
}

[[noreturn]] void fail_overflow() { fail_render("integer overflow: the result does not fit in 64 bits"); }

// Python's floor division and modulo, whose results take the divisor's sign.
int64_t floor_div(int64_t a, int64_t b) {
  if (a == INT64_MIN && b == -1) fail_overflow();
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t floor_mod(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// CPython's float floor division, which starts from fmod so that
// 1 // 0.1 is 9.0 (0.1 is slightly more than a tenth).
double float_floor_div(double x, double y) {
  double mod = std::fmod(x, y);
  double div = (x - mod) / y;
  if (mod != 0 && ((y < 0) != (mod < 0))) div -= 1.0;
  if (div == 0) return std::copysign(0.0, x / y);
  double floored = std::floor(div);
  if (div - floored > 0.5) floored += 1.0;
  return floored;
}

double float_mod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

// Python's float **, which raises where C's pow() returns inf or nan.
Value float_power(double x, double y) {
  if (x == 0 && y < 0) fail_render("0.0 cannot be raised to a negative power");
  if (x < 0 && std::isfinite(y) && y != std::floor(y)) fail_render("complex results of ** are not supported");
  double result = std::pow(x, y);
  if (std::isinf(result) && std::isfinite(x) && std::isfinite(y)) fail_render("(34, 'Numerical result out of range')");
  return Value(result);
}

Value arithmetic(BinaryOp op, const Value& a, const Value& b) {
  bool use_float = a.is_float() || b.is_float();
  if (op == BinaryOp::divide) {
    if (b.as_double() == 0) fail_render("division by zero");
    return Value(a.as_double() / b.as_double());
  }
  if (use_float) {
    double x = a.as_double();
    double y = b.as_double();
    switch (op) {
      case BinaryOp::add: return Value(x + y);
      case BinaryOp::subtract: return Value(x - y);
      case BinaryOp::multiply: return Value(x * y);
      case BinaryOp::floor_divide:
        if (y == 0) fail_render("float floor division by zero");
        return Value(float_floor_div(x, y));
      case BinaryOp::modulo:
        if (y == 0) fail_render("float modulo");
        return Value(float_mod(x, y));
      case BinaryOp::power: return float_power(x, y);
      default: fail_operands(op, a, b);
    }
  }

  int64_t x = a.as_int();
  int64_t y = b.as_int();
  int64_t result = 0;
  switch (op) {
    case BinaryOp::add:
      if (__builtin_add_overflow(x, y, &result)) fail_overflow();
      return Value(result);
    case BinaryOp::subtract:
      if (__builtin_sub_overflow(x, y, &result)) fail_overflow();
      return Value(result);
    case BinaryOp::multiply:
      if (__builtin_mul_overflow(x, y, &result)) fail_overflow();
      return Value(result);
    case BinaryOp::floor_divide:
      if (y == 0) fail_render("integer division or modulo by zero");
      return Value(floor_div(x, y));
    case BinaryOp::modulo:
      if (y == 0) fail_render("integer division or modulo by zero");
      return Value(floor_mod(x, y));
    case BinaryOp::power: {
      if (y < 0) return float_power(static_cast<double>(x), static_cast<double>(y));
      int64_t power = 1;
      for (int64_t i = 0; i < y; ++i) {
        if (__builtin_mul_overflow(power, x, &power)) fail_overflow();
        if (power == 0 || power == 1) break;  // powers of 0 and 1 stay fixed, so huge exponents end early
      }
      if (x == -1) return Value(y % 2 == 0 ? int64_t{1} : int64_t{-1});
      return Value(power);
    }
    default: fail_operands(op, a, b);
  }
}

// `sequence * count` for a str or list.
Value repeat(Interpreter& interpreter, const Value& sequence, int64_t count) {
  if (count <= 0) return sequence.is_string() ? Value(std::string()) : Value::list({}, sequence.as_list().kind);
  if (sequence.is_string()) {
    const std::string& text = sequence.as_string();
    if (!text.empty() && static_cast<uint64_t>(count) > interpreter.limits().max_output_bytes / text.size()) {
      fail_render("string repetition would exceed the output limit of {} bytes", interpreter.limits().max_output_bytes);
    }
    interpreter.charge(text.size() * count);
    std::string out;
    out.reserve(text.size() * count);
    for (int64_t i = 0; i < count; ++i) out += text;
    return Value(std::move(out));
  }
  const ListData& list = sequence.as_list();
  if (!list.items.empty() && static_cast<uint64_t>(count) > interpreter.limits().max_loop_iterations / list.items.size()) {
    fail_render("list repetition would exceed {} items", interpreter.limits().max_loop_iterations);
  }
  interpreter.charge(list.items.size() * count * sizeof(Value));
  std::vector<Value> items;
  for (int64_t i = 0; i < count; ++i) items.insert(items.end(), list.items.begin(), list.items.end());
  return Value::list(std::move(items), list.kind);
}

// Python's index normalization for one subscript: negative counts from the end.
bool normalize_index(int64_t index, size_t size, size_t& out) {
  int64_t n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  if (index < 0 || index >= n) return false;
  out = static_cast<size_t>(index);
  return true;
}

std::string object_name(const Value& value) {
  if (value.is_none()) return "'None'";
  return fmt::format("'{} object'", type_name(value));
}

}  // namespace

Value binary_op(Interpreter& interpreter, BinaryOp op, const Value& a, const Value& b) {
  if (op == BinaryOp::concat) {
    std::string left = to_str(a);
    std::string right = to_str(b);
    interpreter.charge(left.size() + right.size());
    return Value(left + right);
  }
  if (a.is_undefined()) fail_undefined(a);
  if (b.is_undefined()) fail_undefined(b);

  if (a.is_number() && b.is_number()) return arithmetic(op, a, b);

  if (op == BinaryOp::add) {
    if (a.is_string() && b.is_string()) {
      interpreter.charge(a.as_string().size() + b.as_string().size());
      return Value(a.as_string() + b.as_string());
    }
    if (a.is_list() && b.is_list() && a.as_list().kind == b.as_list().kind && !a.as_list().is_generator()) {
      const auto& x = a.as_list().items;
      const auto& y = b.as_list().items;
      interpreter.charge((x.size() + y.size()) * sizeof(Value));
      std::vector<Value> items = x;
      items.insert(items.end(), y.begin(), y.end());
      return Value::list(std::move(items), a.as_list().kind);
    }
    if (a.is_string()) fail_render("can only concatenate str (not \"{}\") to str", type_name(b));
    if (a.is_list()) fail_render("can only concatenate {} (not \"{}\") to {}", type_name(a), type_name(b), type_name(a));
  }
  if (op == BinaryOp::multiply) {
    auto repeatable = [](const Value& v) { return v.is_string() || (v.is_list() && !v.as_list().is_generator()); };
    if (repeatable(a) && (b.is_int() || b.is_bool())) return repeat(interpreter, a, b.as_int());
    if (repeatable(b) && (a.is_int() || a.is_bool())) return repeat(interpreter, b, a.as_int());
  }
  if (op == BinaryOp::modulo && a.is_string()) {
    fail_render("printf-style string formatting with '%' is not supported in chat templates");
  }
  fail_operands(op, a, b);
}

Value unary_op(UnaryOp op, const Value& operand) {
  if (op == UnaryOp::logical_not) return Value(!truthy(operand));
  if (operand.is_undefined()) fail_undefined(operand);
  if (!operand.is_number()) {
    fail_render("bad operand type for unary {}: '{}'", op == UnaryOp::negate ? "-" : "+", type_name(operand));
  }
  if (op == UnaryOp::plus) return operand.is_bool() ? Value(operand.as_int()) : operand;
  if (operand.is_float()) return Value(-operand.as_double());
  if (operand.as_int() == INT64_MIN) fail_overflow();
  return Value(-operand.as_int());
}

bool contains(const Value& container, const Value& item) {
  switch (container.type()) {
    case Value::Type::undefined:
      return false;
    case Value::Type::string:
      if (!item.is_string()) fail_render("'in <string>' requires string as left operand, not {}", type_name(item));
      return container.as_string().find(item.as_string()) != std::string::npos;
    case Value::Type::list:
      for (const Value& element : iterate(container)) {
        if (equals(element, item)) return true;
      }
      return false;
    case Value::Type::dict:
      if (item.is_dict() || (item.is_list() && item.as_list().kind == ListKind::list)) {
        fail_render("unhashable type: '{}'", type_name(item));
      }
      return item.is_string() && container.as_dict().find(item.as_string()) != nullptr;
    default:
      fail_render("argument of type '{}' is not iterable", type_name(container));
  }
}

Value get_attribute(const Value& object, const std::string& name) {
  if (object.is_undefined()) fail_undefined(object);
  if (object.is_namespace()) {
    const Value* value = object.as_namespace().attributes.find(name);
    return value != nullptr ? *value : Value::undefined("'Namespace' object has no attribute '" + name + "'");
  }

  Value method = find_method(object, name);
  if (!method.is_undefined()) return method;
  if (object.is_dict()) {
    if (const Value* value = object.as_dict().find(name)) return *value;
  }
  return Value::undefined(object_name(object) + " has no attribute '" + name + "'");
}

Value get_item(const Value& object, const Value& key) {
  if (object.is_undefined()) fail_undefined(object);

  if (object.is_dict() && key.is_string()) {
    if (const Value* value = object.as_dict().find(key.as_string())) return *value;
  }
  bool integer_key = key.is_int() || key.is_bool();
  if (object.is_list() && integer_key && !object.as_list().is_generator()) {
    const auto& items = object.as_list().items;
    size_t index;
    if (normalize_index(key.as_int(), items.size(), index)) return items[index];
    return Value::undefined(type_name(object) + " object has no element " + std::to_string(key.as_int()));
  }
  if (object.is_string() && integer_key) {
    std::vector<size_t> offsets = char_offsets(object.as_string());
    size_t index;
    if (normalize_index(key.as_int(), offsets.size() - 1, index)) {
      return Value(object.as_string().substr(offsets[index], offsets[index + 1] - offsets[index]));
    }
    return Value::undefined("str object has no element " + std::to_string(key.as_int()));
  }
  if (key.is_string()) return get_attribute(object, key.as_string());
  return Value::undefined(object_name(object) + " has no element " + repr(key));
}

Value get_slice(Interpreter& interpreter, const Value& object, const Value& start, const Value& stop, const Value& step) {
  if (object.is_undefined()) fail_undefined(object);
  if (object.is_dict()) fail_render("unhashable type: 'slice'");
  if (!object.is_string() && !(object.is_list() && !object.as_list().is_generator())) {
    fail_render("'{}' object is not subscriptable", type_name(object));
  }

  auto bound = [](const Value& value, const char* what) -> std::optional<int64_t> {
    if (value.is_undefined() || value.is_none()) return std::nullopt;
    if (!value.is_int() && !value.is_bool()) {
      fail_render("slice {} must be an integer or None, not '{}'", what, type_name(value));
    }
    return value.as_int();
  };
  int64_t stride = bound(step, "step").value_or(1);
  if (stride == 0) fail_render("slice step cannot be zero");

  std::vector<size_t> offsets;
  int64_t size;
  if (object.is_string()) {
    offsets = char_offsets(object.as_string());
    size = static_cast<int64_t>(offsets.size()) - 1;
  } else {
    size = static_cast<int64_t>(object.as_list().items.size());
  }

  // Python's slice.indices(): clamp the bounds, counting negatives from the end.
  auto clamp = [&](std::optional<int64_t> value, int64_t fallback) {
    if (!value) return fallback;
    int64_t v = *value;
    if (v < 0) v = std::max<int64_t>(v + size, stride < 0 ? -1 : 0);
    return std::min<int64_t>(v, stride < 0 ? size - 1 : size);
  };
  int64_t first = clamp(bound(start, "start"), stride < 0 ? size - 1 : 0);
  int64_t last = clamp(bound(stop, "stop"), stride < 0 ? -1 : size);

  std::vector<int64_t> indices;
  for (int64_t i = first; stride > 0 ? i < last : i > last; i += stride) indices.push_back(i);

  if (object.is_string()) {
    const std::string& text = object.as_string();
    interpreter.charge(text.size());
    std::string out;
    for (int64_t i : indices) out.append(text, offsets[i], offsets[i + 1] - offsets[i]);
    return Value(std::move(out));
  }
  interpreter.charge(indices.size() * sizeof(Value));
  std::vector<Value> items;
  items.reserve(indices.size());
  for (int64_t i : indices) items.push_back(object.as_list().items[i]);
  return Value::list(std::move(items), object.as_list().kind);
}

std::vector<Value> iterate(const Value& value) {
  switch (value.type()) {
    case Value::Type::undefined:
      return {};
    case Value::Type::list:
      if (!value.as_list().error.empty()) fail_render("{}", value.as_list().error);
      return value.as_list().items;
    case Value::Type::dict: {
      std::vector<Value> keys;
      for (const auto& entry : value.as_dict().entries) keys.emplace_back(entry.first);
      return keys;
    }
    case Value::Type::string: {
      std::vector<Value> chars;
      const std::string& text = value.as_string();
      std::vector<size_t> offsets = char_offsets(text);
      for (size_t i = 0; i + 1 < offsets.size(); ++i) chars.emplace_back(text.substr(offsets[i], offsets[i + 1] - offsets[i]));
      return chars;
    }
    default:
      fail_render("'{}' object is not iterable", type_name(value));
  }
}

}  // namespace edgelm::jinja
