#pragma once
// UTF-8 scanning that never reads past the input and classifies malformed bytes.

#include <cstddef>
#include <string>
#include <string_view>

namespace edgelm {

enum class Utf8Status {
  VALID,       // a complete, well-formed character
  INCOMPLETE,  // a well-formed prefix of a character cut off by the end of the input
  INVALID,     // bytes that can never start or continue a well-formed character
};

// One step of a UTF-8 scan: the status and how many bytes it covers. An
// INVALID step covers the longest start of a well-formed sequence (at least
// one byte), so replacing each INVALID step with U+FFFD gives what Python's
// bytes.decode("utf-8", "replace") gives.
struct Utf8Step {
  Utf8Status status;
  size_t length;
};

// Classifies the bytes of `text` that begin at `pos` (pos < text.size()).
Utf8Step scan_utf8(std::string_view text, size_t pos);

// `text` with each INVALID or INCOMPLETE step replaced by U+FFFD: valid
// UTF-8 that JSON writers and terminals accept.
std::string replace_invalid_utf8(std::string_view text);

// Appends the UTF-8 encoding of U+FFFD.
void append_replacement_character(std::string& out);

// Appends the shortest UTF-8 encoding of `code_point` (at most U+10FFFF),
// surrogates included, so callers that carry raw bytes as lone surrogates
// can encode them too.
void append_utf8(std::string& out, char32_t code_point);

}  // namespace edgelm
