#include "chat/chat_template.h"

#include <spdlog/spdlog.h>

#include "chat/builtin_templates.h"
#include "chat/jinja/template_error.h"

namespace edgelm {

using jinja::TemplateError;
using jinja::TemplateErrorKind;

ChatTemplate::ChatTemplate(std::string_view template_text, std::string bos_token, std::string eos_token)
    : template_(template_text), bos_token_(std::move(bos_token)), eos_token_(std::move(eos_token)) {}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool add_generation_prompt) const {
  std::vector<jinja::Value> items;
  items.reserve(messages.size());
  for (const ChatMessage& message : messages) {
    jinja::Dict dict;
    dict.set("role", jinja::Value(message.role));
    dict.set("content", jinja::Value(message.content));
    items.push_back(jinja::Value::dict(std::move(dict)));
  }

  jinja::Dict variables;
  variables.set("messages", jinja::Value::list(std::move(items)));
  variables.set("bos_token", jinja::Value(bos_token_));
  variables.set("eos_token", jinja::Value(eos_token_));
  variables.set("add_generation_prompt", jinja::Value(add_generation_prompt));
  variables.set("tools", jinja::Value::none());
  variables.set("documents", jinja::Value::none());
  if (date_string_) variables.set("date_string", jinja::Value(*date_string_));
  return template_.render(variables);
}

std::vector<ChatMessage> fold_system_message(const std::vector<ChatMessage>& messages) {
  if (messages.empty() || messages[0].role != "system") return messages;
  std::vector<ChatMessage> folded(messages.begin() + 1, messages.end());
  if (!folded.empty() && folded[0].role == "user") {
    folded[0].content = messages[0].content + "\n\n" + folded[0].content;
  } else {
    folded.insert(folded.begin(), ChatMessage{"user", messages[0].content});
  }
  return folded;
}

namespace {

std::string render_builtin(ChatFamily family, const std::string& bos_token, const std::string& eos_token,
                           const std::vector<ChatMessage>& messages, bool add_generation_prompt) {
  ChatTemplate builtin(builtin_chat_template(family), bos_token, eos_token);
  // The built-in Gemma template has no system turn, as Gemma has none.
  const std::vector<ChatMessage>& input = family == ChatFamily::gemma ? fold_system_message(messages) : messages;
  return builtin.render(input, add_generation_prompt);
}

[[noreturn]] void fail_rejected(const TemplateError& e) {
  fail("the chat template rejected the conversation: {} (template line {})", e.message(), e.line());
}

// Renders with the model's template, folding a system message that the template raises on.
std::string render_model_template(const ChatTemplate& chat_template, const std::vector<ChatMessage>& messages,
                                  bool add_generation_prompt) {
  try {
    return chat_template.render(messages, add_generation_prompt);
  } catch (const TemplateError& e) {
    if (e.kind() != TemplateErrorKind::raised || messages.empty() || messages[0].role != "system") throw;
    spdlog::debug("chat template raised '{}' on the system message; folding it into the first user message", e.message());
  }
  try {
    return chat_template.render(fold_system_message(messages), add_generation_prompt);
  } catch (const TemplateError& e) {
    if (e.kind() == TemplateErrorKind::raised) fail_rejected(e);
    throw;
  }
}

}  // namespace

std::string apply_chat_template(std::string_view template_text, const std::string& bos_token,
                                const std::string& eos_token, const std::vector<ChatMessage>& messages,
                                bool add_generation_prompt, std::string_view family_hint) {
  ChatFamily family = detect_chat_family(template_text, family_hint, bos_token, eos_token);

  if (template_text.empty()) {
    if (family == ChatFamily::unknown) {
      fail("the model has no chat template and no built-in template matches its architecture '{}'; "
           "pass a template file with --template",
           family_hint);
    }
    spdlog::warn("the model has no chat template; using the built-in {} template", chat_family_name(family));
    return render_builtin(family, bos_token, eos_token, messages, add_generation_prompt);
  }

  try {
    ChatTemplate chat_template(template_text, bos_token, eos_token);
    return render_model_template(chat_template, messages, add_generation_prompt);
  } catch (const TemplateError& e) {
    if (e.kind() == TemplateErrorKind::raised) fail_rejected(e);
    if (family == ChatFamily::unknown) {
      std::string architecture = family_hint.empty() ? "" : fmt::format(" for architecture '{}'", family_hint);
      fail("the chat template cannot be rendered: {}; there is no built-in template{} to use instead, "
           "so pass a working template file with --template",
           e.what(), architecture);
    }
    spdlog::warn("the chat template cannot be rendered ({}); using the built-in {} template instead", e.what(),
                 chat_family_name(family));
  }
  return render_builtin(family, bos_token, eos_token, messages, add_generation_prompt);
}

}  // namespace edgelm
