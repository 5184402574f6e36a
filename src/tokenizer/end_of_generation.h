#pragma once
// Which tokens end generation. GGUF metadata names EOS and sometimes EOT and
// EOM; llama.cpp also recognises end tokens by their text, and so does edgelm.

#include <cstdint>
#include <vector>

#include "tokenizer/vocab.h"

namespace edgelm {

// Fills a missing eot_id from the first token text of "<|eot_id|>",
// "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
// "<|end_of_text|>", "<EOT>" that the vocabulary has, and a missing eom_id
// from "<|eom_id|>". llama.cpp fills them from the same texts.
void find_end_tokens_by_text(Vocab& vocab);

// Returns the sorted ids of EOS, EOT, EOM and every token whose text is one of
// those above or "<|eom_id|>".
std::vector<int32_t> end_of_generation_ids(const Vocab& vocab);

}  // namespace edgelm
