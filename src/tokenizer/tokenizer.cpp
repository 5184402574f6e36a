#include "tokenizer/tokenizer.h"

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/spm_tokenizer.h"
#include "tokenizer/vocab.h"

namespace edgelm {

std::unique_ptr<Tokenizer> Tokenizer::from_gguf(const GgufFile& file) {
  Vocab vocab = read_vocab(file);
  if (vocab.model == "llama") {
    return std::make_unique<SpmTokenizer>(std::move(vocab));
  }
  if (vocab.model == "gpt2") {
    if (!file.has("tokenizer.ggml.merges")) {
      fail("{}: tokenizer.ggml.merges is missing; a \"gpt2\" (byte-level BPE) vocabulary needs its merges", file.path());
    }
    try {
      return std::make_unique<BpeTokenizer>(std::move(vocab));
    } catch (const Error& error) {
      fail("{}: {}", file.path(), error.what());
    }
  }
  fail("{}: tokenizer.ggml.model = \"{}\" is not supported; edgelm reads \"llama\" (SentencePiece BPE) and \"gpt2\" "
       "(byte-level BPE)",
       file.path(), vocab.model);
}

}  // namespace edgelm
