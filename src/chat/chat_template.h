#pragma once
// Turns a conversation into the prompt text a chat model was trained on, by
// rendering the model's Jinja chat template as Hugging Face does.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/jinja/template.h"

namespace edgelm {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant", ...
  std::string content;
};

class ChatTemplate {
 public:
  // Parses the template; throws jinja::TemplateError (an Error) with the
  // line on a syntax error.
  ChatTemplate(std::string_view template_text, std::string bos_token, std::string eos_token);

  // Renders with the variables Hugging Face passes: messages, bos_token,
  // eos_token, add_generation_prompt, and tools and documents set to none.
  // Throws jinja::TemplateError: kind `raised` when the template called
  // raise_exception(), `runtime` for other failures.
  std::string render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const;

  // Sets the date_string variable that Llama 3.1 templates print. Unset, the
  // template uses its own default ("26 Jul 2024"), as Hugging Face renders it.
  void set_date_string(std::string date_string) { date_string_ = std::move(date_string); }

 private:
  jinja::Template template_;
  std::string bos_token_;
  std::string eos_token_;
  std::optional<std::string> date_string_;
};

// Renders `messages` with the model's template `template_text` (empty when
// the model has none):
// - When the template raises on a leading system message (Gemma's does),
//   the system text is folded into the first user turn as
//   system + "\n\n" + user, and the template is rendered again.
// - When the template is empty, invalid or fails for another reason, the
//   built-in template of the model's family is used instead and a warning is
//   logged. The family comes from the template text, the token texts or
//   `family_hint` (an architecture such as "gemma2" or a family name).
// Throws Error when the template raises on the conversation after folding,
// or when it cannot be used and no built-in template matches.
std::string apply_chat_template(std::string_view template_text, const std::string& bos_token,
                                const std::string& eos_token, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, std::string_view family_hint);

// `messages` with a leading system message merged into the first user
// message, or turned into a user message when no user message follows it.
std::vector<ChatMessage> fold_system_message(const std::vector<ChatMessage>& messages);

}  // namespace edgelm
