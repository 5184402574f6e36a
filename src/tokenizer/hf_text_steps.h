#pragma once
// The text steps of a Hugging Face tokenizer.json around the model: the
// normalizer, the pre-tokenizer and the decoder. Each reads the kinds that
// SentencePiece-style BPE files (Gemma, Llama 2) use and throws Error naming
// the field for any other kind, rather than encode differently.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/hf_json.h"

namespace edgelm::hf {

// "normalizer": Replace with a string pattern, Prepend, and Sequence of those.
class Normalizer {
 public:
  // `normalizer` may be null (no normalization).
  static Normalizer from_json(const Json* normalizer, const JsonPath& where);

  std::string apply(std::string_view text) const;

 private:
  struct Step {
    std::string pattern;      // Replace: the text to replace; empty for Prepend
    std::string replacement;  // Replace: what replaces it; Prepend: the prefix
  };

  void add(const Json& normalizer, const JsonPath& where, int depth);

  std::vector<Step> steps_;
};

// "pre_tokenizer": Split with a string pattern, Metaspace, and Sequence of those.
class PreTokenizer {
 public:
  // `pre_tokenizer` may be null (the whole text is one word).
  static PreTokenizer from_json(const Json* pre_tokenizer, const JsonPath& where);

  // Splits normalized text into the words the model encodes one by one.
  // `at_text_start` is true for the part of the input that begins it, which
  // is where Metaspace's prepend_scheme "first" adds its prefix.
  std::vector<std::string> split(std::string text, bool at_text_start) const;

 private:
  enum class Kind { SPLIT, METASPACE };
  // Placement of a delimiter when splitting, named as in tokenizer.json.
  enum class Behavior { REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS };
  enum class Prepend { ALWAYS, FIRST, NEVER };

  struct Step {
    Kind kind;
    std::string pattern;  // Split: the delimiter; Metaspace: the replacement for spaces
    Behavior behavior = Behavior::REMOVED;
    Prepend prepend = Prepend::ALWAYS;  // Metaspace only
    bool split = true;                  // Metaspace only: split before each replacement
  };

  void add(const Json& pre_tokenizer, const JsonPath& where, int depth);
  static void split_word(std::string_view word, std::string_view delimiter, Behavior behavior,
                         std::vector<std::string>& words);

  std::vector<Step> steps_;
};

// "decoder", applied to one token at a time: Replace with a string pattern,
// ByteFallback, Fuse, Strip, Metaspace, and Sequence of those.
class Decoder {
 public:
  // `decoder` may be null (pieces are their own text).
  static Decoder from_json(const Json* decoder, const JsonPath& where);

  // Returns the bytes one token contributes to decoded text. Steps that act
  // on the whole decoded text are left out, so the bytes of a token do not
  // depend on its position. Those are Strip's removal of a leading space and
  // Metaspace's removal of the first prefix. Fuse does nothing to one token.
  std::string token_bytes(std::string_view piece) const;

 private:
  enum class Kind { REPLACE, BYTE_FALLBACK };

  struct Step {
    Kind kind;
    std::string pattern;  // Replace
    std::string replacement;
  };

  void add(const Json& decoder, const JsonPath& where, int depth);

  std::vector<Step> steps_;
};

// Replaces each occurrence of `pattern` (non-empty) in `text`.
std::string replace_all(std::string_view text, std::string_view pattern, std::string_view replacement);

}  // namespace edgelm::hf
