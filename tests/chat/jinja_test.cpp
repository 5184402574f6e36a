// The Jinja interpreter's errors and resource limits. Its output is checked
// against jinja2 in template_parity_test.cpp.

#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "chat/jinja/json_value.h"
#include "chat/jinja/python_text.h"
#include "chat/jinja/template.h"
#include "chat/jinja/template_error.h"

namespace edgelm::jinja {
namespace {

std::string render(const std::string& source, const Limits& limits = {}) { return Template(source).render(Dict{}, limits); }

// Runs `body` and returns the TemplateError it throws, and fails the test if it throws none.
template <typename Body>
TemplateError error_of(Body body) {
  try {
    body();
  } catch (const TemplateError& e) {
    return e;
  }
  ADD_FAILURE() << "no TemplateError was thrown";
  return TemplateError(TemplateErrorKind::runtime, "", 0);
}

TEST(Jinja, SyntaxErrorHasLine) {
  TemplateError e = error_of([] { Template("line 1\nline 2\n{% if %}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::syntax);
  EXPECT_EQ(e.line(), 3);
  EXPECT_NE(std::string(e.what()).find("line 3"), std::string::npos) << e.what();
}

TEST(Jinja, UnclosedBlockIsSyntaxError) {
  TemplateError e = error_of([] { Template("{% for x in y %}\n{% if x %}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::syntax);
  EXPECT_NE(e.message().find("endif"), std::string::npos) << e.what();
}

TEST(Jinja, RaiseExceptionIsRaisedKind) {
  TemplateError e = error_of([] { render("a\nb\n{{ raise_exception('no system role') }}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::raised);
  EXPECT_EQ(e.message(), "no system role");
  EXPECT_EQ(e.line(), 3);
}

TEST(Jinja, TypeErrorIsRuntimeKindWithLine) {
  TemplateError e = error_of([] { render("ok\n{{ 'a' + 1 }}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::runtime);
  EXPECT_EQ(e.line(), 2);
  EXPECT_EQ(e.message(), "can only concatenate str (not \"int\") to str");
}

TEST(Jinja, UndefinedAttributeOfUndefinedFails) {
  TemplateError e = error_of([] { render("{{ messages[0]['role'] }}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::runtime);
  EXPECT_EQ(e.message(), "'messages' is undefined");
}

TEST(Jinja, UnsupportedTagIsSyntaxError) {
  TemplateError e = error_of([] { Template("{% include 'other.jinja' %}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::syntax);
  EXPECT_NE(e.message().find("include"), std::string::npos) << e.what();
}

TEST(Jinja, LoopIterationLimit) {
  Limits limits;
  limits.max_loop_iterations = 10000;
  auto start = std::chrono::steady_clock::now();
  TemplateError e = error_of([&] {
    render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", limits);
  });
  EXPECT_EQ(e.kind(), TemplateErrorKind::runtime);
  EXPECT_NE(e.message().find("10000 loop iterations"), std::string::npos) << e.what();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(Jinja, DefaultLimitsStopNestedLoops) {
  // 10^10 iterations without a limit, which the default limit stops after 10^6.
  auto start = std::chrono::steady_clock::now();
  TemplateError e = error_of([] { render("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::runtime);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Jinja, OutputLimit) {
  Limits limits;
  limits.max_output_bytes = 1000;
  EXPECT_EQ(render("{% for i in range(10) %}0123456789{% endfor %}", limits).size(), 100u);
  TemplateError e = error_of([&] { render("{% for i in range(1000) %}0123456789{% endfor %}", limits); });
  EXPECT_NE(e.message().find("output limit of 1000 bytes"), std::string::npos) << e.what();
}

TEST(Jinja, StringRepetitionLimit) {
  TemplateError e = error_of([] { render("{{ 'x' * 1000000000000 }}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::runtime);
  EXPECT_NE(e.message().find("output limit"), std::string::npos) << e.what();
}

TEST(Jinja, AllocationLimit) {
  // Each string stays small, but together they pass the budget.
  Limits limits;
  limits.max_allocated_bytes = 1 << 20;
  TemplateError e = error_of([&] {
    render("{% set ns = namespace(s='') %}{% for i in range(5000) %}{% set ns.s = 'x' * 1000 %}{% endfor %}", limits);
  });
  EXPECT_NE(e.message().find("bytes of strings and lists"), std::string::npos) << e.what();
}

TEST(Jinja, MacroRecursionLimit) {
  TemplateError e = error_of([] { render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::runtime);
  EXPECT_NE(e.message().find("nest deeper than 64"), std::string::npos) << e.what();
}

TEST(Jinja, ExponentialMacroCallsStop) {
  // 2^40 calls at depth 40: stopped by the call count, not the depth.
  auto start = std::chrono::steady_clock::now();
  TemplateError e = error_of([] {
    render("{% macro f(n) %}{% if n > 0 %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(40) }}");
  });
  EXPECT_NE(e.message().find("macro calls"), std::string::npos) << e.what();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Jinja, DeepParenthesesAreSyntaxError) {
  std::string source = "{{ " + std::string(100000, '(') + "1" + std::string(100000, ')') + " }}";
  TemplateError e = error_of([&] { Template{source}; });
  EXPECT_EQ(e.kind(), TemplateErrorKind::syntax);
  EXPECT_NE(e.message().find("deeper than"), std::string::npos) << e.what();
}

TEST(Jinja, DeepBlocksAreSyntaxError) {
  std::string source;
  for (int i = 0; i < 5000; ++i) source += "{% if true %}";
  TemplateError e = error_of([&] { Template{source}; });
  EXPECT_EQ(e.kind(), TemplateErrorKind::syntax);
}

TEST(Jinja, DeepListNestingFails) {
  TemplateError e = error_of([] {
    render("{% set ns = namespace(x=[]) %}{% for i in range(100000) %}{% set ns.x = [ns.x] %}{% endfor %}");
  });
  EXPECT_NE(e.message().find("nest deeper than 256"), std::string::npos) << e.what();
}

TEST(Jinja, SelfReferentialNamespacePrintFails) {
  TemplateError e = error_of([] { render("{% set ns = namespace() %}{% set ns.me = [ns] %}{{ ns }}"); });
  EXPECT_EQ(e.kind(), TemplateErrorKind::runtime);
}

TEST(Jinja, RangeLimit) {
  TemplateError e = error_of([] { render("{{ range(100001) | length }}"); });
  EXPECT_NE(e.message().find("MAX_RANGE (100000)"), std::string::npos) << e.what();
  EXPECT_EQ(render("{{ range(100000) | length }}"), "100000");
}

TEST(Jinja, IntegerOverflowFails) {
  TemplateError e = error_of([] { render("{{ 9223372036854775807 + 1 }}"); });
  EXPECT_NE(e.message().find("overflow"), std::string::npos) << e.what();
  EXPECT_EQ(render("{{ 2 ** 62 }}"), "4611686018427387904");
  EXPECT_EQ(error_of([] { render("{{ 2 ** 64 }}"); }).kind(), TemplateErrorKind::runtime);
}

TEST(Jinja, TrailingNewlineRemoved) {
  EXPECT_EQ(render("text\n"), "text");
  EXPECT_EQ(render("text\n\n"), "text\n");
  EXPECT_EQ(render("a\r\nb"), "a\nb");
}

TEST(Jinja, RendersJsonContext) {
  Value context = from_json(nlohmann::ordered_json::parse(R"({"messages": [{"role": "user", "content": "héllo"}]})"));
  Template t("{% for m in messages %}{{ m.role }}: {{ m['content'] | upper }} {{ m | tojson }}{% endfor %}");
  EXPECT_EQ(t.render(context.as_dict()), "user: HÉLLO {\"role\": \"user\", \"content\": \"héllo\"}");
}

TEST(Jinja, TemplateRendersTwice) {
  Template t("{% set ns = namespace(n=0) %}{% for x in xs %}{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}");
  Dict variables;
  variables.set("xs", Value::list({Value(1), Value(2)}));
  EXPECT_EQ(t.render(variables), "3");
  EXPECT_EQ(t.render(variables), "3");
}

TEST(PythonText, FloatRepr) {
  EXPECT_EQ(float_repr(1.0), "1.0");
  EXPECT_EQ(float_repr(0.1), "0.1");
  EXPECT_EQ(float_repr(1e16), "1e+16");
  EXPECT_EQ(float_repr(1.5e-5), "1.5e-05");
  EXPECT_EQ(float_repr(0.0001), "0.0001");
  EXPECT_EQ(float_repr(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(float_repr(-0.0), "-0.0");
  EXPECT_EQ(float_repr(1.0 / 3.0), "0.3333333333333333");
}

TEST(PythonText, StripUnicodeWhitespace) {
  EXPECT_EQ(strip_space("\u3000\u00a0 text \u2028\n", true, true), "text");
  EXPECT_EQ(strip_space("\u00a0x\u00a0", false, true), "\u00a0x");
}

TEST(PythonText, SplitLines) {
  EXPECT_EQ(split_lines("a\r\nb\n\x0b" "c"), (std::vector<std::string>{"a", "b", "", "c"}));
  EXPECT_EQ(split_lines("a\n"), (std::vector<std::string>{"a"}));
}

TEST(PythonText, InvalidUtf8KeepsBytes) {
  std::string text = "a\xff" "b";
  EXPECT_EQ(char_count(text), 3u);
  EXPECT_EQ(to_upper(text), "A\xff" "B");
}

}  // namespace
}  // namespace edgelm::jinja
