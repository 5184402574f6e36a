#include "chat/chat_messages.h"

#include "core/error.h"

namespace edgelm {
namespace {

std::string content_text(const nlohmann::json& content, size_t index) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) {
    fail("messages[{}].content must be a string or an array of text parts, not {}", index, content.type_name());
  }

  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const nlohmann::json& part = content[i];
    if (!part.is_object() || !part.contains("type") || part["type"] != "text") {
      fail("messages[{}].content[{}] is not a text part; only {{\"type\": \"text\", \"text\": ...}} parts are supported",
           index, i);
    }
    if (!part.contains("text") || !part["text"].is_string()) {
      fail("messages[{}].content[{}].text is missing or not a string", index, i);
    }
    if (i > 0) text += '\n';
    text += part["text"].get<std::string>();
  }
  return text;
}

}  // namespace

std::vector<ChatMessage> messages_from_json(const nlohmann::json& messages) {
  if (!messages.is_array()) fail("the messages must be a JSON array of message objects, not {}", messages.type_name());
  if (messages.empty()) fail("the messages array is empty; give at least one message such as {{\"role\": \"user\", \"content\": \"Hi\"}}");

  std::vector<ChatMessage> result;
  for (size_t i = 0; i < messages.size(); ++i) {
    const nlohmann::json& message = messages[i];
    if (!message.is_object()) fail("messages[{}] must be an object with \"role\" and \"content\", not {}", i, message.type_name());
    if (!message.contains("role") || !message["role"].is_string()) fail("messages[{}].role is missing or not a string", i);
    if (!message.contains("content")) fail("messages[{}].content is missing", i);
    result.push_back(ChatMessage{message["role"].get<std::string>(), content_text(message["content"], i)});
  }
  return result;
}

}  // namespace edgelm
