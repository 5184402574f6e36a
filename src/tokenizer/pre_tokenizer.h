#pragma once
// Splits text into the words that byte-level BPE encodes one at a time, with
// the regular expressions llama.cpp uses for each tokenizer.ggml.pre value.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edgelm {

// The patterns and flags a tokenizer.ggml.pre value selects.
struct PreTokenizerConfig {
  std::string_view name;
  // Each pattern splits the pieces the previous one left into matches and
  // the text between matches.
  std::vector<std::string> patterns;
  // A word that is a whole token becomes that token without merges.
  bool ignore_merges = false;
  // The default of tokenizer.ggml.add_bos_token.
  bool add_bos = false;
};

// Returns the configuration for a tokenizer.ggml.pre value; an empty value
// selects "default", as in llama.cpp. Throws Error naming the value and the
// supported ones for any other value.
const PreTokenizerConfig& find_pre_tokenizer(std::string_view name);

class PreTokenizer {
 public:
  // Compiles the patterns of `config` with PCRE2 (UTF, Unicode properties,
  // JIT when the platform has it).
  explicit PreTokenizer(const PreTokenizerConfig& config);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  // Appends the words of `text`, which must be well-formed UTF-8, as views
  // into `text`. Safe to call from several threads at once. Throws Error when
  // PCRE2 reports a matching error.
  void split(std::string_view text, std::vector<std::string_view>& words) const;

  const PreTokenizerConfig& config() const { return config_; }

 private:
  struct CompiledPattern;

  PreTokenizerConfig config_;
  std::vector<std::unique_ptr<CompiledPattern>> patterns_;
};

}  // namespace edgelm
