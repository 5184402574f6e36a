#pragma once
// GPT-2's byte-level alphabet, as llama.cpp builds it (unicode_byte_to_utf8_map).
// Byte-level BPE vocabularies write every byte as one printable character, so
// token texts never contain spaces or control characters. Bytes 0x21-0x7E,
// 0xA1-0xAC and 0xAE-0xFF map to the code point of the same value. The other
// 68 bytes, in increasing order, map to U+0100, U+0101, ... ("Ġ" U+0120 is the
// space, "Ċ" U+010A the newline).

#include <cstdint>
#include <string>
#include <string_view>

namespace edgelm {

// Returns the code point that `byte` maps to.
char32_t byte_level_code_point(uint8_t byte);

// Appends the UTF-8 of the character that each byte of `bytes` maps to.
void append_byte_level(std::string_view bytes, std::string& out);

// Appends the raw bytes that the byte-level text `text` encodes. Returns
// false, after appending what it could, when `text` has a character outside
// the alphabet (or malformed UTF-8); such characters are copied unchanged.
bool decode_byte_level(std::string_view text, std::string& out);

}  // namespace edgelm
