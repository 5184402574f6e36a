#include "tokenizer/lenient_utf8.h"

#include <cstdint>
#include <cstring>

#include "tokenizer/utf8.h"

namespace edgelm {

namespace {

constexpr char32_t kReplacement = 0xFFFD;
constexpr char32_t kMaxCodePoint = 0x10FFFF;

bool is_continuation(uint8_t byte) {
  return (byte & 0xC0) == 0x80;
}

bool is_surrogate(char32_t code_point) {
  return code_point >= 0xD800 && code_point <= 0xDFFF;
}

// True when every byte of `text` is part of a well-formed character.
bool is_well_formed(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    // Skip ASCII eight bytes at a time.
    uint64_t block;
    if (pos + sizeof(block) <= text.size()) {
      std::memcpy(&block, text.data() + pos, sizeof(block));
      if ((block & 0x8080808080808080ull) == 0) {
        pos += sizeof(block);
        continue;
      }
    }

    const Utf8Step step = scan_utf8(text, pos);
    if (step.status != Utf8Status::VALID) {
      return false;
    }
    pos += step.length;
  }
  return true;
}

// One lenient decoding step: the code point and the bytes it covers, or
// U+FFFD for one byte. Mirrors llama.cpp's unicode_cpt_from_utf8 plus the
// U+FFFD that unicode_cpts_from_utf8 substitutes when it throws.
struct LenientStep {
  char32_t code_point;
  size_t length;
};

LenientStep decode_step(std::string_view text, size_t pos) {
  const auto lead = static_cast<uint8_t>(text[pos]);
  if (lead < 0x80) {
    return {lead, 1};
  }

  size_t length;
  char32_t code_point;
  if ((lead & 0x40) == 0) {
    return {kReplacement, 1};  // a continuation byte with no lead
  } else if ((lead & 0x20) == 0) {
    length = 2;
    code_point = lead & 0x1F;
  } else if ((lead & 0x10) == 0) {
    length = 3;
    code_point = lead & 0x0F;
  } else if ((lead & 0x08) == 0) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return {kReplacement, 1};  // F8 to FF start nothing
  }

  if (pos + length > text.size()) {
    return {kReplacement, 1};
  }
  for (size_t i = 1; i < length; ++i) {
    const auto byte = static_cast<uint8_t>(text[pos + i]);
    if (!is_continuation(byte)) {
      return {kReplacement, 1};
    }
    code_point = (code_point << 6) | (byte & 0x3F);
  }
  if (code_point > kMaxCodePoint) {
    return {kReplacement, length};
  }
  return {code_point, length};
}

void append_code_point(char32_t code_point, std::string& out) { append_utf8(out, code_point); }

}  // namespace

LenientText decode_lenient_utf8(std::string_view text, std::string& bytes_storage, std::string& pattern_storage) {
  if (is_well_formed(text)) {
    return {text, text};
  }

  bytes_storage.clear();
  pattern_storage.clear();
  bytes_storage.reserve(text.size() + 16);
  pattern_storage.reserve(text.size() + 16);
  for (size_t pos = 0; pos < text.size();) {
    const LenientStep step = decode_step(text, pos);
    append_code_point(step.code_point, bytes_storage);
    append_code_point(is_surrogate(step.code_point) ? kReplacement : step.code_point, pattern_storage);
    pos += step.length;
  }
  return {bytes_storage, pattern_storage};
}

}  // namespace edgelm
