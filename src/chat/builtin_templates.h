#pragma once
// Chat templates built into edgelm for models whose GGUF file has no usable one.

#include <string_view>

namespace edgelm {

enum class ChatFamily { unknown, gemma, llama3, mistral, chatml };

// The family's name as users see it: "gemma", "llama3", "mistral", "chatml".
std::string_view chat_family_name(ChatFamily family);

// Detects the prompt format: first from marker tokens in the template text
// (<start_of_turn>, <|start_header_id|>, [INST], <|im_start|>), then from
// `hint` (a family name or a general.architecture value such as "gemma2",
// "qwen2" or "llama", where the BOS and EOS texts tell Llama 3 from Mistral).
ChatFamily detect_chat_family(std::string_view template_text, std::string_view hint, std::string_view bos_token,
                              std::string_view eos_token);

// Jinja source of the family's built-in template. Gemma's expects no system
// message: callers fold it into the first user turn first.
std::string_view builtin_chat_template(ChatFamily family);

}  // namespace edgelm
