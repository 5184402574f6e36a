#pragma once
// Reads chat messages in the OpenAI chat completions format.

#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"

namespace edgelm {

// Converts an OpenAI `messages` array: each element an object with a string
// "role" and a "content" that is a string or an array of {"type": "text",
// "text": ...} parts, which are joined with newlines. Throws Error naming the
// message index and field that is missing or of the wrong type, and for an
// empty array.
std::vector<ChatMessage> messages_from_json(const nlohmann::json& messages);

}  // namespace edgelm
