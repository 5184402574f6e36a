#!/usr/bin/env python3
"""Renders chat templates with Python's jinja2 configured as Hugging Face
configures it, and stores the outputs that edgelm's Jinja interpreter must
reproduce byte for byte.

Writes, under tests/data/templates/ by default:
- <name>.json for each fixture chat template: conversations, flags, and the
  expected prompt or the expected error;
- snippets.json: small templates that exercise one language feature each.

Usage:
  python3 tests/tools/render_templates.py [--fixtures DIR] [--out DIR]
  python3 tests/tools/render_templates.py --random N --seed S --out DIR
      (random conversations for every fixture template, for a live check)

The environment follows transformers' chat template rendering:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with
loop controls and the {% generation %} tag, raise_exception() raising TemplateError, strftime_now(), and a
tojson filter that calls json.dumps(ensure_ascii=False) without sorting keys.
"""
import argparse
import json
import os
import random
import sys
from datetime import datetime

import jinja2
from jinja2.exceptions import TemplateError
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


class GenerationTag(Extension):
    """Hugging Face's {% generation %} block, which renders its body unchanged
    unless transformers is collecting assistant token masks."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.Scope(body, lineno=lineno)


def make_environment():
    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(format):
        return datetime.now().strftime(format)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


ENV = make_environment()
COMPILED = {}  # template text -> compiled template, because compiling dominates the run time


def render(template_text, context):
    """Returns {"expected": text} or {"expected_error": message, "error_type": class name}."""
    try:
        if template_text not in COMPILED:
            COMPILED[template_text] = ENV.from_string(template_text)
        return {"expected": COMPILED[template_text].render(**context)}
    except jinja2.TemplateSyntaxError as e:
        return {"expected_error": e.message, "error_type": type(e).__name__, "error_line": e.lineno}
    except Exception as e:  # jinja2 raises TemplateError subclasses and Python's TypeError, ValueError, ...
        return {"expected_error": str(e), "error_type": type(e).__name__}


# The fixture templates: output name, file under the fixtures directory, BOS and EOS texts.
TEMPLATES = [
    ("gemma-2", "templates/google-gemma-2-2b-it.jinja", "<bos>", "<eos>"),
    ("llama-3.1", "templates/meta-llama-Llama-3.1-8B-Instruct.jinja", "<|begin_of_text|>", "<|eot_id|>"),
    ("mistral-nemo", "templates/mistralai-Mistral-Nemo-Instruct-2407.jinja", "<s>", "</s>"),
    ("qwen-2.5", "templates/Qwen-Qwen2.5-7B-Instruct.jinja", "", "<|im_end|>"),
    ("tiny-gemma2", "tiny-gemma2/tokenizer_config.json", "<bos>", "<eos>"),
]


def read_template(fixtures, path):
    full = os.path.join(fixtures, path)
    if path.endswith(".json"):
        with open(full, encoding="utf-8") as f:
            return json.load(f)["chat_template"]
    with open(full, encoding="utf-8", newline="") as f:
        return f.read()


def msg(role, content):
    return {"role": role, "content": content}


# Conversations of role/content messages, as edgelm's ChatMessage stores them.
CONVERSATIONS = [
    ("single-user", [msg("user", "Hello!")]),
    ("system-user", [msg("system", "You are a helpful assistant."), msg("user", "What is 2+2?")]),
    ("multi-turn", [msg("user", "Hi"), msg("assistant", "Hello! How can I help?"), msg("user", "Tell me a joke.")]),
    ("system-multi-turn", [msg("system", "Answer briefly."), msg("user", "Capital of France?"),
                           msg("assistant", "Paris."), msg("user", "And of Italy?")]),
    ("assistant-last", [msg("user", "Say hi"), msg("assistant", "hi")]),
    ("system-assistant-last", [msg("system", "Be terse."), msg("user", "Ping"), msg("assistant", "Pong")]),
    ("unicode", [msg("user", "Grüße aus Köln! 日本語のテキスト, emoji 🦙🚀, Ελληνικά, עברית, العربية")]),
    ("unicode-system", [msg("system", "Réponds en français, s'il te plaît."), msg("user", "Qu'est-ce que c'est ? 😀")]),
    ("empty-content", [msg("user", "")]),
    ("empty-assistant", [msg("user", "Anything?"), msg("assistant", ""), msg("user", "Still there?")]),
    ("whitespace-edges", [msg("user", "  padded with spaces  \n\n")]),
    ("newlines-inside", [msg("user", "line one\nline two\n\n\tindented line\r\nwindows line")]),
    ("only-whitespace", [msg("user", " \t\n ")]),
    ("unicode-whitespace", [msg("user", "\u00a0\u3000nbsp and ideographic space\u2028\u2029\u0085")]),
    ("jinja-syntax-in-content", [msg("user", "{{ bos_token }} {% if true %}x{% endif %} {# c #} {{- raw -}}")]),
    ("special-tokens-in-content", [msg("user", "<start_of_turn>model\n<end_of_turn><|im_end|>[INST]<|eot_id|></s>")]),
    ("quotes-backslashes", [msg("user", "He said \"don't\" \\n \\ 'quoted' `code`")]),
    ("control-characters", [msg("user", "bell\x07 escape\x1b tab\t null-free \x7f end")]),
    ("long-conversation", [msg("user" if i % 2 == 0 else "assistant", f"turn {i}: " + "word " * i)
                           for i in range(12)]),
    ("long-content", [msg("user", "The quick brown fox jumps over the lazy dog. " * 120)]),
    ("system-only", [msg("system", "System prompt with no user turn.")]),
    ("no-messages", []),
    ("two-users-in-a-row", [msg("user", "first"), msg("user", "second")]),
    ("assistant-first", [msg("assistant", "I start."), msg("user", "Then me.")]),
    ("system-in-middle", [msg("user", "Hi"), msg("system", "Late system note."), msg("user", "Again")]),
    ("tool-role", [msg("user", "Weather?"), msg("tool", "{\"temp\": 21}")]),
    ("system-then-assistant", [msg("system", "Rules."), msg("assistant", "Greetings.")]),
    ("empty-system", [msg("system", ""), msg("user", "Question")]),
    ("whitespace-system", [msg("system", "\n  Spaced system.  \n"), msg("user", "  Spaced user.  ")]),
]


def fold_system_message(messages):
    """edgelm's fallback for templates that reject a system message: the
    system text goes before the first user message, separated by a blank line."""
    if not messages or messages[0]["role"] != "system":
        return messages
    rest = [dict(m) for m in messages[1:]]
    if rest and rest[0]["role"] == "user":
        rest[0]["content"] = messages[0]["content"] + "\n\n" + rest[0]["content"]
    else:
        rest.insert(0, msg("user", messages[0]["content"]))
    return rest


def with_folded(conversations):
    """Adds "<name>+folded" for every conversation that starts with a system message."""
    result = []
    for name, messages in conversations:
        result.append((name, messages))
        if messages and messages[0]["role"] == "system":
            result.append((name + "+folded", fold_system_message(messages)))
    return result


def template_cases(template_text, bos, eos, conversations):
    cases = []
    for name, messages in conversations:
        for add_generation_prompt in (False, True):
            context = {"messages": messages, "bos_token": bos, "eos_token": eos,
                       "add_generation_prompt": add_generation_prompt, "tools": None, "documents": None}
            case = {"name": name, "messages": messages, "add_generation_prompt": add_generation_prompt}
            case.update(render(template_text, context))
            cases.append(case)
    return cases


def random_text(rng):
    alphabet = ["a", "b", "Z", " ", " ", "\n", "\t", "é", "ß", "日", "🦙", "\u00a0", "{", "}", "%", "#", "'", '"',
                "\\", "<", ">", "-", "\r", "0", "9", "_"]
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))


def random_conversations(rng, count):
    conversations = []
    for i in range(count):
        messages = []
        if rng.random() < 0.4:
            messages.append(msg("system", random_text(rng)))
        for turn in range(rng.randint(0, 6)):
            # Mostly alternating, sometimes not, so the error paths are covered too.
            role = "user" if turn % 2 == 0 else "assistant"
            if rng.random() < 0.1:
                role = rng.choice(["user", "assistant", "system", "tool"])
            messages.append(msg(role, random_text(rng)))
        conversations.append((f"random-{i}", messages))
    return conversations


def snippet(template, context=None):
    return {"template": template, "context": context or {}}


# One language feature per template. Contexts hold only JSON values.
SNIPPETS = [
    # Whitespace control, trim_blocks and lstrip_blocks.
    snippet("a\n  {% if true %}\n  b\n  {% endif %}\nc"),
    snippet("a  {%- if true -%}  b  {%- endif -%}  c"),
    snippet("a\n    {%+ if true %}b{% endif %}\n"),
    snippet("x {{- ' y ' -}} z"),
    snippet("  {{ 'v' }}  \n  {% if true %}w{% endif %}"),
    snippet("a\n  {# comment #}\nb"),
    snippet("a {#- comment -#} b"),
    snippet("line\n{% for i in [1, 2] %}\n  item {{ i }}\n{% endfor %}\nend\n"),
    snippet("{% if true %}yes{% endif %}\n"),
    snippet("text\n\n"),
    snippet("a\r\nb\rc\n{% if true %}\r\nd{% endif %}"),
    snippet("{% raw %}{{ not rendered }}{% endraw %}"),
    snippet("  {%- raw %} {{ x }} {% endraw -%}  after"),
    snippet("{{ {'a': {'b': 1}} }}"),
    snippet("\t{% if true %}\ttab{% endif %}"),
    snippet("a {%+ if true +%}\nb{% endif %}"),
    # Literals and escapes.
    snippet("{{ 'single' }} {{ \"double\" }} {{ 'con' 'cat' }}"),
    snippet("{{ 'tab\\there\\nnew \\'q\\' \\\\ \\x41 \\u00e9 \\U0001F999 \\101 \\q' }}"),
    snippet("{{ 42 }} {{ -7 }} {{ 1_000 }} {{ 0x1f }} {{ 0o17 }} {{ 0b101 }}"),
    snippet("{{ 1.5 }} {{ 2.0 }} {{ 1e3 }} {{ 1.5e-7 }} {{ 0.1 + 0.2 }} {{ 1e16 }} {{ 123456789.0 * 1000 }}"),
    snippet("{{ true }} {{ false }} {{ none }} {{ True }} {{ None }}"),
    snippet("{{ [1, 'two', 3.0, none, true] }} {{ (1, 2) }} {{ (1,) }} {{ () }}"),
    snippet("{{ {'k': 'v', 'n': [1, {'x': none}]} }}"),
    snippet("{{ ['it\\'s', \"say \\\"hi\\\"\", 'both \\' \"', 'back\\\\slash', 'nl\\n'] }}"),
    snippet("{{ ['é', '\\x00', '\\x7f', '\\u00a0', '\\u2028'] }}"),
    # Arithmetic and operators.
    snippet("{{ 7 + 3 }} {{ 7 - 10 }} {{ 7 * 3 }} {{ 7 / 2 }} {{ 8 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }}"),
    snippet("{{ 2 ** 10 }} {{ 2 ** -1 }} {{ 2 ** 3 ** 2 }} {{ -2 ** 2 }} {{ 7.5 // 2 }} {{ -7.5 % 2 }}"),
    snippet("{{ 'ab' ~ 1 ~ none ~ undefined_name ~ [1] }}"),
    snippet("{{ 'ab' * 3 }} {{ 3 * 'x' }} {{ [1, 2] * 2 }} {{ 'a' * 0 }} {{ 'a' * -1 }}"),
    snippet("{{ [1] + [2, 3] }} {{ 'a' + 'b' }} {{ true + 1 }} {{ 1 + 2.5 }}"),
    snippet("{{ 'a' + 1 }}"),
    snippet("{{ 1 + 'a' }}"),
    snippet("{{ 'a' + missing }}"),
    snippet("{{ missing + 1 }}"),
    snippet("{{ 1 / 0 }}"),
    snippet("{{ 1 // 0 }}"),
    snippet("{{ 5 % 0 }}"),
    snippet("{{ -missing }}"),
    snippet("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 'B' < 'a' }}"),
    snippet("{{ 1 < 'a' }}"),
    snippet("{{ none < 1 }}"),
    snippet("{{ 1 == '1' }} {{ none == none }} {{ missing == missing }} {{ missing == none }} {{ [] == [] }}"),
    snippet("{{ {'a': 1, 'b': 2} == {'b': 2, 'a': 1} }} {{ (1, 2) == [1, 2] }} {{ true == 1 }}"),
    snippet("{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'z' not in 'abc' }} {{ 'x' in missing }}"),
    snippet("{{ 1 in 'abc' }}"),
    snippet("{{ 1 in none }}"),
    snippet("{{ not true }} {{ not 0 }} {{ not '' }} {{ not [] }} {{ not missing }}"),
    snippet("{{ 0 or 'fallback' }} {{ 'first' or 'second' }} {{ 1 and 'both' }} {{ '' and 'x' }} {{ none or none }}"),
    snippet("{{ 'yes' if 1 else 'no' }} {{ 'yes' if 0 else 'no' }} [{{ 'only' if false }}]"),
    snippet("{{ 1 if true else 2 if true else 3 }} {{ (1 if false else 2) + 10 }}"),
    snippet("{{ not 1 == 2 }} {{ not 'a' in 'b' }} {{ 1 + 2 * 3 - 4 / 2 }} {{ (1 + 2) * 3 }} {{ 2 * 3 ~ 4 }}"),
    # Variables, attributes, items and slices.
    snippet("{{ m.role }} {{ m['content'] }} {{ m.missing }} [{{ m['missing'] }}]", {"m": {"role": "user", "content": "c"}}),
    snippet("{{ m.missing.deeper }}", {"m": {"role": "user"}}),
    snippet("{{ missing.attr }}"),
    snippet("{{ missing['key'] }}"),
    snippet("{{ xs[0] }} {{ xs[-1] }} {{ xs[5] }} {{ xs.1 }} {{ 'hello'[1] }} {{ 'héllo'[1] }} {{ 'abc'[-1] }}", {"xs": [10, 20, 30]}),
    snippet("{{ xs[5].a }}", {"xs": [10]}),
    snippet("{{ xs[1:] }} {{ xs[:2] }} {{ xs[::-1] }} {{ xs[::2] }} {{ xs[-2:] }} {{ xs[1:-1] }} {{ xs[5:] }} {{ xs[:-5] }}",
            {"xs": [1, 2, 3, 4, 5]}),
    snippet("{{ s[1:] }} {{ s[::-1] }} {{ s[:-1] }} {{ s[2:4] }} {{ s[-3::-2] }}", {"s": "añb😀cd"}),
    snippet("{{ xs[::0] }}", {"xs": [1]}),
    snippet("{{ d.items is callable }} {{ d['items'] }} {{ d.get is callable }} {{ d['get'] is callable }}", {"d": {"items": 5}}),
    snippet("{{ d.keys() | list }} {{ d.values() | list }} {{ d.items() | list }} {{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 7) }}",
            {"d": {"a": 1, "b": [2]}}),
    snippet("{{ n }} {{ f }} {{ b }} {{ s }} {{ l }} {{ o }}",
            {"n": None, "f": 2.5, "b": False, "s": "str", "l": [1, "a", None], "o": {"k": [True, 1.0]}}),
    snippet("{{ big }} {{ neg }} {{ tiny }} {{ huge }}", {"big": 12345678901234, "neg": -0.0, "tiny": 1e-5, "huge": 1.5e300}),
    # Tests.
    snippet("{{ x is defined }} {{ missing is defined }} {{ missing is undefined }} {{ none is none }} {{ x is none }}", {"x": 1}),
    snippet("{{ 'a' is string }} {{ 1 is string }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ 'a' is number }}"),
    snippet("{{ {} is mapping }} {{ [] is mapping }} {{ [] is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ missing is iterable }}"),
    snippet("{{ [] is sequence }} {{ 'a' is sequence }} {{ {} is sequence }} {{ 1 is sequence }}"),
    snippet("{{ 2 is even }} {{ 3 is odd }} {{ -3 is odd }} {{ 0 is even }} {{ 10 is divisibleby 5 }} {{ 10 is divisibleby(3) }}"),
    snippet("{{ 1 is integer }} {{ 1.0 is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ true is true }} {{ 1 is true }} {{ false is false }}"),
    snippet("{{ 'a' is eq 'a' }} {{ 'a' is equalto('b') }} {{ 3 is gt 2 }} {{ 3 is lt 2 }} {{ 2 is ge 2 }} {{ 2 is le 1 }} {{ 1 is ne 2 }} {{ 2 is in [1, 2] }}"),
    snippet("{{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 'aBc' is lower }} {{ x is not none }} {{ x is not defined }}", {"x": 0}),
    snippet("{{ none is sameas none }} {{ range is callable }} {{ 1 is callable }}"),
    snippet("{{ missing is even }}"),
    snippet("{{ 1 is nosuchtest }}"),
    # Statements.
    snippet("{% if 0 %}a{% elif '' %}b{% elif [1] %}c{% else %}d{% endif %}"),
    snippet("{% if none %}a{% else %}b{% endif %}{% if missing %}c{% endif %}"),
    snippet("{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ loop.first }}/{{ loop.last }}/{{ loop.length }} {% endfor %}",
            {"xs": ["a", "b", "c"]}),
    snippet("{% for x in xs %}{{ loop.previtem }}-{{ x }}-{{ loop.nextitem }}|{{ loop.cycle('odd', 'even') }} {% endfor %}", {"xs": [1, 2, 3]}),
    snippet("{% for x in [] %}never{% else %}empty{% endfor %}{% for x in [1] %}one{% else %}never{% endfor %}"),
    snippet("{% for x in xs if x is odd %}{{ x }}{{ ',' if not loop.last }}{% endfor %}", {"xs": [1, 2, 3, 4, 5]}),
    snippet("{% for x in xs if x > 9 %}a{% else %}none kept{% endfor %}", {"xs": [1, 2]}),
    snippet("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    snippet("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}{% for (a, b) in [(5, 6)] %}{{ a * b }}{% endfor %}"),
    snippet("{% for c in 'héy' %}[{{ c }}]{% endfor %}"),
    snippet("{% for x in missing %}a{% else %}b{% endfor %}"),
    snippet("{% for x in none %}a{% endfor %}"),
    snippet("{% for x in 5 %}a{% endfor %}"),
    snippet("{% for a, b in [[1, 2, 3]] %}{% endfor %}"),
    snippet("{% for x in [1, 2] %}{% for y in [3, 4] %}{{ loop.index }}{{ x }}{{ y }} {% endfor %}{{ loop.index }}|{% endfor %}"),
    snippet("{% for x in [1, 2, 3, 4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
    snippet("{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = i * 10 %}{{ x }} {% endfor %}{{ x }}"),
    snippet("{% for i in [1, 2] %}[{{ y }}]{% set y = i %}{% endfor %}[{{ y }}]"),
    snippet("{% if true %}{% set z = 'set in if' %}{% endif %}{{ z }}"),
    snippet("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, %}{{ t }}"),
    snippet("{% set ns = namespace(count=0, items=[]) %}{% for x in [1, 2, 3] %}{% set ns.count = ns.count + x %}{% set ns.items = ns.items + [x] %}{% endfor %}{{ ns.count }} {{ ns.items }} {{ ns }}"),
    snippet("{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns.c }}"),
    snippet("{% set x = 1 %}{% set x.attr = 2 %}"),
    snippet("{% set block %}inside {{ 1 + 1 }}\n{% endset %}[{{ block }}]"),
    snippet("{% set block | upper %}shout{% endset %}{{ block }}"),
    snippet("{% macro greet(name, punct='!') %}Hello {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', '?') }} {{ greet(punct='.', name='Cy') }} {{ greet() }}"),
    snippet("{% macro outer(x) %}<{{ inner(x) }}>{% endmacro %}{% macro inner(y) %}{{ y * 2 }}{% endmacro %}{{ outer(21) }}"),
    snippet("{% macro f(n) %}{% if n > 0 %}{{ n }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(5) }}"),
    snippet("{% set g = 'global' %}{% macro show() %}{{ g }}{% endmacro %}{{ show() }}"),
    snippet("{% macro m(a) %}{{ a }}{% endmacro %}{{ m(1, 2) }}"),
    snippet("{% with a = 1, b = 'x' %}{{ a }}{{ b }}{% endwith %}[{{ a }}]"),
    snippet("{% filter upper %}shout {{ 'this' }}{% endfilter %}"),
    snippet("{% generation %}kept{% endgeneration %}"),
    snippet("{% print 'printed' %}"),
    # Filters.
    snippet("[{{ '  x y  ' | trim }}] [{{ 'xxhixx' | trim('x') }}] [{{ none | trim }}] [{{ '\u3000\u00a0a\u2003' | trim }}]"),
    snippet("{{ 'héllo' | length }} {{ [1, 2] | length }} {{ {'a': 1} | length }} {{ missing | length }} {{ 'abc' | count }}"),
    snippet("{{ 5 | length }}"),
    snippet("{{ 'Hello World' | upper }} {{ 'Hello World' | lower }} {{ 'hELLO wORLD' | capitalize }} {{ 'hello big-world (x)' | title }}"),
    snippet("{{ 'ÉCOLE ñ straße ΑΒΓ Жж' | lower }} {{ 'école ñ αβγ жж' | upper }}"),
    snippet("{{ x | tojson }}", {"x": {"b": [1, 2.5, "é\n\"\\\t", None, True, False], "a": {}, "c": [], "d": "\u2028</script>"}}),
    snippet("{{ x | tojson(indent=2) }}", {"x": {"b": [1, {"z": None}], "a": {}, "c": []}}),
    snippet("{{ x | tojson(indent=4) }}", {"x": [[], {}, [1]]}),
    snippet("{{ x | tojson(sort_keys=true) }} {{ x | tojson(separators=(',', ':')) }} {{ x | tojson(ensure_ascii=true) }}",
            {"x": {"b": "é🦙", "a": 1}}),
    snippet("{{ 'str' | tojson }} {{ 1.0 | tojson }} {{ none | tojson }} {{ (1, 2) | tojson }} {{ 1e100 | tojson }}"),
    snippet("{{ missing | tojson }}"),
    snippet("{{ 12 | string }}{{ none | string }}{{ [1] | string }}{{ missing | string }}"),
    snippet("{{ [1, 'a', none] | join }} {{ ['a', 'b'] | join(', ') }} {{ xs | join('-', attribute='n') }}", {"xs": [{"n": 1}, {"n": 2}]}),
    snippet("{{ missing | default('dflt') }} {{ '' | default('dflt') }} {{ '' | default('dflt', true) }} {{ none | d('n') }} {{ 0 | default(5, boolean=true) }}"),
    snippet("{{ [3, 1, 2] | first }} {{ [3, 1, 2] | last }} {{ 'abc' | first }} {{ 'abc' | last }} [{{ [] | first }}] {{ {'k': 1} | first }}"),
    snippet("{{ d | items | list }} {{ missing | items | list }}", {"d": {"x": 1, "y": [2]}}),
    snippet("{{ 5 | items | list }}"),
    snippet("{{ 'a-b-c' | replace('-', '+') }} {{ 'a-b-c' | replace('-', '', 1) }} {{ 'abc' | replace('', '.') }}"),
    snippet("{{ '<b>' | safe }} {{ '<b>&\"\\'' | e }} {{ none | safe }}"),
    snippet("{{ 'a\nb\n\nc' | indent }}|{{ 'a\nb\n\nc' | indent(2, true) }}|{{ 'a\nb\n\nc' | indent(2, blank=true) }}|{{ 'a\nb' | indent('> ') }}|{{ 'x\n' | indent }}"),
    snippet("{{ ms | selectattr('role', 'equalto', 'user') | list }} {{ ms | rejectattr('role', 'equalto', 'user') | map(attribute='content') | list }}",
            {"ms": [{"role": "user", "content": "u1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "u2"}]}),
    snippet("{{ ms | selectattr('tool') | list }} {{ ms | map(attribute='x', default='D') | list }} {{ ms | map(attribute='n.0') | list }}",
            {"ms": [{"tool": True, "n": [7]}, {"tool": False, "x": 1, "n": [8]}]}),
    snippet("{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} {{ [0, 1, '', 'a'] | select | list }} {{ ['a', 'code', 'b'] | reject('equalto', 'code') | list }}"),
    snippet("{{ ['a', 'B'] | map('upper') | list }} {{ [' a ', 'b '] | map('trim') | join(',') }} {{ [1, 2] | map('string') | list }}"),
    snippet("{{ 'abc' | list }} {{ {'a': 1} | list }} {{ [3, 1, 2] | reverse | list }} {{ 'abc' | reverse }}"),
    snippet("{{ [3, 1, 2] | sort }} {{ ['b', 'A', 'c'] | sort }} {{ ['b', 'A', 'c'] | sort(case_sensitive=true) }} {{ [3, 1, 2] | sort(reverse=true) }} {{ xs | sort(attribute='n') | map(attribute='n') | list }}",
            {"xs": [{"n": 2}, {"n": 1}]}),
    snippet("{{ [1, 2, 1, 'a', 'A'] | unique | list }} {{ [3, 1, 2] | min }} {{ [3, 1, 2] | max }} {{ ['b', 'A'] | min }} {{ [1, 2.5] | sum }} {{ xs | sum(attribute='n') }}",
            {"xs": [{"n": 2}, {"n": 3}]}),
    snippet("{{ -3 | abs }} {{ '42' | int }} {{ '4.7' | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ '0x1f' | int(0, 16) }} {{ 3.9 | int }} {{ '2.5' | float }} {{ 'x' | float }} {{ 2 | float }}"),
    snippet("{{ 2.5 | round }} {{ 3.5 | round }} {{ 2.675 | round(2) }} {{ 2.1 | round(0, 'ceil') }} {{ 2.9 | round(0, 'floor') }} {{ 7 | round }}"),
    snippet("{{ d | dictsort }} {{ d | dictsort(by='value') }} {{ d | dictsort(reverse=true) }}", {"d": {"b": 1, "a": 3, "C": 2}}),
    snippet("{{ 'x' | nosuchfilter }}"),
    # Generators: map, select, reject, selectattr, rejectattr, unique and items return them.
    snippet("{{ 'true' if [] | select('odd') else 'false' }} {{ [] | select | list | length }} {{ [1, 2] | select('odd') | first }} {{ [1, 2] | map('upper') | reverse }}"),
    snippet("{{ (none | map('upper')) is iterable }} {{ (none | map('upper')) is sequence }} {{ false | select | list }} {{ missing | items | list }}"),
    snippet("{{ [1, 2] | select('odd') | length }}"),
    snippet("{{ [1, 2] | select('odd') | last }}"),
    snippet("{% set g = x | map('upper') %}{{ 'truthy' if g }} {{ g | list }}", {"x": 5}),
    snippet("{{ 1 // 0.1 }} {{ -1 // 0.1 }} {{ 7.0 // 2 }} {{ -7.5 // 2 }} {{ 0.0 // -3 }}"),
    snippet("{{ 2.0 ** 2000 }}"),
    snippet("{{ 0 ** -1 }}"),
    # String methods.
    snippet("[{{ '  a b  '.strip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ '  a'.lstrip() }}] [{{ 'a  '.rstrip() }}] [{{ '\u00a0a\u00a0'.strip() }}]"),
    snippet("{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith('lo') }} {{ 'Hello'.startswith(('x', 'H')) }} {{ 'Hello'.endswith('x') }}"),
    snippet("{{ 'a,b,,c'.split(',') }} {{ ' a  b \n c '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b c '.split(none, 1) }} {{ ''.split() }} {{ ''.split(',') }}"),
    snippet("{{ 'MiXeD'.lower() }} {{ 'MiXeD'.upper() }} {{ 'hello wORLD 1st'.title() }} {{ 'hELLO'.capitalize() }}"),
    snippet("{{ 'a b  c '.rsplit(none, 1) }} {{ '  a b  c '.rsplit(none, 2) }} {{ 'a,b,,c'.rsplit(',', 1) }} {{ ',a,'.rsplit(',', 5) }} {{ ' é b'.rsplit(none, 0) }}"),
    snippet("{{ 'abc'.replace('', '-') }} {{ 'abc'.replace('', '-', 2) }} {{ 'aaa'.replace('a', 'bb', 2) }} {{ ''.replace('', 'x') }}"),
    snippet("{{ 'a-b-c'.replace('-', '') }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abc'.find('z') }} {{ 'ab'.count('') }} {{ 'aaa'.count('a') }}"),
    snippet("{{ ', '.join(['a', 'b']) }} {{ 'a\nb\r\nc'.splitlines() }} {{ 'prefix-x'.removeprefix('prefix-') }} {{ 'x.txt'.removesuffix('.txt') }}"),
    snippet("{{ ' '.isspace() }} {{ '12'.isdigit() }} {{ 'ab'.isalpha() }} {{ 'AB'.isupper() }} {{ 'ab'.islower() }} {{ ''.isspace() }}"),
    snippet("{{ [1, 2, 1].count(1) }} {{ ['a', 'b'].index('b') }}"),
    snippet("{{ xs.append(1) }}", {"xs": []}),
    snippet("{{ d.update({'a': 1}) }}", {"d": {}}),
    snippet("{{ 'abc'.nosuchmethod() }}"),
    # Globals.
    snippet("{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(5, 0, -2) | list }} {{ range(0) | list }} {% for i in range(2) %}{{ i }}{% endfor %}"),
    snippet("{{ range(200000) | length }}"),
    snippet("{{ dict(a=1, b='x') }} {{ dict({'k': 1}, z=2) }}"),
    snippet("{{ raise_exception('custom failure: ' ~ 42) }}"),
    snippet("line 1\nline 2 {{ raise_exception('on line two') }}"),
    snippet("{{ undefined_function() }}"),
    snippet("{{ 'str'() }}"),
    # Syntax errors.
    snippet("{% if true %}unclosed"),
    snippet("{% for x in xs %}{% endif %}"),
    snippet("{{ 1 +* 2 }}"),
    snippet("{{ 'unterminated }}"),
    snippet("{% endfor %}"),
    snippet("{% unknowntag %}"),
    snippet("{{ }}"),
    snippet("{# never closed"),
    snippet("{{ (1, 2 }}"),
    snippet("{% set %}"),
    snippet("{% macro m(a=1, b) %}{% endmacro %}"),
    snippet("{{ x | }}"),
]


def snippet_cases():
    cases = []
    for item in SNIPPETS:
        case = dict(item)
        case.update(render(item["template"], item["context"]))
        cases.append(case)
    return cases


def write_json(path, data):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", default=os.environ.get("EDGELM_FIXTURES_DIR", os.path.join(REPO, "..", "shared", "fixtures")))
    parser.add_argument("--out", default=os.path.join(REPO, "tests", "data", "templates"))
    parser.add_argument("--random", type=int, default=0, help="write N random conversations per template instead")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    conversations = CONVERSATIONS
    if args.random:
        conversations = random_conversations(random.Random(args.seed), args.random)
    conversations = with_folded(conversations)

    for name, path, bos, eos in TEMPLATES:
        text = read_template(args.fixtures, path)
        cases = template_cases(text, bos, eos, conversations)
        write_json(os.path.join(args.out, name + ".json"), {
            "template_file": path,
            "bos_token": bos,
            "eos_token": eos,
            "jinja2_version": jinja2.__version__,
            "cases": cases,
        })
        errors = sum("expected_error" in case for case in cases)
        print(f"{name}: {len(cases)} cases ({errors} expected errors)", file=sys.stderr)

    if not args.random:
        cases = snippet_cases()
        write_json(os.path.join(args.out, "snippets.json"), {"jinja2_version": jinja2.__version__, "cases": cases})
        print(f"snippets: {len(cases)} cases", file=sys.stderr)


if __name__ == "__main__":
    main()
