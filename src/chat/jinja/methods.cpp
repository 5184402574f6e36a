#include "chat/jinja/methods.h"

#include <algorithm>
#include <map>
#include <string_view>

#include "chat/jinja/bound_args.h"
#include "chat/jinja/interpreter.h"
#include "chat/jinja/operators.h"
#include "chat/jinja/python_text.h"
#include "chat/jinja/template_error.h"

namespace edgelm::jinja {
namespace {

using Method = Value (*)(Interpreter&, const Value& self, const CallArgs& args);

// Mutating methods that exist on the type but that the immutable sandbox rejects.
constexpr std::string_view kUnsafeListMethods[] = {"append", "clear", "extend", "insert", "pop", "remove", "reverse", "sort"};
constexpr std::string_view kUnsafeDictMethods[] = {"clear", "pop", "popitem", "setdefault", "update"};

std::string arg_string(const BoundArgs& args, size_t index, std::string_view method) {
  Value value = args.get(index);
  if (!value.is_string()) fail_render("{}() argument must be str, not '{}'", method, type_name(value));
  return value.as_string();
}

// startswith/endswith accept a str or a tuple of str.
bool affix_matches(const Value& affix, std::string_view text, bool at_start, std::string_view method) {
  auto match = [&](const Value& candidate) {
    if (!candidate.is_string()) fail_render("{}() argument must be str or a tuple of str, not '{}'", method, type_name(candidate));
    const std::string& s = candidate.as_string();
    if (s.size() > text.size()) return false;
    return at_start ? text.substr(0, s.size()) == s : text.substr(text.size() - s.size()) == s;
  };
  if (affix.is_list() && affix.as_list().is_tuple()) {
    return std::any_of(affix.as_list().items.begin(), affix.as_list().items.end(), match);
  }
  return match(affix);
}

Value strip_method(const Value& self, const CallArgs& call, const char* name, bool left, bool right) {
  BoundArgs args(name, call, {"chars"});
  Value chars = args.get(0);
  if (chars.is_undefined() || chars.is_none()) return Value(std::string(strip_space(self.as_string(), left, right)));
  return Value(strip_chars(self.as_string(), arg_string(args, 0, name), left, right));
}

Value to_list(std::vector<std::string> parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (auto& part : parts) items.emplace_back(std::move(part));
  return Value::list(std::move(items));
}

using StrMethod = Value (*)(Interpreter&, const std::string& name, const Value& self, const CallArgs& call);

Value str_strip(Interpreter&, const std::string& name, const Value& self, const CallArgs& call) {
  return strip_method(self, call, name.c_str(), name != "rstrip", name != "lstrip");
}

Value str_case(Interpreter&, const std::string& name, const Value& self, const CallArgs& call) {
  BoundArgs args(name, call, {});
  const std::string& text = self.as_string();
  if (name == "lower") return Value(to_lower(text));
  if (name == "upper") return Value(to_upper(text));
  if (name == "title") return Value(title_case(text));
  return Value(capitalize(text));
}

Value str_affix_test(Interpreter&, const std::string& name, const Value& self, const CallArgs& call) {
  BoundArgs args(name, call, {"prefix"});
  if (!args.has(0)) fail_render("{}() takes at least 1 argument (0 given)", name);
  return Value(affix_matches(args.get(0), self.as_string(), name == "startswith", name));
}

Value str_split(Interpreter& interpreter, const std::string& name, const Value& self, const CallArgs& call) {
  BoundArgs args(name, call, {"sep", "maxsplit"});
  Value sep = args.get(0);
  std::string separator;
  if (!sep.is_undefined() && !sep.is_none()) {
    separator = arg_string(args, 0, name);
    if (separator.empty()) fail_render("empty separator");
  }
  int64_t max_split = args.get_int(1, -1);
  std::vector<std::string> parts = name == "rsplit" ? rsplit(self.as_string(), separator, max_split)
                                                    : split(self.as_string(), separator, max_split);
  interpreter.charge(self.as_string().size() + parts.size() * sizeof(Value));
  return to_list(std::move(parts));
}

Value str_splitlines(Interpreter&, const std::string& name, const Value& self, const CallArgs& call) {
  BoundArgs args(name, call, {});
  return to_list(split_lines(self.as_string()));
}

Value str_replace(Interpreter& interpreter, const std::string& name, const Value& self, const CallArgs& call) {
  BoundArgs args(name, call, {"old", "new", "count"});
  std::string old_text = arg_string(args, 0, name);
  std::string new_text = arg_string(args, 1, name);
  int64_t count = args.get_int(2, -1);
  std::string out = replace(self.as_string(), old_text, new_text, count, interpreter.limits().max_output_bytes);
  interpreter.charge(out.size());
  return Value(std::move(out));
}

Value str_find(Interpreter&, const std::string& name, const Value& self, const CallArgs& call) {
  BoundArgs args(name, call, {"sub"});
  const std::string& text = self.as_string();
  std::string sub = arg_string(args, 0, name);
  if (name == "count") {
    if (sub.empty()) return Value(static_cast<int64_t>(char_count(text) + 1));
    int64_t count = 0;
    for (size_t at = text.find(sub); at != std::string::npos; at = text.find(sub, at + sub.size())) ++count;
    return Value(count);
  }

  // Python returns a character index, not a byte offset.
  size_t at = name == "find" ? text.find(sub) : text.rfind(sub);
  if (at == std::string::npos) return Value(int64_t{-1});
  return Value(static_cast<int64_t>(char_count(std::string_view(text).substr(0, at))));
}

Value str_join(Interpreter& interpreter, const std::string& name, const Value& self, const CallArgs& call) {
  BoundArgs args(name, call, {"iterable"});
  Value items = args.get(0);
  if (!items.is_list()) fail_render("join() argument must be a list of str, not '{}'", type_name(items));

  std::string out;
  std::vector<Value> elements = iterate(items);
  for (size_t i = 0; i < elements.size(); ++i) {
    if (!elements[i].is_string()) fail_render("sequence item {}: expected str instance, {} found", i, type_name(elements[i]));
    if (i > 0) out += self.as_string();
    out += elements[i].as_string();
  }
  interpreter.charge(out.size());
  return Value(std::move(out));
}

Value str_remove_affix(Interpreter&, const std::string& name, const Value& self, const CallArgs& call) {
  BoundArgs args(name, call, {"affix"});
  const std::string& text = self.as_string();
  std::string affix = arg_string(args, 0, name);
  bool prefix = name == "removeprefix";
  if (!affix_matches(Value(affix), text, prefix, name)) return self;
  return Value(prefix ? text.substr(affix.size()) : text.substr(0, text.size() - affix.size()));
}

// isspace, isdigit and isalpha hold for a non-empty string whose every
// character passes; isupper and islower need a cased character.
Value str_predicate(Interpreter&, const std::string& name, const Value& self, const CallArgs& call) {
  BoundArgs args(name, call, {});
  const std::string& text = self.as_string();
  if (name == "isupper") return Value(to_upper(text) == text && to_lower(text) != text);
  if (name == "islower") return Value(to_lower(text) == text && to_upper(text) != text);
  if (text.empty()) return Value(false);

  std::vector<size_t> offsets = char_offsets(text);
  for (size_t i = 0; i + 1 < offsets.size(); ++i) {
    char32_t cp;
    decode_char(text, offsets[i], cp);
    std::string_view ch = std::string_view(text).substr(offsets[i], offsets[i + 1] - offsets[i]);
    bool passes = false;
    if (name == "isspace") {
      passes = is_space(cp);
    } else if (name == "isdigit") {
      passes = cp >= '0' && cp <= '9';
    } else {
      passes = to_upper(ch) != to_lower(ch);
    }
    if (!passes) return Value(false);
  }
  return Value(true);
}

StrMethod find_str_method(const std::string& name) {
  static const std::map<std::string, StrMethod, std::less<>> kMethods = {
      {"strip", str_strip},          {"lstrip", str_strip},           {"rstrip", str_strip},
      {"lower", str_case},           {"upper", str_case},             {"title", str_case},
      {"capitalize", str_case},      {"startswith", str_affix_test},  {"endswith", str_affix_test},
      {"split", str_split},          {"rsplit", str_split},           {"splitlines", str_splitlines},
      {"replace", str_replace},      {"find", str_find},              {"rfind", str_find},
      {"count", str_find},           {"join", str_join},              {"removeprefix", str_remove_affix},
      {"removesuffix", str_remove_affix}, {"isspace", str_predicate}, {"isdigit", str_predicate},
      {"isalpha", str_predicate},    {"isupper", str_predicate},      {"islower", str_predicate},
  };
  auto it = kMethods.find(name);
  return it == kMethods.end() ? nullptr : it->second;
}

Value str_method(Interpreter& interpreter, const std::string& name, const Value& self, const CallArgs& call) {
  StrMethod method = find_str_method(name);
  if (method == nullptr) fail_render("str.{}() is not supported in chat templates", name);
  return method(interpreter, name, self, call);
}

Value dict_method(const std::string& name, const Value& self, const CallArgs& call) {
  const Dict& dict = self.as_dict();
  if (name == "get") {
    BoundArgs args("get", call, {"key", "default"});
    if (!args.has(0)) fail_render("get() takes at least 1 argument (0 given)");
    Value key = args.get(0);
    const Value* value = key.is_string() ? dict.find(key.as_string()) : nullptr;
    return value != nullptr ? *value : args.get(1, Value::none());
  }
  BoundArgs args(name, call, {});
  std::vector<Value> items;
  for (const auto& [key, value] : dict.entries) {
    if (name == "keys") {
      items.emplace_back(key);
    } else if (name == "values") {
      items.push_back(value);
    } else {
      items.push_back(Value::tuple({Value(key), value}));
    }
  }
  if (name == "copy") return self;
  return Value::list(std::move(items));
}

Value list_method(const std::string& name, const Value& self, const CallArgs& call) {
  const auto& items = self.as_list().items;
  BoundArgs args(name, call, {"value"});
  Value needle = args.get(0);
  if (name == "copy") return self;
  if (name == "count") return Value(static_cast<int64_t>(std::count_if(items.begin(), items.end(), [&](const Value& item) { return equals(item, needle); })));
  for (size_t i = 0; i < items.size(); ++i) {
    if (equals(items[i], needle)) return Value(static_cast<int64_t>(i));
  }
  fail_render("{} is not in list", repr(needle));
}

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

template <size_t N>
bool is_one_of(std::string_view name, const std::string_view (&names)[N]) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

Value unsafe_method(const Value& object, const std::string& name) {
  std::string type = type_name(object);
  return Value::function(type + "." + name, [type, name](Interpreter&, const CallArgs&) -> Value {
    fail_render("access to attribute '{}' of '{}' object is unsafe", name, type);
  });
}

}  // namespace

Value find_method(const Value& object, const std::string& name) {
  std::string qualified = type_name(object) + "." + name;
  if (object.is_string()) {
    static constexpr std::string_view kStr[] = {
        "capitalize", "casefold", "center", "count", "encode", "endswith", "expandtabs", "find", "format",
        "format_map", "index", "isalnum", "isalpha", "isascii", "isdecimal", "isdigit", "isidentifier",
        "islower", "isnumeric", "isprintable", "isspace", "istitle", "isupper", "join", "ljust", "lower",
        "lstrip", "maketrans", "partition", "removeprefix", "removesuffix", "replace", "rfind", "rindex",
        "rjust", "rpartition", "rsplit", "rstrip", "split", "splitlines", "startswith", "strip", "swapcase",
        "title", "translate", "upper", "zfill"};
    if (!is_one_of(name, kStr)) return Value::undefined("'str object' has no attribute '" + name + "'");
    return Value::function(qualified, [object, name](Interpreter& interpreter, const CallArgs& args) {
      return str_method(interpreter, name, object, args);
    });
  }
  if (object.is_dict()) {
    if (is_one_of(name, kUnsafeDictMethods)) return unsafe_method(object, name);
    if (!is_one_of(name, {"get", "items", "keys", "values", "copy"})) return Value();
    return Value::function(qualified, [object, name](Interpreter&, const CallArgs& args) { return dict_method(name, object, args); });
  }
  if (object.is_list()) {
    if (object.as_list().is_generator()) return Value();
    if (!object.as_list().is_tuple() && is_one_of(name, kUnsafeListMethods)) return unsafe_method(object, name);
    if (!is_one_of(name, {"count", "index", "copy"})) return Value();
    return Value::function(qualified, [object, name](Interpreter&, const CallArgs& args) { return list_method(name, object, args); });
  }
  return Value();
}

}  // namespace edgelm::jinja
