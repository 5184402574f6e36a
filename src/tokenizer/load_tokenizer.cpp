#include "tokenizer/load_tokenizer.h"

#include <algorithm>
#include <string_view>

#include "core/error.h"
#include "core/mapped_file.h"
#include "gguf/gguf_file.h"
#include "tokenizer/hf_tokenizer.h"
#include "tokenizer/sentencepiece_model.h"

namespace edgelm {

namespace {

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

}  // namespace

TokenizerFileKind detect_tokenizer_file_kind(const std::string& path) {
  const MappedFile file(path);
  const std::string_view head(reinterpret_cast<const char*>(file.data()), std::min<size_t>(file.size(), 64));

  if (head.substr(0, 4) == "GGUF") {
    return TokenizerFileKind::GGUF;
  }
  // JSON may start with a UTF-8 byte order mark and whitespace.
  std::string_view json_head = head.substr(0, 3) == "\xEF\xBB\xBF" ? head.substr(3) : head;
  const size_t first = json_head.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && json_head[first] == '{') {
    return TokenizerFileKind::HF_JSON;
  }

  if (ends_with(path, ".gguf")) {
    return TokenizerFileKind::GGUF;
  }
  if (ends_with(path, ".json")) {
    return TokenizerFileKind::HF_JSON;
  }
  // A ModelProto starts with its repeated field 1 (pieces), length-delimited: tag 0x0A.
  if (ends_with(path, ".model") || (!head.empty() && head[0] == '\x0A')) {
    return TokenizerFileKind::SENTENCEPIECE;
  }
  fail("{}: unknown tokenizer file kind; expected a GGUF file, a Hugging Face tokenizer.json or a SentencePiece "
       "tokenizer.model",
       path);
}

std::unique_ptr<Tokenizer> load_tokenizer_file(const std::string& path) {
  switch (detect_tokenizer_file_kind(path)) {
    case TokenizerFileKind::GGUF:
      return Tokenizer::from_gguf(*GgufFile::open(path));
    case TokenizerFileKind::HF_JSON:
      return HfTokenizer::from_file(path);
    case TokenizerFileKind::SENTENCEPIECE:
      return SentencePieceModel::from_file(path);
  }
  fail("{}: unknown tokenizer file kind", path);
}

}  // namespace edgelm
