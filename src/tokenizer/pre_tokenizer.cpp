#include "tokenizer/pre_tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <array>

#include "core/error.h"
#include "tokenizer/utf8.h"

namespace edgelm {

namespace {

// NOTE: \p{L} and \p{N} come from PCRE2's Unicode tables (Unicode 14 in
// PCRE2 10.42, Debian 12's), llama.cpp's from tables it generates with Python,
// which may be of another Unicode version. Characters assigned in between can
// split differently.

// The Unicode White_Space property, which llama.cpp's tables use for \s.
// PCRE2's own \s also matches U+180E, so the patterns spell the class out.
#define EDGELM_WHITESPACE R"(\t\n\x0B\f\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000})"

// Llama 3 (tiktoken's cl100k pattern). The case-insensitive group
// (?i:'s|'t|...) is spelled with explicit letter pairs, as in llama.cpp,
// because PCRE2's caseless matching would also accept U+017F for "s".
constexpr std::string_view kLlama3Pattern =
    R"((?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]))"
    R"(|[^\r\n\p{L}\p{N}]?\p{L}+)"
    R"(|\p{N}{1,3})"
    R"(| ?[^)" EDGELM_WHITESPACE R"(\p{L}\p{N}]+[\r\n]*)"
    R"(|[)" EDGELM_WHITESPACE R"(]*[\r\n]+)"
    R"(|[)" EDGELM_WHITESPACE R"(]+(?![^)" EDGELM_WHITESPACE R"(]))"
    R"(|[)" EDGELM_WHITESPACE R"(]+)";

// GPT-2's pattern as llama.cpp lists it (without GPT-2's final \s+, which
// changes nothing because text between matches is kept as a word).
constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+)"
    R"(| ?[^)" EDGELM_WHITESPACE R"(\p{L}\p{N}]+)"
    R"(|[)" EDGELM_WHITESPACE R"(]+(?![^)" EDGELM_WHITESPACE R"(]))";

// Mistral NeMo's tekken pattern, as its tokenizer.json gives it: letters
// split at lower-to-upper case changes, digits one at a time.
constexpr std::string_view kTekkenPattern =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+)"
    R"(|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*)"
    R"(|\p{N})"
    R"(| ?[^)" EDGELM_WHITESPACE R"(\p{L}\p{N}]+[\r\n/]*)"
    R"(|[)" EDGELM_WHITESPACE R"(]*[\r\n]+)"
    R"(|[)" EDGELM_WHITESPACE R"(]+(?![^)" EDGELM_WHITESPACE R"(]))"
    R"(|[)" EDGELM_WHITESPACE R"(]+)";

#undef EDGELM_WHITESPACE

const std::vector<PreTokenizerConfig>& configs() {
  static const std::vector<PreTokenizerConfig> all = {
      {"llama-bpe", {std::string(kLlama3Pattern)}, true, true},
      {"llama3", {std::string(kLlama3Pattern)}, true, true},
      {"llama-v3", {std::string(kLlama3Pattern)}, true, true},
      {"gpt-2", {std::string(kGpt2Pattern)}, false, false},
      {"tekken", {std::string(kTekkenPattern)}, true, true},
      {"default",
       {R"([\p{P}\$\+<=>\^~\|]+)", std::string(kGpt2Pattern), R"(\p{N}+)", R"([0-9][0-9][0-9])"},
       false,
       false},
  };
  return all;
}

std::string pcre2_message(int code) {
  std::array<PCRE2_UCHAR, 256> buffer{};
  if (pcre2_get_error_message(code, buffer.data(), buffer.size()) < 0) {
    return fmt::format("PCRE2 error {}", code);
  }
  return reinterpret_cast<const char*>(buffer.data());
}

}  // namespace

const PreTokenizerConfig& find_pre_tokenizer(std::string_view name) {
  const std::string_view requested = name.empty() ? "default" : name;
  std::string supported;
  for (const PreTokenizerConfig& config : configs()) {
    if (config.name == requested) {
      return config;
    }
    supported += supported.empty() ? "" : ", ";
    supported += fmt::format("\"{}\"", config.name);
  }
  fail("tokenizer.ggml.pre = \"{}\" is not a supported pre-tokenizer; edgelm supports {}", name, supported);
}

struct PreTokenizer::CompiledPattern {
  pcre2_code* code = nullptr;

  ~CompiledPattern() { pcre2_code_free(code); }
};

namespace {

// Match data for one pattern, freed on every path out of a split.
class MatchData {
 public:
  explicit MatchData(const pcre2_code* code) : data_(pcre2_match_data_create_from_pattern(code, nullptr)) {
    if (data_ == nullptr) {
      throw std::bad_alloc();
    }
  }
  ~MatchData() { pcre2_match_data_free(data_); }
  MatchData(const MatchData&) = delete;
  MatchData& operator=(const MatchData&) = delete;

  pcre2_match_data* get() const { return data_; }

 private:
  pcre2_match_data* data_;
};

// Appends the matches of `code` in `piece` and the runs of text between them.
void split_piece(const pcre2_code* code, pcre2_match_data* data, std::string_view piece,
                 std::vector<std::string_view>& out) {
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  size_t gap_begin = 0;
  size_t search_from = 0;

  while (search_from < piece.size()) {
    // The text was checked once by the caller; PCRE2's own check would
    // rescan it on every call.
    const int rc = pcre2_match(code, subject, piece.size(), search_from, PCRE2_NO_UTF_CHECK, data, nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) {
      break;
    }
    if (rc < 0) {
      fail("pre-tokenizer: PCRE2 matching failed at byte {}: {}", search_from, pcre2_message(rc));
    }

    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
    const size_t begin = ovector[0];
    const size_t end = ovector[1];

    // An empty match splits nothing; search again one character later.
    if (end == begin) {
      search_from = begin + scan_utf8(piece, begin).length;
      continue;
    }

    if (begin > gap_begin) {
      out.push_back(piece.substr(gap_begin, begin - gap_begin));
    }
    out.push_back(piece.substr(begin, end - begin));
    gap_begin = end;
    search_from = end;
  }

  if (gap_begin < piece.size()) {
    out.push_back(piece.substr(gap_begin));
  }
}

}  // namespace

PreTokenizer::PreTokenizer(const PreTokenizerConfig& config) : config_(config) {
  for (const std::string& pattern : config_.patterns) {
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    auto compiled = std::make_unique<CompiledPattern>();
    compiled->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   PCRE2_UTF | PCRE2_UCP, &error_code, &error_offset, nullptr);
    if (compiled->code == nullptr) {
      fail("pre-tokenizer \"{}\": cannot compile pattern {} at offset {}: {}", config_.name, pattern, error_offset,
           pcre2_message(error_code));
    }

    // Without JIT (an unsupported CPU, or JIT disabled in the PCRE2 build)
    // pcre2_match interprets the pattern, which is slower but gives the same
    // matches.
    pcre2_jit_compile(compiled->code, PCRE2_JIT_COMPLETE);
    patterns_.push_back(std::move(compiled));
  }
}

PreTokenizer::~PreTokenizer() = default;

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>& words) const {
  if (text.empty() || patterns_.empty()) {
    if (!text.empty()) {
      words.push_back(text);
    }
    return;
  }

  const size_t first = words.size();
  {
    const MatchData data(patterns_.front()->code);
    split_piece(patterns_.front()->code, data.get(), text, words);
  }

  // Each further pattern splits the pieces the previous ones produced.
  std::vector<std::string_view> pieces;
  for (size_t i = 1; i < patterns_.size(); ++i) {
    pieces.assign(words.begin() + static_cast<std::ptrdiff_t>(first), words.end());
    words.resize(first);
    const MatchData data(patterns_[i]->code);
    for (std::string_view piece : pieces) {
      split_piece(patterns_[i]->code, data.get(), piece, words);
    }
  }
}

}  // namespace edgelm
