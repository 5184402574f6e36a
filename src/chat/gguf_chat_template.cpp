#include "chat/gguf_chat_template.h"

#include "tokenizer/vocab.h"

namespace edgelm {

ModelChatTemplate read_chat_template(const GgufFile& file) {
  ModelChatTemplate result;
  result.template_text = file.find_string("tokenizer.chat_template").value_or("");
  result.architecture = file.find_string("general.architecture").value_or("");

  // read_vocab applies the same BOS/EOS defaults the tokenizer uses.
  Vocab vocab = read_vocab(file);
  auto token_text = [&](int32_t id) {
    return id >= 0 && static_cast<size_t>(id) < vocab.tokens.size() ? vocab.tokens[id] : std::string();
  };
  result.bos_token = token_text(vocab.bos_id);
  result.eos_token = token_text(vocab.eos_id);
  return result;
}

}  // namespace edgelm
