#include "chat/jinja/tests.h"

#include <cmath>
#include <map>
#include <string>

#include "chat/jinja/bound_args.h"
#include "chat/jinja/operators.h"
#include "chat/jinja/python_text.h"
#include "chat/jinja/template_error.h"

namespace edgelm::jinja {
namespace {

// The one argument of a comparison test such as `x is equalto 3`.
Value operand(std::string_view name, const CallArgs& args) {
  BoundArgs bound(name, args, {"other"});
  if (!bound.has(0)) fail_render("{}() takes 1 argument (0 given)", name);
  return bound.get(0);
}

// x % 2 with Python's semantics, for the even and odd tests.
int64_t parity(const Value& value) {
  if (value.is_undefined()) fail_undefined(value);
  if (value.is_float()) {
    double r = std::fmod(value.as_double(), 2.0);
    if (r < 0) r += 2.0;
    return r == 1.0 ? 1 : (r == 0.0 ? 0 : -1);
  }
  if (!value.is_int() && !value.is_bool()) fail_render("unsupported operand type(s) for %: '{}' and 'int'", type_name(value));
  int64_t r = value.as_int() % 2;
  return r < 0 ? r + 2 : r;
}

bool test_defined(Interpreter&, const Value& v, const CallArgs&) { return !v.is_undefined(); }
bool test_undefined(Interpreter&, const Value& v, const CallArgs&) { return v.is_undefined(); }
bool test_none(Interpreter&, const Value& v, const CallArgs&) { return v.is_none(); }
bool test_boolean(Interpreter&, const Value& v, const CallArgs&) { return v.is_bool(); }
bool test_true(Interpreter&, const Value& v, const CallArgs&) { return v.is_bool() && v.as_bool(); }
bool test_false(Interpreter&, const Value& v, const CallArgs&) { return v.is_bool() && !v.as_bool(); }
bool test_integer(Interpreter&, const Value& v, const CallArgs&) { return v.is_int(); }
bool test_float(Interpreter&, const Value& v, const CallArgs&) { return v.is_float(); }
bool test_number(Interpreter&, const Value& v, const CallArgs&) { return v.is_number(); }
bool test_string(Interpreter&, const Value& v, const CallArgs&) { return v.is_string(); }
bool test_mapping(Interpreter&, const Value& v, const CallArgs&) { return v.is_dict(); }
// Undefined values are iterable, sized and callable in jinja2, so they pass these three.
bool test_iterable(Interpreter&, const Value& v, const CallArgs&) { return v.is_string() || v.is_list() || v.is_dict() || v.is_undefined(); }
bool test_sequence(Interpreter&, const Value& v, const CallArgs&) {
  return v.is_string() || (v.is_list() && !v.as_list().is_generator()) || v.is_dict() || v.is_undefined();
}
bool test_callable(Interpreter&, const Value& v, const CallArgs&) { return v.is_function() || v.is_undefined(); }
bool test_even(Interpreter&, const Value& v, const CallArgs&) { return parity(v) == 0; }
bool test_odd(Interpreter&, const Value& v, const CallArgs&) { return parity(v) == 1; }
bool test_lower(Interpreter&, const Value& v, const CallArgs&) {
  std::string text = to_str(v);
  return to_lower(text) == text && to_upper(text) != text;
}
bool test_upper(Interpreter&, const Value& v, const CallArgs&) {
  std::string text = to_str(v);
  return to_upper(text) == text && to_lower(text) != text;
}

bool test_divisibleby(Interpreter&, const Value& v, const CallArgs& args) {
  Value divisor = operand("divisibleby", args);
  if (!v.is_number() || !divisor.is_number()) fail_render("divisibleby needs numbers, not '{}' and '{}'", type_name(v), type_name(divisor));
  if (v.is_float() || divisor.is_float()) {
    if (divisor.as_double() == 0) fail_render("float modulo");
    return std::fmod(v.as_double(), divisor.as_double()) == 0;
  }
  if (divisor.as_int() == 0) fail_render("integer division or modulo by zero");
  if (divisor.as_int() == -1) return true;
  return v.as_int() % divisor.as_int() == 0;
}

bool test_eq(Interpreter&, const Value& v, const CallArgs& args) { return equals(v, operand("eq", args)); }
bool test_ne(Interpreter&, const Value& v, const CallArgs& args) { return !equals(v, operand("ne", args)); }
bool test_lt(Interpreter&, const Value& v, const CallArgs& args) { return compare(v, operand("lt", args), "<") < 0; }
bool test_le(Interpreter&, const Value& v, const CallArgs& args) { return compare(v, operand("le", args), "<=") <= 0; }
bool test_gt(Interpreter&, const Value& v, const CallArgs& args) { return compare(v, operand("gt", args), ">") > 0; }
bool test_ge(Interpreter&, const Value& v, const CallArgs& args) { return compare(v, operand("ge", args), ">=") >= 0; }
bool test_in(Interpreter&, const Value& v, const CallArgs& args) { return contains(operand("in", args), v); }
bool test_sameas(Interpreter&, const Value& v, const CallArgs& args) { return v.same_object(operand("sameas", args)); }

}  // namespace

TestFunction find_test(std::string_view name) {
  static const std::map<std::string_view, TestFunction> kTests = {
      {"defined", test_defined},   {"undefined", test_undefined}, {"none", test_none},
      {"boolean", test_boolean},   {"true", test_true},           {"false", test_false},
      {"integer", test_integer},   {"float", test_float},         {"number", test_number},
      {"string", test_string},     {"mapping", test_mapping},     {"iterable", test_iterable},
      {"sequence", test_sequence}, {"callable", test_callable},   {"even", test_even},
      {"odd", test_odd},           {"lower", test_lower},         {"upper", test_upper},
      {"divisibleby", test_divisibleby},
      {"eq", test_eq}, {"equalto", test_eq}, {"==", test_eq},
      {"ne", test_ne}, {"!=", test_ne},
      {"lt", test_lt}, {"lessthan", test_lt}, {"<", test_lt},
      {"le", test_le}, {"<=", test_le},
      {"gt", test_gt}, {"greaterthan", test_gt}, {">", test_gt},
      {"ge", test_ge}, {">=", test_ge},
      {"in", test_in}, {"sameas", test_sameas},
  };
  auto it = kTests.find(name);
  return it == kTests.end() ? nullptr : it->second;
}

}  // namespace edgelm::jinja
