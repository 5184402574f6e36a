#include "tokenizer/utf8.h"

#include <cstdint>

namespace edgelm {

namespace {

// The valid range of the second byte depends on the lead byte: E0 and F0
// exclude overlong forms, ED excludes surrogates and F4 excludes code points
// above U+10FFFF.
struct LeadRule {
  size_t length;
  uint8_t second_min;
  uint8_t second_max;
};

bool lead_rule(uint8_t lead, LeadRule& rule) {
  if (lead >= 0xC2 && lead <= 0xDF) {
    rule = {2, 0x80, 0xBF};
  } else if (lead == 0xE0) {
    rule = {3, 0xA0, 0xBF};
  } else if (lead == 0xED) {
    rule = {3, 0x80, 0x9F};
  } else if (lead >= 0xE1 && lead <= 0xEF) {
    rule = {3, 0x80, 0xBF};
  } else if (lead == 0xF0) {
    rule = {4, 0x90, 0xBF};
  } else if (lead >= 0xF1 && lead <= 0xF3) {
    rule = {4, 0x80, 0xBF};
  } else if (lead == 0xF4) {
    rule = {4, 0x80, 0x8F};
  } else {
    return false;
  }
  return true;
}

}  // namespace

Utf8Step scan_utf8(std::string_view text, size_t pos) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  if (lead < 0x80) {
    return {Utf8Status::VALID, 1};
  }

  LeadRule rule;
  if (!lead_rule(lead, rule)) {
    return {Utf8Status::INVALID, 1};
  }

  // Walk the continuation bytes. The first one out of range ends the invalid
  // step before it.
  size_t length = 1;
  while (length < rule.length) {
    if (pos + length >= text.size()) {
      return {Utf8Status::INCOMPLETE, length};
    }
    const auto byte = static_cast<uint8_t>(text[pos + length]);
    const uint8_t min = length == 1 ? rule.second_min : 0x80;
    const uint8_t max = length == 1 ? rule.second_max : 0xBF;
    if (byte < min || byte > max) {
      return {Utf8Status::INVALID, length};
    }
    ++length;
  }
  return {Utf8Status::VALID, length};
}

void append_replacement_character(std::string& out) {
  out += "\xEF\xBF\xBD";
}

void append_utf8(std::string& out, char32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xC0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xE0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (code_point & 0x3F));
  }
}

std::string replace_invalid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Step step = scan_utf8(text, pos);
    if (step.status == Utf8Status::VALID) {
      out.append(text.substr(pos, step.length));
    } else {
      append_replacement_character(out);
    }
    pos += step.length;
  }
  return out;
}

}  // namespace edgelm
