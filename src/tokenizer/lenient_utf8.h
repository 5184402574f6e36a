#pragma once
// Malformed UTF-8 as llama.cpp's BPE tokenizer reads it, so edgelm gives the
// same ids for the same bytes.

#include <string>
#include <string_view>

namespace edgelm {

// Text ready for the pre-tokenizer. Both views have the same length and differ
// only where `bytes` has a surrogate code point (ED A0 80 to ED BF BF), which
// PCRE2 rejects and `pattern_text` has as U+FFFD, also three bytes. Splitting
// `pattern_text` therefore gives the word boundaries for `bytes`.
struct LenientText {
  std::string_view bytes;         // what BPE encodes
  std::string_view pattern_text;  // well-formed UTF-8 for the regular expressions
};

// Decodes `text` as llama.cpp does (llama.cpp's unicode_cpts_from_utf8) and
// re-encodes it. A lead byte followed by the right number of continuation
// bytes is one code point, even when overlong (C0 80 becomes 00) or a
// surrogate. Every other byte becomes U+FFFD on its own. Code points above
// U+10FFFF (lead bytes F5 to F7, or F4 90 and up) also become U+FFFD, where
// llama.cpp's tokenizer throws. Well-formed text is returned as it is and
// nothing is copied; otherwise the views point into the two storage strings.
LenientText decode_lenient_utf8(std::string_view text, std::string& bytes_storage, std::string& pattern_storage);

}  // namespace edgelm
