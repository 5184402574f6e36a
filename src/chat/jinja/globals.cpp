#include "chat/jinja/globals.h"

#include <ctime>

#include "chat/jinja/bound_args.h"
#include "chat/jinja/template_error.h"

namespace edgelm::jinja {
namespace {

// jinja2's sandbox rejects ranges longer than this (MAX_RANGE).
constexpr int64_t kMaxRange = 100000;

Value range(Interpreter& interpreter, const CallArgs& call) {
  if (!call.keyword.empty()) fail_render("range() takes no keyword arguments");
  std::vector<int64_t> bounds;
  for (const Value& arg : call.positional) {
    if (!arg.is_int() && !arg.is_bool()) fail_render("'{}' object cannot be interpreted as an integer", type_name(arg));
    bounds.push_back(arg.as_int());
  }
  if (bounds.empty() || bounds.size() > 3) fail_render("range expected 1 to 3 arguments, got {}", bounds.size());

  int64_t start = bounds.size() == 1 ? 0 : bounds[0];
  int64_t stop = bounds.size() == 1 ? bounds[0] : bounds[1];
  int64_t step = bounds.size() == 3 ? bounds[2] : 1;
  if (step == 0) fail_render("range() arg 3 must not be zero");

  // Count in 128 bits so that extreme bounds cannot overflow.
  __int128 span = step > 0 ? static_cast<__int128>(stop) - start : static_cast<__int128>(start) - stop;
  __int128 magnitude = step > 0 ? step : -static_cast<__int128>(step);
  __int128 count = span <= 0 ? 0 : (span + magnitude - 1) / magnitude;
  if (count > kMaxRange) fail_render("Range too big. The sandbox blocks ranges larger than MAX_RANGE ({}).", kMaxRange);

  interpreter.charge(static_cast<size_t>(count) * sizeof(Value));
  std::vector<Value> items;
  for (int64_t i = 0; i < static_cast<int64_t>(count); ++i) items.emplace_back(start + i * step);
  return Value::list(std::move(items));
}

// dict(mapping, **kwargs) and namespace(mapping, **kwargs) take the same arguments.
Dict dict_from_args(const char* name, const CallArgs& call) {
  if (call.positional.size() > 1) fail_render("{} expected at most 1 argument, got {}", name, call.positional.size());
  Dict dict;
  if (!call.positional.empty()) {
    const Value& source = call.positional[0];
    if (source.is_dict()) {
      dict = source.as_dict();
    } else if (source.is_list()) {
      for (const Value& pair : source.as_list().items) {
        if (!pair.is_list() || pair.as_list().items.size() != 2 || !pair.as_list().items[0].is_string()) {
          fail_render("{} expects pairs of a string key and a value", name);
        }
        dict.set(pair.as_list().items[0].as_string(), pair.as_list().items[1]);
      }
    } else {
      fail_render("'{}' object is not a mapping", type_name(source));
    }
  }
  for (const auto& [key, value] : call.keyword) dict.set(key, value);
  return dict;
}

Value make_dict(Interpreter&, const CallArgs& call) { return Value::dict(dict_from_args("dict", call)); }

Value make_namespace(Interpreter& interpreter, const CallArgs& call) {
  Value name_space = Value::make_namespace(dict_from_args("namespace", call));
  interpreter.track_namespace(name_space);
  return name_space;
}

Value raise_exception(Interpreter&, const CallArgs& call) {
  BoundArgs args("raise_exception", call, {"message"});
  throw TemplateError(TemplateErrorKind::raised, to_str(args.get(0)), 0);
}

// Hugging Face's strftime_now(format): the local time formatted by strftime.
Value strftime_now(Interpreter&, const CallArgs& call) {
  BoundArgs args("strftime_now", call, {"format"});
  std::string format = args.get_string(0, "");
  if (format.size() > 256) fail_render("strftime_now format is longer than 256 bytes");
  std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buffer[4096];
  size_t size = std::strftime(buffer, sizeof(buffer), format.c_str(), &local);
  return Value(std::string(buffer, size));
}

}  // namespace

void add_globals(Scope& scope) {
  scope.set("range", Value::function("range", range));
  scope.set("dict", Value::function("dict", make_dict));
  scope.set("namespace", Value::function("namespace", make_namespace));
  scope.set("raise_exception", Value::function("raise_exception", raise_exception));
  scope.set("strftime_now", Value::function("strftime_now", strftime_now));
}

}  // namespace edgelm::jinja
