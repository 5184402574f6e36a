#include "gguf/byte_reader.h"

#include <fmt/format.h>

#include "core/error.h"

namespace edgelm {

std::string printable(std::string_view text, size_t max_length) {
  // Valid UTF-8 is shown as it is; otherwise every byte above 0x7f is escaped.
  bool utf8 = is_valid_utf8(text);
  size_t shown_bytes = text.size() < max_length ? text.size() : max_length;
  // Cut before a continuation byte would split a character.
  while (utf8 && shown_bytes > 0 && shown_bytes < text.size() &&
         (static_cast<unsigned char>(text[shown_bytes]) & 0xc0) == 0x80) {
    --shown_bytes;
  }

  std::string out;
  for (size_t i = 0; i < shown_bytes; ++i) {
    auto byte = static_cast<unsigned char>(text[i]);
    bool plain = (byte >= 0x20 && byte < 0x7f && byte != '\\') || (utf8 && byte >= 0x80);
    if (plain) {
      out += static_cast<char>(byte);
    } else {
      out += fmt::format("\\x{:02x}", byte);
    }
  }
  if (shown_bytes < text.size()) out += "...";
  return out;
}

bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }

    // Sequence length and the allowed range of the second byte, which is
    // where overlong forms, surrogates and values past U+10FFFF show up.
    size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0) low = 0xa0;
      if (lead == 0xed) high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0) low = 0x90;
      if (lead == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (text.size() - i < length) return false;

    auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < low || second > high) return false;
    for (size_t k = 2; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if (next < 0x80 || next > 0xbf) return false;
    }
    i += length;
  }
  return true;
}

std::string_view ByteReader::read_string(const FieldName& field) {
  size_t length_offset = offset_;
  require(sizeof(uint64_t), [&] { return field() + " length"; });
  uint64_t length = read_unchecked<uint64_t>();

  if (length > remaining()) {
    fail("{}: {} length {} (at byte {}) is larger than the {} bytes left in the file. {}", file_name_, field(), length,
         length_offset, remaining(), kDamagedFileAdvice);
  }
  std::string_view text(reinterpret_cast<const char*>(data_ + offset_), length);
  offset_ += length;
  return text;
}

uint64_t ByteReader::read_count(const FieldName& field, uint64_t min_element_bytes) {
  size_t count_offset = offset_;
  uint64_t count = read<uint64_t>(field);

  if (count > remaining() / min_element_bytes) {
    fail("{}: {} {} (at byte {}) cannot fit in the {} bytes left in the file ({} bytes each at least). {}", file_name_,
         field(), count, count_offset, remaining(), min_element_bytes, kDamagedFileAdvice);
  }
  return count;
}

void ByteReader::fail_truncated(uint64_t needed, const FieldName& field) const {
  fail("{}: file ends at byte {} inside {}, which needs {} bytes from byte {}. {}", file_name_, size_, field(), needed,
       offset_, kDamagedFileAdvice);
}

}  // namespace edgelm
