#pragma once
// Python's operators on template values, with jinja2's handling of undefined
// values, and attribute and item access as jinja2's sandbox resolves them.

#include <string>
#include <vector>

#include "chat/jinja/ast.h"
#include "chat/jinja/value.h"

namespace edgelm::jinja {

class Interpreter;

// Arithmetic and `~` (BinaryOp other than logical_and and logical_or).
Value binary_op(Interpreter& interpreter, BinaryOp op, const Value& left, const Value& right);
Value unary_op(UnaryOp op, const Value& operand);

// Python's `item in container`.
bool contains(const Value& container, const Value& item);

// object.name: a method of the object's type first, then a dict key or a
// namespace attribute. The result is undefined when there is neither.
Value get_attribute(const Value& object, const std::string& name);
// object[key]: an element, character or dict value first, then a method
// when `key` is a string. The result is undefined when there is neither.
Value get_item(const Value& object, const Value& key);
// object[start:stop:step] of a list, tuple or str; undefined bounds are omitted ones.
Value get_slice(Interpreter& interpreter, const Value& object, const Value& start, const Value& stop, const Value& step);

// The items a for loop visits: list elements, dict keys or str characters,
// and none for an undefined value. Throws for values Python cannot iterate.
std::vector<Value> iterate(const Value& value);

}  // namespace edgelm::jinja
