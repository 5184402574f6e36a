#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/vocab.h"

namespace edgelm {

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  Vocab vocab = read_vocab(file);
  if (vocab.model == "llama") {
    return std::make_unique<SpmTokenizer>(std::move(vocab));
  }
  fail("{}: tokenizer.ggml.model = \"{}\" is not supported; edgelm reads \"llama\" (SentencePiece BPE)",
       file.path(), vocab.model);
}

}  // namespace edgelm
