#include "chat/jinja/python_text.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "chat/jinja/template_error.h"
#include "tokenizer/utf8.h"

namespace edgelm::jinja {

size_t decode_char(std::string_view text, size_t pos, char32_t& code_point) {
  Utf8Step step = scan_utf8(text, pos);
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
  if (step.status != Utf8Status::VALID) {
    code_point = 0xDC00 + byte(0);
    return 1;
  }

  switch (step.length) {
    case 1:
      code_point = byte(0);
      break;
    case 2:
      code_point = ((byte(0) & 0x1Fu) << 6) | (byte(1) & 0x3Fu);
      break;
    case 3:
      code_point = ((byte(0) & 0x0Fu) << 12) | ((byte(1) & 0x3Fu) << 6) | (byte(2) & 0x3Fu);
      break;
    default:
      code_point = ((byte(0) & 0x07u) << 18) | ((byte(1) & 0x3Fu) << 12) | ((byte(2) & 0x3Fu) << 6) | (byte(3) & 0x3Fu);
      break;
  }
  return step.length;
}

void append_utf8(std::string& out, char32_t cp) {
  // Lone surrogates U+DC80..U+DCFF come from malformed bytes: write the byte back.
  if (cp >= 0xDC80 && cp <= 0xDCFF) {
    out += static_cast<char>(cp - 0xDC00);
  } else {
    edgelm::append_utf8(out, cp);
  }
}

std::vector<size_t> char_offsets(std::string_view text) {
  std::vector<size_t> offsets;
  char32_t cp;
  for (size_t pos = 0; pos < text.size(); pos += decode_char(text, pos, cp)) offsets.push_back(pos);
  offsets.push_back(text.size());
  return offsets;
}

size_t char_count(std::string_view text) {
  size_t count = 0;
  char32_t cp;
  for (size_t pos = 0; pos < text.size(); pos += decode_char(text, pos, cp)) ++count;
  return count;
}

bool is_space(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
         cp == 0x3000;
}

size_t space_length_at(std::string_view text, size_t pos) {
  if (pos >= text.size()) return 0;
  char32_t cp;
  size_t length = decode_char(text, pos, cp);
  return is_space(cp) ? length : 0;
}

std::string_view strip_space(std::string_view text, bool left, bool right) {
  size_t begin = 0;
  size_t end = text.size();
  if (left) {
    while (size_t n = space_length_at(text, begin)) begin += n;
  }
  if (right) {
    // Walk forward so multi-byte characters are decoded from their first byte.
    size_t last_content_end = begin;
    char32_t cp;
    for (size_t pos = begin; pos < end;) {
      size_t n = decode_char(text, pos, cp);
      pos += n;
      if (!is_space(cp)) last_content_end = pos;
    }
    end = last_content_end;
  }
  return text.substr(begin, end - begin);
}

std::string strip_chars(std::string_view text, std::string_view chars, bool left, bool right) {
  std::vector<char32_t> set;
  char32_t cp;
  for (size_t pos = 0; pos < chars.size();) {
    pos += decode_char(chars, pos, cp);
    set.push_back(cp);
  }
  auto in_set = [&](char32_t c) {
    for (char32_t s : set) {
      if (s == c) return true;
    }
    return false;
  };

  std::vector<size_t> offsets = char_offsets(text);
  size_t first = 0;
  size_t last = offsets.size() - 1;  // characters [first, last)
  auto char_at = [&](size_t i) {
    decode_char(text, offsets[i], cp);
    return cp;
  };
  if (left) {
    while (first < last && in_set(char_at(first))) ++first;
  }
  if (right) {
    while (last > first && in_set(char_at(last - 1))) --last;
  }
  return std::string(text.substr(offsets[first], offsets[last] - offsets[first]));
}

namespace {

std::vector<std::string> split_on_whitespace(std::string_view text, int64_t max_split) {
  std::vector<std::string> parts;
  size_t pos = 0;
  while (true) {
    while (size_t n = space_length_at(text, pos)) pos += n;
    if (pos >= text.size()) break;
    if (max_split >= 0 && static_cast<int64_t>(parts.size()) == max_split) {
      // The remainder is kept as it is, trailing whitespace included.
      parts.emplace_back(text.substr(pos));
      break;
    }
    size_t start = pos;
    while (pos < text.size() && space_length_at(text, pos) == 0) {
      char32_t cp;
      pos += decode_char(text, pos, cp);
    }
    parts.emplace_back(text.substr(start, pos - start));
  }
  return parts;
}

}  // namespace

std::vector<std::string> split(std::string_view text, std::string_view separator, int64_t max_split) {
  if (separator.empty()) return split_on_whitespace(text, max_split);

  std::vector<std::string> parts;
  size_t start = 0;
  while (max_split < 0 || static_cast<int64_t>(parts.size()) < max_split) {
    size_t found = text.find(separator, start);
    if (found == std::string_view::npos) break;
    parts.emplace_back(text.substr(start, found - start));
    start = found + separator.size();
  }
  parts.emplace_back(text.substr(start));
  return parts;
}

std::vector<std::string> rsplit(std::string_view text, std::string_view separator, int64_t max_split) {
  if (max_split < 0) return split(text, separator, max_split);

  std::vector<std::string> parts;
  size_t end = text.size();
  if (separator.empty()) {
    // Split at whitespace runs from the end. The remainder keeps its leading whitespace.
    std::vector<size_t> offsets = char_offsets(text);
    size_t i = offsets.size() - 1;  // characters [0, i) remain
    auto space_before = [&](size_t k) { return k > 0 && space_length_at(text, offsets[k - 1]) > 0; };
    while (true) {
      while (space_before(i)) --i;
      if (i == 0) break;
      if (static_cast<int64_t>(parts.size()) == max_split) {
        parts.emplace_back(text.substr(0, offsets[i]));
        break;
      }
      size_t word_end = i;
      while (i > 0 && !space_before(i)) --i;
      parts.emplace_back(text.substr(offsets[i], offsets[word_end] - offsets[i]));
    }
  } else {
    while (static_cast<int64_t>(parts.size()) < max_split) {
      size_t found = end >= separator.size() ? text.rfind(separator, end - separator.size()) : std::string_view::npos;
      if (found == std::string_view::npos) break;
      parts.emplace_back(text.substr(found + separator.size(), end - found - separator.size()));
      end = found;
    }
    parts.emplace_back(text.substr(0, end));
  }
  return std::vector<std::string>(parts.rbegin(), parts.rend());
}

std::string replace(std::string_view text, std::string_view old_text, std::string_view new_text, int64_t count,
                    size_t max_bytes) {
  // Find the replaced positions first, so the size is known before building.
  std::vector<size_t> positions;
  if (old_text.empty()) {
    // Python inserts the replacement before every character and at the end.
    positions = char_offsets(text);
  } else {
    for (size_t at = text.find(old_text); at != std::string_view::npos; at = text.find(old_text, at + old_text.size())) {
      positions.push_back(at);
    }
  }
  if (count >= 0 && positions.size() > static_cast<uint64_t>(count)) positions.resize(static_cast<size_t>(count));

  uint64_t size = text.size() + positions.size() * new_text.size() - positions.size() * old_text.size();
  if (size > max_bytes) fail_render("replace() would build {} bytes, more than the limit of {}", size, max_bytes);

  std::string out;
  out.reserve(size);
  size_t done = 0;
  for (size_t at : positions) {
    out.append(text, done, at - done);
    out.append(new_text);
    done = at + old_text.size();
  }
  out.append(text, done);
  return out;
}

std::vector<std::string> split_lines(std::string_view text) {
  // Line boundaries of str.splitlines(): \n \r \r\n \v \f \x1c \x1d \x1e \x85 U+2028 U+2029.
  std::vector<std::string> lines;
  size_t start = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    char32_t cp;
    size_t n = decode_char(text, pos, cp);
    bool boundary = cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || (cp >= 0x1C && cp <= 0x1E) ||
                    cp == 0x85 || cp == 0x2028 || cp == 0x2029;
    if (!boundary) {
      pos += n;
      continue;
    }
    lines.emplace_back(text.substr(start, pos - start));
    pos += n;
    if (cp == '\r' && pos < text.size() && text[pos] == '\n') ++pos;
    start = pos;
  }
  if (start < text.size()) lines.emplace_back(text.substr(start));
  return lines;
}

namespace {

// Simple one-to-one case mappings for the blocks listed in python_text.h.
char32_t upper_of(char32_t c) {
  if (c >= 'a' && c <= 'z') return c - 32;
  if (c == 0xB5) return 0x39C;
  if (c == 0xFF) return 0x178;
  if (c >= 0xE0 && c <= 0xFE && c != 0xF7) return c - 32;
  if (c >= 0x100 && c <= 0x17F) {
    bool even_upper = (c <= 0x137) || (c >= 0x14A && c <= 0x177);
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (even_upper && c % 2 == 1) return c - 1;
    if (odd_upper && c % 2 == 0) return c - 1;
    if (c == 0x17F) return 'S';
    return c;
  }
  if (c == 0x3C2) return 0x3A3;
  if ((c >= 0x3B1 && c <= 0x3C1) || (c >= 0x3C3 && c <= 0x3CB)) return c - 32;
  if (c >= 0x430 && c <= 0x44F) return c - 32;
  if (c >= 0x450 && c <= 0x45F) return c - 80;
  return c;
}

char32_t lower_of(char32_t c) {
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c == 0x178) return 0xFF;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x17F) {
    bool even_upper = (c <= 0x137) || (c >= 0x14A && c <= 0x177);
    bool odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (even_upper && c % 2 == 0 && c != 0x130) return c + 1;
    if (odd_upper && c % 2 == 1) return c + 1;
    return c;
  }
  if ((c >= 0x391 && c <= 0x3A1) || (c >= 0x3A3 && c <= 0x3AB)) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

bool is_cased(char32_t c) { return upper_of(c) != c || lower_of(c) != c || c == 0xDF; }

template <typename Map>
std::string map_chars(std::string_view text, Map map) {
  std::string out;
  out.reserve(text.size());
  char32_t cp;
  size_t index = 0;
  for (size_t pos = 0; pos < text.size(); ++index) {
    size_t n = decode_char(text, pos, cp);
    char32_t mapped = map(cp, index);
    if (mapped == cp) {
      out.append(text.substr(pos, n));
    } else {
      append_utf8(out, mapped);
    }
    pos += n;
  }
  return out;
}

}  // namespace

std::string to_upper(std::string_view text) {
  return map_chars(text, [](char32_t c, size_t) { return upper_of(c); });
}

std::string to_lower(std::string_view text) {
  return map_chars(text, [](char32_t c, size_t) { return lower_of(c); });
}

std::string capitalize(std::string_view text) {
  return map_chars(text, [](char32_t c, size_t index) { return index == 0 ? upper_of(c) : lower_of(c); });
}

std::string title_case(std::string_view text) {
  // A cased character is upper case when it follows an uncased one, lower case otherwise.
  bool previous_cased = false;
  return map_chars(text, [&](char32_t c, size_t) {
    bool cased = is_cased(c);
    char32_t mapped = c;
    if (cased) mapped = previous_cased ? lower_of(c) : upper_of(c);
    previous_cased = cased;
    return mapped;
  });
}

std::string float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";

  // The shortest digits that read back as `value`, as "d.ddde+XX".
  char buffer[64];
  auto result = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string scientific(buffer, result.ptr);
  bool negative = scientific[0] == '-';
  if (negative) scientific.erase(0, 1);
  size_t e_pos = scientific.find('e');
  std::string digits = scientific.substr(0, e_pos);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the decimal point
  int exponent = std::stoi(scientific.substr(e_pos + 1));

  // Python switches to exponent notation below 1e-4 and from 1e16 on.
  std::string out = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    out += digits.substr(0, 1);
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1);
    }
    char exponent_text[16];
    std::snprintf(exponent_text, sizeof(exponent_text), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
    return out + exponent_text;
  }
  if (exponent < 0) return out + "0." + std::string(-exponent - 1, '0') + digits;

  size_t integer_digits = static_cast<size_t>(exponent) + 1;
  if (digits.size() <= integer_digits) return out + digits + std::string(integer_digits - digits.size(), '0') + ".0";
  return out + digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
}

namespace {

// Whether repr() prints the character as it is. NOTE: an approximation of
// str.isprintable() that covers control, separator and format characters of
// the common blocks, not the whole Unicode database.
bool is_printable(char32_t c) {
  if (c < 0x20 || c == 0x7F) return false;
  if (c >= 0x80 && c <= 0xA0) return false;
  if (c == 0xAD || c == 0x1680 || c == 0x3000 || c == 0xFEFF) return false;
  if (c >= 0x2000 && c <= 0x200F) return false;
  if (c >= 0x2028 && c <= 0x202F) return false;
  if (c >= 0x205F && c <= 0x206F) return false;
  if (c >= 0xD800 && c <= 0xDFFF) return false;
  return true;
}

void append_hex_escape(std::string& out, char32_t c) {
  char buffer[16];
  if (c < 0x100) {
    std::snprintf(buffer, sizeof(buffer), "\\x%02x", static_cast<unsigned>(c));
  } else if (c < 0x10000) {
    std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(c));
  } else {
    std::snprintf(buffer, sizeof(buffer), "\\U%08x", static_cast<unsigned>(c));
  }
  out += buffer;
}

}  // namespace

std::string string_repr(std::string_view text) {
  bool has_single = text.find('\'') != std::string_view::npos;
  bool has_double = text.find('"') != std::string_view::npos;
  char quote = has_single && !has_double ? '"' : '\'';

  std::string out(1, quote);
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    size_t n = decode_char(text, pos, cp);
    if (cp == static_cast<char32_t>(quote) || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (!is_printable(cp)) {
      append_hex_escape(out, cp);
    } else {
      out.append(text.substr(pos, n));
    }
    pos += n;
  }
  out += quote;
  return out;
}

std::string json_quote(std::string_view text, bool ensure_ascii) {
  std::string out = "\"";
  char32_t cp;
  for (size_t pos = 0; pos < text.size();) {
    size_t n = decode_char(text, pos, cp);
    char buffer[16];
    switch (cp) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
          if (cp >= 0x10000) {
            // Characters beyond the BMP become a UTF-16 surrogate pair.
            char32_t v = cp - 0x10000;
            std::snprintf(buffer, sizeof(buffer), "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                          static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
          } else {
            std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(cp));
          }
          out += buffer;
        } else {
          out.append(text.substr(pos, n));
        }
    }
    pos += n;
  }
  out += '"';
  return out;
}

}  // namespace edgelm::jinja
