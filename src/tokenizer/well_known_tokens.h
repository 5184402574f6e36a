#pragma once
// Token texts that mean the same across vocabularies, for tokenizer files
// that do not store which ids begin or end a text.

#include <string_view>

namespace edgelm {

// Beginning of sequence, in the order they are looked up.
inline constexpr std::string_view kBosTokenTexts[] = {"<bos>", "<s>", "<|begin_of_text|>", "<|startoftext|>"};

// End of sequence, in the order they are looked up.
inline constexpr std::string_view kEosTokenTexts[] = {"<eos>", "</s>", "<|end_of_text|>", "<|endoftext|>"};

// Tokens that end generation besides EOS: the end of a chat turn or message.
inline constexpr std::string_view kEndOfGenerationTexts[] = {
    "<end_of_turn>", "<|eot_id|>", "<|eom_id|>", "<|end_of_text|>", "<|im_end|>", "<|end|>", "<|endoftext|>", "<EOT>",
};

}  // namespace edgelm
