#include "chat/jinja/filters.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <string>

#include "chat/jinja/bound_args.h"
#include "chat/jinja/interpreter.h"
#include "chat/jinja/json_value.h"
#include "chat/jinja/operators.h"
#include "chat/jinja/python_text.h"
#include "chat/jinja/template_error.h"

namespace edgelm::jinja {
namespace {

// Counts the elements a filter builds against the allocation limit.
Value make_list(Interpreter& interpreter, std::vector<Value> items) {
  interpreter.charge(items.size() * sizeof(Value));
  return Value::list(std::move(items));
}

Value make_generator(Interpreter& interpreter, std::vector<Value> items) {
  interpreter.charge(items.size() * sizeof(Value));
  return Value::generator(std::move(items));
}

Value make_string(Interpreter& interpreter, std::string text) {
  interpreter.charge(text.size());
  return Value(std::move(text));
}

// Looks up a dotted attribute path such as "function.name" on an item, where
// numeric parts index lists. `fallback` replaces an undefined result when it is set.
std::function<Value(const Value&)> attribute_getter(const std::string& path, Value fallback = Value()) {
  std::vector<Value> parts;
  for (const std::string& part : split(path, ".", -1)) {
    bool numeric = !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
    parts.push_back(numeric && part.size() < 18 ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part));
  }
  return [parts, fallback](const Value& item) {
    Value value = item;
    for (const Value& part : parts) {
      value = get_item(value, part);
      if (value.is_undefined()) break;
    }
    if (value.is_undefined() && !fallback.is_undefined() && !fallback.is_none()) return fallback;
    return value;
  };
}

// Python's str.lower() applied to strings only, for case-insensitive sorting.
Value fold_case(const Value& value, bool case_sensitive) {
  if (case_sensitive || !value.is_string()) return value;
  return Value(to_lower(value.as_string()));
}

Value filter_trim(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("trim", call, {"chars"});
  std::string text = to_str(input);
  Value chars = args.get(0);
  if (chars.is_undefined() || chars.is_none()) return Value(std::string(strip_space(text, true, true)));
  return Value(strip_chars(text, args.get_string(0, ""), true, true));
}

Value filter_length(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("length", call, {});
  switch (input.type()) {
    case Value::Type::undefined: return Value(int64_t{0});
    case Value::Type::string: return Value(static_cast<int64_t>(char_count(input.as_string())));
    case Value::Type::list:
      if (input.as_list().is_generator()) fail_render("object of type 'generator' has no len()");
      return Value(static_cast<int64_t>(input.as_list().items.size()));
    case Value::Type::dict: return Value(static_cast<int64_t>(input.as_dict().entries.size()));
    default: fail_render("object of type '{}' has no len()", type_name(input));
  }
}

Value filter_upper(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("upper", call, {});
  return Value(to_upper(to_str(input)));
}

Value filter_lower(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("lower", call, {});
  return Value(to_lower(to_str(input)));
}

Value filter_capitalize(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("capitalize", call, {});
  return Value(capitalize(to_str(input)));
}

// jinja2's title filter: a word starts after a run of whitespace, '-', '(', '{', '[' or '<'.
Value filter_title(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("title", call, {});
  std::string text = to_str(input);
  std::string out;
  bool word_start = true;
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    size_t n = decode_char(text, pos, cp);
    std::string_view ch(text.data() + pos, n);
    bool separator = is_space(cp) || cp == '-' || cp == '(' || cp == '{' || cp == '[' || cp == '<';
    out += separator ? std::string(ch) : (word_start ? to_upper(ch) : to_lower(ch));
    word_start = separator;
    pos += n;
  }
  return Value(std::move(out));
}

Value filter_string(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("string", call, {});
  return input.is_string() ? input : make_string(interpreter, to_str(input));
}

Value filter_safe(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("safe", call, {});
  return input.is_string() ? input : make_string(interpreter, to_str(input));
}

Value filter_escape(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("escape", call, {});
  std::string out;
  for (char c : to_str(input)) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return make_string(interpreter, std::move(out));
}

Value filter_join(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("join", call, {"d", "attribute"});
  std::string separator = to_str(args.get(0, Value(std::string())));
  std::vector<Value> items = iterate(input);
  if (args.has(1)) {
    auto getter = attribute_getter(to_str(args.get(1)));
    for (Value& item : items) item = getter(item);
  }
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += to_str(items[i]);
    interpreter.charge(separator.size() + (items[i].is_string() ? items[i].as_string().size() : 0));
  }
  return make_string(interpreter, std::move(out));
}

Value filter_default(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("default", call, {"default_value", "boolean"});
  bool boolean = truthy(args.get(1, Value(false)));
  if (input.is_undefined() || (boolean && !truthy(input))) return args.get(0, Value(std::string()));
  return input;
}

Value filter_first(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("first", call, {});
  std::vector<Value> items = iterate(input);
  if (items.empty()) return Value::undefined("No first item, sequence was empty.");
  return items.front();
}

Value filter_last(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("last", call, {});
  if (input.is_list() && input.as_list().is_generator()) fail_render("'generator' object is not reversible");
  std::vector<Value> items = iterate(input);
  if (items.empty()) return Value::undefined("No last item, sequence was empty.");
  return items.back();
}

Value filter_items(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("items", call, {});
  if (input.is_undefined()) return Value::generator({});
  if (!input.is_dict()) fail_render("Can only get item pairs from a mapping.");
  std::vector<Value> pairs;
  for (const auto& [key, value] : input.as_dict().entries) pairs.push_back(Value::tuple({Value(key), value}));
  return make_generator(interpreter, std::move(pairs));
}

Value filter_list(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("list", call, {});
  return make_list(interpreter, iterate(input));
}

Value filter_reverse(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("reverse", call, {});
  std::vector<Value> items = iterate(input);
  std::reverse(items.begin(), items.end());
  // reversed() rejects a generator, so jinja2 falls back to a reversed list.
  if (input.is_list() && input.as_list().is_generator()) return make_list(interpreter, std::move(items));
  if (input.is_string()) {
    std::string out;
    for (const Value& item : items) out += item.as_string();
    return make_string(interpreter, std::move(out));
  }
  return make_generator(interpreter, std::move(items));
}

Value filter_replace(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("replace", call, {"old", "new", "count"});
  Value count_value = args.get(2);
  int64_t count = count_value.is_undefined() || count_value.is_none() ? -1 : args.get_int(2, -1);
  std::string out = replace(to_str(input), to_str(args.get(0)), to_str(args.get(1)), count, interpreter.limits().max_output_bytes);
  return make_string(interpreter, std::move(out));
}

Value filter_indent(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("indent", call, {"width", "first", "blank"});
  if (input.is_undefined()) fail_undefined(input);
  if (!input.is_string()) fail_render("unsupported operand type(s) for +=: '{}' and 'str'", type_name(input));
  Value width = args.get(0, Value(int64_t{4}));
  std::string indentation;
  if (width.is_string()) {
    indentation = width.as_string();
  } else {
    int64_t spaces = args.get_int(0, 4);
    if (spaces > static_cast<int64_t>(interpreter.limits().max_output_bytes)) fail_render("indent width {} exceeds the output limit", spaces);
    indentation.assign(static_cast<size_t>(std::max<int64_t>(spaces, 0)), ' ');
  }
  bool first = truthy(args.get(1, Value(false)));
  bool blank = truthy(args.get(2, Value(false)));

  // jinja2 appends a newline so that splitlines() keeps a trailing empty line.
  std::vector<std::string> lines = split_lines(input.as_string() + "\n");
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) {
      out += '\n';
      if (blank || !lines[i].empty()) out += indentation;
    }
    out += lines[i];
    interpreter.charge(indentation.size() + lines[i].size());
  }
  if (first) out = indentation + out;
  return make_string(interpreter, std::move(out));
}

// Hugging Face's tojson: json.dumps(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False).
Value filter_tojson(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("tojson", call, {"ensure_ascii", "indent", "separators", "sort_keys"});
  JsonDumpOptions options;
  options.ensure_ascii = truthy(args.get(0, Value(false)));
  Value indent = args.get(1);
  if (indent.is_string()) {
    options.indent = indent.as_string();
  } else if (!indent.is_undefined() && !indent.is_none()) {
    int64_t spaces = args.get_int(1, 0);
    if (spaces > 1024) fail_render("tojson indent {} is larger than 1024", spaces);
    options.indent = std::string(static_cast<size_t>(std::max<int64_t>(spaces, 0)), ' ');
  }
  Value separators = args.get(2);
  if (separators.is_list()) {
    const auto& items = separators.as_list().items;
    if (items.size() != 2 || !items[0].is_string() || !items[1].is_string()) fail_render("tojson separators must be a pair of strings");
    options.item_separator = items[0].as_string();
    options.key_separator = items[1].as_string();
  }
  options.sort_keys = truthy(args.get(3, Value(false)));
  return make_string(interpreter, to_json_text(input, options));
}

// select/reject/selectattr/rejectattr: keep the items whose test result is `keep`.
Value filter_by_test(Interpreter& interpreter, const Value& input, const CallArgs& call, bool keep, bool by_attribute) {
  // jinja2 skips a false input without iterating it.
  if (!truthy(input)) return Value::generator({});
  std::function<Value(const Value&)> transform = [](const Value& item) { return item; };
  size_t next = 0;
  if (by_attribute) {
    if (call.positional.empty()) fail_render("Missing parameter for attribute name");
    transform = attribute_getter(to_str(call.positional[0]));
    next = 1;
  }
  std::string test;
  CallArgs test_args;
  if (call.positional.size() > next) {
    test = to_str(call.positional[next]);
    test_args.positional.assign(call.positional.begin() + next + 1, call.positional.end());
    test_args.keyword = call.keyword;
  }

  std::vector<Value> selected;
  for (const Value& item : iterate(input)) {
    interpreter.count_iteration();
    Value subject = transform(item);
    bool passed = test.empty() ? truthy(subject) : interpreter.apply_test(test, subject, test_args);
    if (passed == keep) selected.push_back(item);
  }
  return make_generator(interpreter, std::move(selected));
}

Value filter_select(Interpreter& i, const Value& v, const CallArgs& a) { return filter_by_test(i, v, a, true, false); }
Value filter_reject(Interpreter& i, const Value& v, const CallArgs& a) { return filter_by_test(i, v, a, false, false); }
Value filter_selectattr(Interpreter& i, const Value& v, const CallArgs& a) { return filter_by_test(i, v, a, true, true); }
Value filter_rejectattr(Interpreter& i, const Value& v, const CallArgs& a) { return filter_by_test(i, v, a, false, true); }

Value filter_map(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  if (!truthy(input)) return Value::generator({});
  std::function<Value(const Value&)> transform;
  if (call.positional.empty()) {
    BoundArgs args("map", call, {"attribute", "default"});
    if (!args.has(0)) fail_render("map requires a filter argument");
    transform = attribute_getter(to_str(args.get(0)), args.get(1, Value::none()));
  } else {
    std::string filter = to_str(call.positional[0]);
    CallArgs filter_args;
    filter_args.positional.assign(call.positional.begin() + 1, call.positional.end());
    filter_args.keyword = call.keyword;
    transform = [&interpreter, filter, filter_args](const Value& item) { return interpreter.apply_filter(filter, item, filter_args); };
  }
  std::vector<Value> mapped;
  for (const Value& item : iterate(input)) {
    interpreter.count_iteration();
    mapped.push_back(transform(item));
  }
  return make_generator(interpreter, std::move(mapped));
}

// The sort key of an item for sort, unique, min and max.
std::function<Value(const Value&)> sort_key(const BoundArgs& args, size_t case_index, size_t attribute_index) {
  bool case_sensitive = truthy(args.get(case_index, Value(false)));
  Value attribute = args.get(attribute_index);
  std::function<Value(const Value&)> getter = [](const Value& item) { return item; };
  if (!attribute.is_undefined() && !attribute.is_none()) getter = attribute_getter(to_str(attribute));
  return [getter, case_sensitive](const Value& item) { return fold_case(getter(item), case_sensitive); };
}

Value filter_sort(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("sort", call, {"reverse", "case_sensitive", "attribute"});
  bool reverse = truthy(args.get(0, Value(false)));
  auto key = sort_key(args, 1, 2);
  std::vector<Value> items = iterate(input);
  std::vector<std::pair<Value, Value>> keyed;
  for (const Value& item : items) keyed.emplace_back(key(item), item);
  // Python's sort is stable also when reversed: equal items keep their order.
  std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& a, const auto& b) {
    return reverse ? compare(b.first, a.first) < 0 : compare(a.first, b.first) < 0;
  });
  items.clear();
  for (auto& entry : keyed) items.push_back(std::move(entry.second));
  return make_list(interpreter, std::move(items));
}

Value filter_unique(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("unique", call, {"case_sensitive", "attribute"});
  auto key = sort_key(args, 0, 1);
  std::vector<Value> seen;
  std::vector<Value> selected;
  for (const Value& item : iterate(input)) {
    interpreter.count_iteration();
    Value k = key(item);
    if (std::any_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, k); })) continue;
    seen.push_back(k);
    selected.push_back(item);
  }
  return make_generator(interpreter, std::move(selected));
}

Value extreme(const Value& input, const CallArgs& call, const char* name, bool largest) {
  BoundArgs args(name, call, {"case_sensitive", "attribute"});
  auto key = sort_key(args, 0, 1);
  std::vector<Value> items = iterate(input);
  if (items.empty()) return Value::undefined(largest ? "No largest item, sequence was empty." : "No smallest item, sequence was empty.");
  size_t best = 0;
  Value best_key = key(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    Value k = key(items[i]);
    int order = compare(k, best_key);
    if (largest ? order > 0 : order < 0) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}

Value filter_min(Interpreter&, const Value& v, const CallArgs& a) { return extreme(v, a, "min", false); }
Value filter_max(Interpreter&, const Value& v, const CallArgs& a) { return extreme(v, a, "max", true); }

Value filter_sum(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("sum", call, {"attribute", "start"});
  Value total = args.get(1, Value(int64_t{0}));
  std::function<Value(const Value&)> getter = [](const Value& item) { return item; };
  if (args.has(0) && !args.get(0).is_none()) getter = attribute_getter(to_str(args.get(0)));
  for (const Value& item : iterate(input)) total = binary_op(interpreter, BinaryOp::add, total, getter(item));
  return total;
}

Value filter_abs(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("abs", call, {});
  if (input.is_float()) return Value(std::fabs(input.as_double()));
  if (input.is_int() || input.is_bool()) {
    if (input.as_int() == INT64_MIN) fail_render("integer overflow: the result does not fit in 64 bits");
    return Value(input.as_int() < 0 ? -input.as_int() : input.as_int());
  }
  fail_render("bad operand type for abs(): '{}'", type_name(input));
}

// Python's float() of a str: surrounding whitespace is allowed, as are inf and nan.
std::optional<double> parse_float(const std::string& text) {
  std::string trimmed(strip_space(text, true, true));
  std::string cleaned;
  for (size_t i = 0; i < trimmed.size(); ++i) {
    if (trimmed[i] != '_') cleaned += trimmed[i];
  }
  if (cleaned.empty()) return std::nullopt;
  char* end = nullptr;
  double value = std::strtod(cleaned.c_str(), &end);
  if (end != cleaned.c_str() + cleaned.size()) return std::nullopt;
  std::string lowered = to_lower(cleaned);
  if (lowered.find("0x") != std::string::npos) return std::nullopt;  // strtod reads hex, Python does not
  return value;
}

Value filter_int(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("int", call, {"default", "base"});
  Value fallback = args.get(0, Value(int64_t{0}));
  int64_t base = args.get_int(1, 10);
  if (input.is_undefined()) fail_undefined(input);
  if (input.is_int() || input.is_bool()) return Value(input.as_int());
  if (input.is_float()) {
    double d = input.as_double();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return fallback;
    return Value(static_cast<int64_t>(d));
  }
  if (!input.is_string()) return fallback;

  std::string text(strip_space(input.as_string(), true, true));
  std::string digits;
  for (char c : text) {
    if (c != '_') digits += c;
  }
  if (!digits.empty() && base >= 2 && base <= 36) {
    errno = 0;
    char* end = nullptr;
    long long value = std::strtoll(digits.c_str(), &end, static_cast<int>(base));
    if (errno == 0 && end == digits.c_str() + digits.size()) return Value(static_cast<int64_t>(value));
  }
  // jinja2 falls back to int(float(value)), so "42.23" gives 42.
  std::optional<double> d = parse_float(input.as_string());
  if (!d || !std::isfinite(*d) || std::fabs(*d) >= 9.2e18) return fallback;
  return Value(static_cast<int64_t>(*d));
}

Value filter_float(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("float", call, {"default"});
  Value fallback = args.get(0, Value(0.0));
  if (input.is_undefined()) fail_undefined(input);
  if (input.is_number()) return Value(input.as_double());
  if (!input.is_string()) return fallback;
  std::optional<double> d = parse_float(input.as_string());
  return d ? Value(*d) : fallback;
}

// Python's round(x, n), which rounds the exact binary value half to even,
// as glibc's printf does.
Value filter_round(Interpreter&, const Value& input, const CallArgs& call) {
  BoundArgs args("round", call, {"precision", "method"});
  int64_t precision = args.get_int(0, 0);
  std::string method = args.get_string(1, "common");
  if (!input.is_number()) fail_render("round() needs a number, not '{}'", type_name(input));
  if (precision < 0 || precision > 17) fail_render("round() precision {} is outside 0..17", precision);
  double value = input.as_double();
  if (method == "common") {
    // round() of an int returns the int.
    if (!input.is_float()) return Value(input.as_int());
    char buffer[400];
    std::snprintf(buffer, sizeof(buffer), "%.*f", static_cast<int>(precision), value);
    return Value(std::strtod(buffer, nullptr));
  }
  double scale = std::pow(10.0, static_cast<double>(precision));
  if (method == "floor") return Value(std::floor(value * scale) / scale);
  if (method == "ceil") return Value(std::ceil(value * scale) / scale);
  fail_render("method must be common, ceil or floor, not '{}'", method);
}

Value filter_dictsort(Interpreter& interpreter, const Value& input, const CallArgs& call) {
  BoundArgs args("dictsort", call, {"case_sensitive", "by", "reverse"});
  bool case_sensitive = truthy(args.get(0, Value(false)));
  std::string by = args.get_string(1, "key");
  bool reverse = truthy(args.get(2, Value(false)));
  if (by != "key" && by != "value") fail_render("You can only sort by either \"key\" or \"value\"");
  if (!input.is_dict()) fail_render("dictsort needs a mapping, not '{}'", type_name(input));

  std::vector<std::pair<std::string, Value>> entries = input.as_dict().entries;
  size_t column = by == "key" ? 0 : 1;
  std::stable_sort(entries.begin(), entries.end(), [&](const auto& a, const auto& b) {
    Value x = fold_case(column == 0 ? Value(a.first) : a.second, case_sensitive);
    Value y = fold_case(column == 0 ? Value(b.first) : b.second, case_sensitive);
    return reverse ? compare(y, x) < 0 : compare(x, y) < 0;
  });
  std::vector<Value> pairs;
  for (auto& [key, value] : entries) pairs.push_back(Value::tuple({Value(key), value}));
  return make_list(interpreter, std::move(pairs));
}

// jinja2's generator filters do their work, errors included, when their
// result is first iterated, so the error of a failed filter is deferred.
template <FilterFunction filter>
Value lazy(Interpreter& interpreter, const Value& input, const CallArgs& args) {
  try {
    return filter(interpreter, input, args);
  } catch (const TemplateError& e) {
    if (e.kind() != TemplateErrorKind::runtime) throw;
    return Value::failed_generator(e.message());
  }
}

}  // namespace

FilterFunction find_filter(std::string_view name) {
  static const std::map<std::string_view, FilterFunction> kFilters = {
      {"abs", filter_abs},
      {"capitalize", filter_capitalize},
      {"count", filter_length},
      {"d", filter_default},
      {"default", filter_default},
      {"dictsort", filter_dictsort},
      {"e", filter_escape},
      {"escape", filter_escape},
      {"first", filter_first},
      {"float", filter_float},
      {"indent", filter_indent},
      {"int", filter_int},
      {"items", lazy<filter_items>},
      {"join", filter_join},
      {"last", filter_last},
      {"length", filter_length},
      {"list", filter_list},
      {"lower", filter_lower},
      {"map", lazy<filter_map>},
      {"max", filter_max},
      {"min", filter_min},
      {"reject", lazy<filter_reject>},
      {"rejectattr", lazy<filter_rejectattr>},
      {"replace", filter_replace},
      {"reverse", filter_reverse},
      {"round", filter_round},
      {"safe", filter_safe},
      {"select", lazy<filter_select>},
      {"selectattr", lazy<filter_selectattr>},
      {"sort", filter_sort},
      {"string", filter_string},
      {"sum", filter_sum},
      {"title", filter_title},
      {"tojson", filter_tojson},
      {"trim", filter_trim},
      {"unique", lazy<filter_unique>},
      {"upper", filter_upper},
  };
  auto it = kFilters.find(name);
  return it == kFilters.end() ? nullptr : it->second;
}

}  // namespace edgelm::jinja
