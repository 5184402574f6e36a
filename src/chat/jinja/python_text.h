#pragma once
// Python's str semantics on UTF-8 strings: characters are code points, and
// whitespace, stripping, splitting, case mapping and repr() follow CPython,
// because chat templates are written against Python's jinja2.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgelm::jinja {

// Decodes the character at `pos` into `code_point` and returns its length in
// bytes. A malformed byte is one character of its own, decoded as
// U+DC80..U+DCFF as Python's surrogateescape error handler does.
size_t decode_char(std::string_view text, size_t pos, char32_t& code_point);

// Appends the UTF-8 encoding of `code_point`.
void append_utf8(std::string& out, char32_t code_point);

// Byte offsets of every character of `text`, followed by text.size().
std::vector<size_t> char_offsets(std::string_view text);

size_t char_count(std::string_view text);

// Whether str.isspace() holds for the character; also what `\s` matches in Python's re.
bool is_space(char32_t code_point);

// Length in bytes of the whitespace character at `pos`, or 0 when there is none.
size_t space_length_at(std::string_view text, size_t pos);

// str.strip(), str.lstrip() and str.rstrip(): without `chars` they strip whitespace.
std::string_view strip_space(std::string_view text, bool left, bool right);
std::string strip_chars(std::string_view text, std::string_view chars, bool left, bool right);

// str.split(): on whitespace runs when `separator` is empty, else on the
// separator. A negative `max_split` means no limit.
std::vector<std::string> split(std::string_view text, std::string_view separator, int64_t max_split);

// str.rsplit(): like split, but a limited split counts from the end.
std::vector<std::string> rsplit(std::string_view text, std::string_view separator, int64_t max_split);

// str.replace(): at most `count` replacements when count >= 0. Throws a
// runtime TemplateError, before building it, when the result would be longer
// than `max_bytes`.
std::string replace(std::string_view text, std::string_view old_text, std::string_view new_text, int64_t count,
                    size_t max_bytes);

// str.splitlines() without keepends.
std::vector<std::string> split_lines(std::string_view text);

// Case mapping. NOTE: only ASCII, Latin-1, Latin Extended-A, basic Greek and
// basic Cyrillic letters change case, and one character always maps to one,
// so Python's special cases (such as "ß".upper() == "SS") differ.
std::string to_upper(std::string_view text);
std::string to_lower(std::string_view text);
std::string capitalize(std::string_view text);  // str.capitalize()
std::string title_case(std::string_view text);  // str.title()

// repr() of a float and of a str, as Python 3 prints them.
std::string float_repr(double value);
std::string string_repr(std::string_view text);

// A JSON string literal as Python's json.dumps writes it.
std::string json_quote(std::string_view text, bool ensure_ascii);

}  // namespace edgelm::jinja
