#pragma once
// The chat template and special token texts a GGUF model file carries.

#include <string>

#include "gguf/gguf_file.h"

namespace edgelm {

struct ModelChatTemplate {
  std::string template_text;  // tokenizer.chat_template, or empty when the file has none
  std::string bos_token;      // text of the BOS token, empty when the vocabulary has none
  std::string eos_token;      // text of the EOS token, empty when the vocabulary has none
  std::string architecture;   // general.architecture, for choosing a built-in template
};

// Reads the template, the vocabulary's BOS and EOS texts and the
// architecture. Throws Error for an invalid vocabulary.
ModelChatTemplate read_chat_template(const GgufFile& file);

}  // namespace edgelm
