#!/usr/bin/env python3
"""Write tests/data/spm_tiny_gemma2_cases.jsonl: generated strings and the ids
SentencePiece's own command-line encoder gives them with the tiny Gemma 2
tokenizer.model.

    python3 tests/tools/make_spm_cases.py [--model PATH] [--output PATH]

Needs `spm_encode` (Debian package sentencepiece). The strings come from a
seeded generator, so a rerun writes the same file. spm_encode reads one text
per line, so no string contains a newline; the test checks texts with newlines
against libsentencepiece directly.

Each line is a JSON object:
  kind  "plain"; "user_defined" when the text contains a user-defined symbol
        such as "<start_of_turn>"; "invalid_utf8" when it is not valid UTF-8
  text  the string, or
  hex   its bytes in hex (for invalid_utf8)
  ids   spm_encode --output_format=id, no BOS or EOS
"""

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_MODEL = os.path.join(REPO, "..", "shared", "fixtures", "tiny-gemma2", "tokenizer.model")
DEFAULT_OUTPUT = os.path.join(REPO, "tests", "data", "spm_tiny_gemma2_cases.jsonl")

PLAIN_COUNT = 5400
USER_DEFINED_COUNT = 300
INVALID_UTF8_COUNT = 300

WORDS = [
    "the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are", "as",
    "with", "his", "they", "I", "The", "Hello", "world", "fortune", "computer", "Larry", "Wall", "don't",
    "it's", "O'Reilly", "UNIX", "e-mail", "http://example.com/a?b=c", "foo_bar", "x86-64", "C++", "#include",
    "<tag>", "naïve", "café", "Ünïcödé", "straße", "Œuvre", "niño", "résumé", "Ελληνικά", "русский", "עברית",
    "العربية", "हिन्दी", "日本語", "中文字符", "한국어", "ひらがな", "カタカナ", "✓", "→", "∑", "€", "£", "©",
    "😀", "👍🏽", "👨‍👩‍👧", "🇩🇪", "🤖", "e\u0301", "A\u030a", "ﬁ", "ｆｕｌｌ", "①", "1969", "3.14159", "384400",
    "0x1F", "1,000,000", "2024-01-01", "12:30", "-42", "1e-9", "007", "!", "?", "...", "--", '"quoted"',
    "(paren)", "[x]", "{y}", "a/b", "\\n", "▁", "▁▁", "<0x41>", "<unk>", "<bos>x", "</s>", "<eos>", "<pad>",
    "<|eot_id|>", "@@", "~~~", "|||", "Q:", "A:", "--More--", "fortune(6)", "$HOME", "&&", "||", "->",
]
# No newline: spm_encode reads one text per line.
GAPS = [" ", " ", " ", "  ", "   ", "    ", "\t", "\t\t", " \t", "\r", "", ", ", ". ", " - ", "\x0b", "\x0c",
        "\u00a0", "\u3000", "\u200b", "\u2028"]
USER_DEFINED = ["<start_of_turn>", "<end_of_turn>", "<mask>"]
# Bytes that are not valid UTF-8 anywhere, or only as part of a longer sequence.
BAD_BYTES = [b"\xff", b"\xfe", b"\x80", b"\xbf", b"\xc3", b"\xe3\x81", b"\xf0\x9f\x98", b"\xc0\xaf",
             b"\xed\xa0\x80", b"\xf5\x80\x80\x80", b"\xe0\x80\x80"]


def words_and_gaps(rng):
    text = rng.choice(GAPS) if rng.random() < 0.25 else ""
    n = 1 + rng.randrange(12)
    for i in range(n):
        text += rng.choice(WORDS)
        if i + 1 < n or rng.random() < 0.3:
            text += rng.choice(GAPS)
    return text


def ascii_soup(rng):
    # Printable ASCII and control characters, except NUL and newline.
    return "".join(chr(rng.choice([c for c in range(1, 128) if c != 10])) for _ in range(1 + rng.randrange(30)))


def random_code_points(rng):
    ranges = [(0x20, 0x60), (0xA0, 0x2F60), (0x3000, 0xCFFF), (0x10000, 0x10000), (0x1F300, 0x600)]
    text = ""
    for _ in range(1 + rng.randrange(12)):
        while True:
            start, size = rng.choice(ranges)
            cp = start + rng.randrange(size)
            if not 0xD800 <= cp <= 0xDFFF and cp not in (0x0A, 0x85):
                break
        text += chr(cp)
        if rng.random() < 0.3:
            text += " "
    return text


def whitespace_runs(rng):
    word = rng.choice(WORDS)
    run = rng.choice([" ", "\t", " \t", "\r", "▁"]) * rng.randrange(1, 33)
    return rng.choice([run + word, word + run, run + word + run, word + run + rng.choice(WORDS)])


def digits(rng):
    parts = []
    for _ in range(1 + rng.randrange(5)):
        parts.append(rng.choice([str(rng.randrange(100000)), f"{rng.random() * 1000:.{rng.randrange(6)}f}",
                                 "0" * rng.randrange(1, 9), str(rng.randrange(10)) * rng.randrange(1, 21)]))
    return rng.choice([" ", ",", ", ", "-", "", "\t"]).join(parts)


def code_line(rng):
    indent = rng.choice(["", "  ", "    ", "\t", "\t\t", "        "])
    return indent + rng.choice([
        "x = 1", "return y;", "if (a) {", "}", "for i in range(10):", "// comment", 'print(f"{name}!")',
        "#include <stdio.h>", "let s = 'str';", "fn main() -> i32 { 0 }", "SELECT * FROM t WHERE a >= 2;",
        "<div class=\"x\">hi</div>", "$ ls -la | grep foo", "a[i] += b[j] * 2.5e-3;"])


def long_text(rng):
    text = ""
    target = 300 + rng.randrange(700)
    while len(text) < target:
        text += rng.choice(WORDS) + rng.choice(GAPS)
    return text


def plain_text(rng, index):
    generators = [words_and_gaps, words_and_gaps, ascii_soup, random_code_points, whitespace_runs, digits,
                  code_line]
    if index % 100 == 99:
        return long_text(rng)
    return rng.choice(generators)(rng)


def user_defined_text(rng):
    parts = []
    for _ in range(1 + rng.randrange(4)):
        parts.append(rng.choice(USER_DEFINED))
        parts.append(rng.choice(["", "user", "model", " ", "  hi", words_and_gaps(rng)]))
    rng.shuffle(parts)
    return "".join(parts)


def invalid_utf8_bytes(rng):
    pieces = [words_and_gaps(rng).encode("utf-8")]
    for _ in range(1 + rng.randrange(3)):
        position = rng.randrange(len(pieces) + 1)
        pieces.insert(position, rng.choice(BAD_BYTES))
    return b"".join(pieces)


def make_cases():
    rng = random.Random(20250301)
    cases = []
    seen = set()

    def add(kind, data):
        if data and data not in seen and b"\n" not in data and b"\x00" not in data:
            seen.add(data)
            cases.append((kind, data))

    # A plain ASCII first line, so no file-start byte order mark question arises.
    add("plain", b"Hello world")
    while sum(1 for kind, _ in cases if kind == "plain") < PLAIN_COUNT:
        add("plain", plain_text(rng, len(cases)).encode("utf-8"))
    while sum(1 for kind, _ in cases if kind == "user_defined") < USER_DEFINED_COUNT:
        text = user_defined_text(rng)
        # Control texts such as "<bos>" would need parse_special off at the same time.
        if not any(control in text for control in ("<bos>", "<eos>", "<pad>", "<unk>")):
            add("user_defined", text.encode("utf-8"))
    while sum(1 for kind, _ in cases if kind == "invalid_utf8") < INVALID_UTF8_COUNT:
        data = invalid_utf8_bytes(rng)
        if not any(symbol.encode() in data for symbol in USER_DEFINED):
            add("invalid_utf8", data)
    return cases


def spm_encode(model, cases):
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(b"".join(data + b"\n" for _, data in cases))
        path = f.name
    try:
        result = subprocess.run(["spm_encode", f"--model={model}", "--output_format=id", f"--input={path}"],
                                check=True, capture_output=True)
    finally:
        os.unlink(path)
    lines = result.stdout.decode("ascii").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) != len(cases):
        sys.exit(f"spm_encode printed {len(lines)} lines for {len(cases)} texts")
    return [[int(x) for x in line.split()] for line in lines]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--output", default=DEFAULT_OUTPUT)
    args = parser.parse_args()

    cases = make_cases()
    all_ids = spm_encode(args.model, cases)
    with open(args.output, "w", encoding="utf-8") as out:
        for (kind, data), ids in zip(cases, all_ids):
            record = {"kind": kind}
            if kind == "invalid_utf8":
                record["hex"] = data.hex()
            else:
                record["text"] = data.decode("utf-8")
            record["ids"] = ids
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    print(f"wrote {len(cases)} cases to {args.output}")


if __name__ == "__main__":
    main()
