#pragma once
// Opens a tokenizer from any file kind edgelm reads, chosen by content and name.

#include <memory>
#include <string>

#include "tokenizer/tokenizer.h"

namespace edgelm {

enum class TokenizerFileKind {
  GGUF,           // a GGUF model or vocabulary file
  HF_JSON,        // a Hugging Face tokenizer.json
  SENTENCEPIECE,  // a SentencePiece tokenizer.model (serialized ModelProto)
};

// Decides the kind from the first bytes ("GGUF", or "{" after whitespace),
// then from the extension (.gguf, .json, .model), then from the protobuf tag
// a SentencePiece model begins with. Throws Error when the file cannot be
// opened or matches no kind.
TokenizerFileKind detect_tokenizer_file_kind(const std::string& path);

// Loads the tokenizer of a GGUF file (only its vocabulary is read), a
// tokenizer.json or a tokenizer.model. Throws Error naming the file.
std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path);

}  // namespace edgelm
