#pragma once
// The tokenizer keys that gguf-py's SpecialVocab (gguf/vocab.py) adds after
// the vocabulary: BPE merges, special token ids, the add-BOS/EOS/SEP flags,
// the chat templates and the normalizer flags, read from tokenizer.json,
// tokenizer_config.json, config.json and the chat template files.

#include <cstdint>
#include <optional>
#include <string>

#include "hf/gguf_metadata_builder.h"

namespace edgelm {

struct SpecialVocabOptions {
  // Write tokenizer.ggml.merges from tokenizer.json (or merges.txt).
  bool load_merges = false;
  // Special token ids at or above this count are skipped, as the converter
  // does for SentencePiece vocabularies; nullopt accepts any id.
  std::optional<uint32_t> n_vocab;
};

// Appends the keys to `metadata` in the converter's order. Throws Error
// naming the file for malformed JSON, merges of an unknown form or a
// negative special token id.
void add_special_vocab(const std::string& dir, const SpecialVocabOptions& options, GgufMetadataBuilder& metadata);

}  // namespace edgelm
