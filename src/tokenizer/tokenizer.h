#pragma once
// Text to token ids and back, from the vocabulary a GGUF file carries.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace edgelm {

class GgufFile;

// GGUF token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  UNDEFINED = 0,
  NORMAL = 1,
  UNKNOWN = 2,
  CONTROL = 3,
  USER_DEFINED = 4,
  UNUSED = 5,
  BYTE = 6,
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Builds the tokenizer named by tokenizer.ggml.model. Throws Error for a
  // missing or unsupported model or inconsistent arrays.
  static std::unique_ptr<Tokenizer> from_gguf(const GgufFile& file);

  // Splits text into ids. With add_bos the BOS id is prepended once (when the
  // model's tokenizer.ggml.add_bos_token allows it and the text does not
  // already begin with it). User-defined token texts always become their ids,
  // as in SentencePiece. With parse_special, control token texts such as
  // "<start_of_turn>" (typed CONTROL in Gemma GGUF files) do too.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_bos, bool parse_special) const = 0;

  // Raw bytes of one token: "▁" as a space, <0xNN> byte tokens as that byte,
  // control tokens as empty text unless `show_special`.
  virtual std::string token_bytes(int32_t id, bool show_special = false) const = 0;

  virtual size_t n_vocab() const = 0;
  virtual int32_t bos_id() const = 0;
  virtual int32_t eos_id() const = 0;
  // End-of-generation: EOS, EOT and, for Gemma, <end_of_turn>.
  virtual bool is_end_of_generation(int32_t id) const = 0;
  virtual std::string_view piece(int32_t id) const = 0;  // as stored in the vocab
};

// Turns a stream of token ids into text, holding back the bytes of a UTF-8
// character until it is complete so every chunk it returns is valid UTF-8.
class TokenTextStream {
 public:
  explicit TokenTextStream(const Tokenizer& tokenizer) : tokenizer_(tokenizer) {}

  // Returns the text that became complete with this token (maybe empty).
  std::string push(int32_t id);
  // Returns what is left; an unfinished character becomes U+FFFD.
  std::string finish();

 private:
  const Tokenizer& tokenizer_;
  std::string pending_;
};

}  // namespace edgelm
