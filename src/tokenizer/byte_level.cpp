#include "tokenizer/byte_level.h"

#include <array>

#include "tokenizer/utf8.h"

namespace edgelm {

namespace {

// All alphabet code points are below U+0100 + 68.
constexpr char32_t kAlphabetEnd = 0x100 + 68;

bool maps_to_same_value(int byte) {
  return (byte >= 0x21 && byte <= 0x7E) || (byte >= 0xA1 && byte <= 0xAC) || (byte >= 0xAE && byte <= 0xFF);
}

struct Alphabet {
  std::array<char32_t, 256> code_point{};
  std::array<int16_t, kAlphabetEnd> byte{};  // -1 for code points outside the alphabet
  std::array<std::string, 256> utf8;
};

void append_utf8(char32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else {
    // The alphabet stays below U+0800, so two bytes suffice.
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

Alphabet make_alphabet() {
  Alphabet alphabet;
  alphabet.byte.fill(-1);
  char32_t next_shifted = 0x100;
  for (int byte = 0; byte < 256; ++byte) {
    const char32_t code_point = maps_to_same_value(byte) ? static_cast<char32_t>(byte) : next_shifted++;
    alphabet.code_point[byte] = code_point;
    alphabet.byte[code_point] = static_cast<int16_t>(byte);
    append_utf8(code_point, alphabet.utf8[byte]);
  }
  return alphabet;
}

const Alphabet& alphabet() {
  static const Alphabet instance = make_alphabet();
  return instance;
}

// Decodes the well-formed UTF-8 character of `length` bytes at `pos`.
char32_t decode_character(std::string_view text, size_t pos, size_t length) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  if (length == 1) {
    return lead;
  }
  char32_t code_point = lead & (0x7F >> length);
  for (size_t i = 1; i < length; ++i) {
    code_point = (code_point << 6) | (static_cast<uint8_t>(text[pos + i]) & 0x3F);
  }
  return code_point;
}

}  // namespace

char32_t byte_level_code_point(uint8_t byte) {
  return alphabet().code_point[byte];
}

void append_byte_level(std::string_view bytes, std::string& out) {
  const Alphabet& table = alphabet();
  for (char c : bytes) {
    out += table.utf8[static_cast<uint8_t>(c)];
  }
}

bool decode_byte_level(std::string_view text, std::string& out) {
  const Alphabet& table = alphabet();
  bool all_in_alphabet = true;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Step step = scan_utf8(text, pos);
    if (step.status == Utf8Status::VALID) {
      const char32_t code_point = decode_character(text, pos, step.length);
      if (code_point < kAlphabetEnd && table.byte[code_point] >= 0) {
        out += static_cast<char>(table.byte[code_point]);
        pos += step.length;
        continue;
      }
    }
    out.append(text.substr(pos, step.length));
    all_in_alphabet = false;
    pos += step.length;
  }
  return all_in_alphabet;
}

}  // namespace edgelm
