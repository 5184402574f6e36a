#include "chat/builtin_templates.h"

namespace edgelm {
namespace {

// Gemma: <start_of_turn>user|model ... <end_of_turn>, content trimmed.
constexpr std::string_view kGemmaTemplate = R"({{- bos_token }}
{%- for message in messages %}
    {%- set role = 'model' if message['role'] == 'assistant' else message['role'] %}
    {{- '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<start_of_turn>model\n' }}
{%- endif %}
)";

// Llama 3.1: a system header that always carries the knowledge cutoff and the
// date, then one header per message, content trimmed.
constexpr std::string_view kLlama3Template = R"({{- bos_token }}
{%- if messages and messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] | trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = '' %}
{%- endif %}
{%- set today = date_string if date_string is defined else '26 Jul 2024' %}
{{- '<|start_header_id|>system<|end_header_id|>\n\n' }}
{{- 'Cutting Knowledge Date: December 2023\nToday Date: ' + today + '\n\n' }}
{{- system_message + '<|eot_id|>' }}
{%- for message in messages %}
    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
)";

// Mistral (v3 Tekken, as in Mistral NeMo): [INST]user[/INST]assistant</s>, the
// system message prepended to the last user message.
constexpr std::string_view kMistralTemplate = R"({%- if messages and messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message['role'] == 'user' %}
        {%- if loop.last and system_message is defined %}
            {{- '[INST]' + system_message + '\n\n' + message['content'] + '[/INST]' }}
        {%- else %}
            {{- '[INST]' + message['content'] + '[/INST]' }}
        {%- endif %}
    {%- else %}
        {{- message['content'] + eos_token }}
    {%- endif %}
{%- endfor %}
)";

// ChatML: <|im_start|>role\ncontent<|im_end|>\n per message.
constexpr std::string_view kChatmlTemplate = R"({%- for message in messages %}
    {{- '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
)";

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

}  // namespace

std::string_view chat_family_name(ChatFamily family) {
  switch (family) {
    case ChatFamily::gemma: return "gemma";
    case ChatFamily::llama3: return "llama3";
    case ChatFamily::mistral: return "mistral";
    case ChatFamily::chatml: return "chatml";
    case ChatFamily::unknown: break;
  }
  return "unknown";
}

ChatFamily detect_chat_family(std::string_view template_text, std::string_view hint, std::string_view bos_token,
                              std::string_view eos_token) {
  if (contains(template_text, "<start_of_turn>")) return ChatFamily::gemma;
  if (contains(template_text, "<|start_header_id|>")) return ChatFamily::llama3;
  if (contains(template_text, "[INST]")) return ChatFamily::mistral;
  if (contains(template_text, "<|im_start|>")) return ChatFamily::chatml;

  for (ChatFamily family : {ChatFamily::gemma, ChatFamily::llama3, ChatFamily::mistral, ChatFamily::chatml}) {
    if (hint == chat_family_name(family)) return family;
  }
  if (hint.substr(0, 5) == "gemma") return ChatFamily::gemma;
  if (hint.substr(0, 4) == "qwen" || eos_token == "<|im_end|>") return ChatFamily::chatml;
  if (hint == "llama") {
    if (bos_token == "<|begin_of_text|>") return ChatFamily::llama3;
    if (bos_token == "<s>") return ChatFamily::mistral;
  }
  return ChatFamily::unknown;
}

std::string_view builtin_chat_template(ChatFamily family) {
  switch (family) {
    case ChatFamily::gemma: return kGemmaTemplate;
    case ChatFamily::llama3: return kLlama3Template;
    case ChatFamily::mistral: return kMistralTemplate;
    case ChatFamily::chatml: return kChatmlTemplate;
    case ChatFamily::unknown: break;
  }
  return {};
}

}  // namespace edgelm
