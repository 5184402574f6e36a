#!/usr/bin/env python3
"""Regenerate bpe_llama_cpp_parity.json: random strings and the ids llama.cpp gives them.

The Llama 3 vocabulary is run with its own pre-tokenizer ("llama-bpe") and,
from a copy of the file with tokenizer.ggml.pre rewritten, with "gpt-2" and
"default".

The strings mix English words, contractions in both cases, letters of eleven
scripts, digits of several scripts, punctuation and every kind of whitespace.
U+0085 and U+3000 are among the spaces, with U+180E and U+200B as non-space
look-alikes. Emoji sequences, Llama 3 special-token texts, combining marks,
unassigned and private-use code points, and malformed UTF-8 (stray bytes,
truncated and overlong sequences, surrogates) are mixed in too. Code points above U+10FFFF are left out:
llama.cpp aborts on them. A string that starts with <|begin_of_text|> is given
add_bos false, because llama.cpp then adds a second BOS and edgelm does not.

Run with llama.cpp's llama-tokenize (v0.5.0, the release bundled in the npm
package node-llama-cpp 3.22.1, built from its gitRelease.bundle):

    python3 tests/tokenizer/data/make_bpe_llama_cpp_parity.py \\
        path/to/llama-tokenize ../shared/fixtures/vocab/ggml-vocab-llama-bpe.gguf

Only the Python standard library is needed. Not run by the test suite.
"""

import json
import os
import random
import struct
import subprocess
import sys
import tempfile

SEED = 20240
# Cases per tokenizer.ggml.pre value.
SETS = [("llama-bpe", 250), ("gpt-2", 50), ("default", 50)]

WORDS = ("the quick brown fox jumps over lazy dog Hello World I You They it's don't I'm we'll they've "
         "she'd HE'S WE'LL You'Re a'lL x's program function return value llama tokenizer").split()
SCRIPTS = [
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿĀāĂăĄąĆćŁłŒœŠšŸŽžſƒ",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЖЗИЙКЛМН",
    "αβγδεζηθικλμνξοπρστυφχψωΑΒΓΔΕΖΗΘ",
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年",
    "ひらがなカタカナ漢字とうきょう",
    "한국어안녕하세요",
    "العربيةمرحبا",
    "हिन्दीनमस्ते",
    "ภาษาไทยสวัสดี",
    "ក្រុមហ៊ុន",
]
DIGITS = "0123456789" * 3 + "٠١٢٣٤٥٦٧٨٩０１２３４５６７８９²³¹½Ⅻ"
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~…—–“”‘’«»¿¡·•©®™°±×÷€£¥₹§¶†‡"
SPACES = [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", " \n", "\u00a0", "\u3000", "\u2028", "\u0085", "\u180e",
          "\u200b", "\u2009", "\x0b", "\x0c", "\x1c", "\x1f", "\r"]
EMOJI = ["🦙", "😀", "👍🏽", "👨‍👩‍👧", "🏳️‍🌈", "✅", "🚀", "❤️"]
SPECIAL = ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>",
           "<|reserved_special_token_5|>", "<|eot_id", "<|", "|>"]
ODD = ["\ue000", "\u0378", "\U000e0001", "\ufeff", "\u0300", "e\u0301", "\U0001d400", "\x00", "\x7f", "'", "''",
       "'s", "'S", "'ſ", "'ll", "'LL", "'lL", "'re", "'RE"]
MALFORMED = [b"\xff", b"\x80", b"\xc0\x80", b"\xe3\x81", b"\xed\xa0\x80", b"\xf0\x9f", b"\xc3",
             b"\xf8\x88\x80\x80\x80", b"\xe0\x80\xaf", b"\xf0\x80\x80\x80"]
BEGIN_OF_TEXT = "<|begin_of_text|>".encode()


def piece(rng):
    r = rng.random()
    if r < 0.3:
        return rng.choice(WORDS).encode()
    if r < 0.45:
        script = rng.choice(SCRIPTS)
        return "".join(rng.choice(script) for _ in range(rng.randint(1, 12))).encode()
    if r < 0.55:
        return "".join(rng.choice(DIGITS) for _ in range(rng.randint(1, 9))).encode()
    if r < 0.65:
        return "".join(rng.choice(PUNCTUATION) for _ in range(rng.randint(1, 5))).encode()
    if r < 0.8:
        return rng.choice(SPACES).encode()
    if r < 0.85:
        return rng.choice(EMOJI).encode()
    if r < 0.9:
        return rng.choice(SPECIAL).encode()
    if r < 0.96:
        return rng.choice(ODD).encode("utf-8", "surrogatepass")
    return rng.choice(MALFORMED)


def make_cases(rng, count, native):
    cases = []
    for _ in range(count):
        text = b""
        for _ in range(rng.randint(0, 20)):
            text += piece(rng)
            if rng.random() < 0.5:
                text += b" "
        parse_special = rng.random() < 0.5
        # Only the file's own pre-tokenizer keeps the file's add_bos default.
        add_bos = native and rng.random() < 0.5 and not (parse_special and text.startswith(BEGIN_OF_TEXT))
        cases.append((text, parse_special, add_bos))
    return cases


def with_pre(vocab, pre, out_path):
    """Copy a GGUF file without tensors, with tokenizer.ggml.pre set to `pre`."""
    data = open(vocab, "rb").read()
    n_tensors, n_kv = struct.unpack_from("<QQ", data, 8)
    assert n_tensors == 0, "only vocabulary files without tensors are supported"
    scalar_sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
    pos = 24

    def skip_value(value_type):
        nonlocal pos
        if value_type == 8:
            (length,) = struct.unpack_from("<Q", data, pos)
            pos += 8 + length
        elif value_type == 9:
            element_type, count = struct.unpack_from("<IQ", data, pos)
            pos += 12
            if element_type in scalar_sizes:
                pos += scalar_sizes[element_type] * count
            else:
                for _ in range(count):
                    skip_value(element_type)
        else:
            pos += scalar_sizes[value_type]

    out = bytearray(data[:24])
    for _ in range(n_kv):
        start = pos
        (key_length,) = struct.unpack_from("<Q", data, pos)
        key = data[pos + 8:pos + 8 + key_length].decode()
        pos += 8 + key_length
        (value_type,) = struct.unpack_from("<I", data, pos)
        pos += 4
        skip_value(value_type)
        if key == "tokenizer.ggml.pre":
            out += data[start:start + 8 + key_length + 4] + struct.pack("<Q", len(pre)) + pre.encode()
        else:
            out += data[start:pos]
    with open(out_path, "wb") as f:
        f.write(out)


def llama_cpp_ids(tokenize, vocab, text, parse_special, add_bos):
    command = [tokenize, "-m", vocab, "--stdin", "--ids", "--log-disable", "--no-escape"]
    if not parse_special:
        command.append("--no-parse-special")
    if not add_bos:
        command.append("--no-bos")
    result = subprocess.run(command, input=text, capture_output=True, check=True)
    line = result.stdout.decode().strip().splitlines()[-1]
    return json.loads(line)


def main():
    tokenize, vocab = sys.argv[1], sys.argv[2]
    rng = random.Random(SEED)
    sets = []
    with tempfile.TemporaryDirectory() as scratch:
        for pre, count in SETS:
            native = pre == "llama-bpe"
            path = vocab
            if not native:
                path = os.path.join(scratch, pre + ".gguf")
                with_pre(vocab, pre, path)

            records = []
            for text, parse_special, add_bos in make_cases(rng, count, native):
                record = {}
                try:
                    record["text"] = text.decode("utf-8")
                except UnicodeDecodeError:
                    record["text_hex"] = text.hex()
                record["parse_special"] = parse_special
                record["add_bos"] = add_bos
                record["ids"] = llama_cpp_ids(tokenize, path, text, parse_special, add_bos)
                records.append(record)
            sets.append((pre, records))

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bpe_llama_cpp_parity.json")
    with open(out, "w", encoding="utf-8") as f:
        # One case per line keeps the file short and its diffs readable.
        f.write('{"vocab": "%s", "llama_cpp": "v0.5.0 (node-llama-cpp 3.22.1)", "sets": [\n' % os.path.basename(vocab))
        for index, (pre, records) in enumerate(sets):
            f.write('{"pre": "%s", "cases": [\n' % pre)
            f.write(",\n".join(json.dumps(record, ensure_ascii=False) for record in records))
            f.write("\n]}%s\n" % ("," if index + 1 < len(sets) else ""))
        f.write("]}\n")
    print(f"wrote {sum(len(records) for _, records in sets)} cases to {out}")


if __name__ == "__main__":
    main()
