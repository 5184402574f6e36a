#pragma once
// A multi-turn conversation with one model: renders the history with the
// model's chat template, evaluates only the tokens the KV cache lacks, and
// streams each reply.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "engine/generator.h"
#include "model/context.h"
#include "sample/sampler.h"

namespace edgelm {

class ChatSession {
 public:
  // Renders a conversation (with the generation prompt for the next reply) as prompt text.
  using Renderer = std::function<std::string(const std::vector<ChatMessage>& messages)>;

  ChatSession(Context& context, Sampler& sampler, Renderer render, std::string system_prompt);

  // Adds a user message, generates the reply (at most max_tokens, -1 for
  // until end of turn or a full context) and returns it. `on_text` gets the
  // reply as it is generated. Generation stops early, keeping what was
  // generated, when `cancel` becomes true. Throws Error when the conversation
  // no longer fits in the context.
  GenerationStats reply(const std::string& user_text, int32_t max_tokens, const TextCallback& on_text,
                        const std::atomic<bool>& cancel);

  // Forgets every turn but the system prompt.
  void reset();

  const std::vector<ChatMessage>& messages() const { return messages_; }

 private:
  Context& context_;
  Sampler& sampler_;
  Renderer render_;
  std::string system_prompt_;
  std::vector<ChatMessage> messages_;
  std::vector<int32_t> evaluated_;  // the tokens in the KV cache, in order
};

}  // namespace edgelm
