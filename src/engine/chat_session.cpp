#include "engine/chat_session.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"

namespace edgelm {

ChatSession::ChatSession(Context& context, Sampler& sampler, Renderer render, std::string system_prompt)
    : context_(context), sampler_(sampler), render_(std::move(render)), system_prompt_(std::move(system_prompt)) {
  reset();
}

void ChatSession::reset() {
  messages_.clear();
  if (!system_prompt_.empty()) messages_.push_back({"system", system_prompt_});
  evaluated_.clear();
  context_.reset();
}

GenerationStats ChatSession::reply(const std::string& user_text, int32_t max_tokens, const TextCallback& on_text,
                                   const std::atomic<bool>& cancel) {
  messages_.push_back({"user", user_text});
  const Tokenizer& tokenizer = context_.model().tokenizer();
  std::vector<int32_t> prompt = tokenizer.encode(render_(messages_), /*add_bos=*/true, /*parse_special=*/true);

  // Keep the part of the KV cache that matches the new prompt. The template
  // may render earlier replies differently from the generated tokens (Gemma's
  // trims them), so the match can end before the cache does. Cutting the
  // cache back is possible only while no sliding-window ring has wrapped.
  size_t common = 0;
  size_t max_common = std::min(evaluated_.size(), prompt.size() - 1);
  while (common < max_common && evaluated_[common] == prompt[common]) ++common;
  if (!context_.truncate(static_cast<uint32_t>(common))) {
    context_.reset();
    common = 0;
  }
  evaluated_.resize(common);
  std::vector<int32_t> suffix(prompt.begin() + static_cast<std::ptrdiff_t>(evaluated_.size()), prompt.end());
  spdlog::debug("chat turn {}: {} prompt tokens, {} reused from the cache", messages_.size(), prompt.size(),
                evaluated_.size());

  size_t room = context_.n_ctx() - context_.n_past();
  if (suffix.size() >= room) {
    messages_.pop_back();
    fail("the conversation ({} tokens) no longer fits in the context of {} tokens; /reset to start over or raise -c",
         prompt.size(), context_.n_ctx());
  }
  int32_t limit = static_cast<int32_t>(room - suffix.size());
  if (max_tokens >= 0) limit = std::min(limit, max_tokens);

  std::string text;
  GenerationStats stats = generate(context_, suffix, limit, sampler_, [&](std::string_view piece) {
    text += piece;
    on_text(piece);
    return !cancel.load();
  });

  // The cache contains the prompt and the generated tokens that were evaluated:
  // all of them after an end token, all but the last after a length stop or a cancel.
  evaluated_ = prompt;
  evaluated_.insert(evaluated_.end(), stats.tokens.begin(), stats.tokens.end());
  evaluated_.resize(context_.n_past());
  messages_.push_back({"assistant", text});
  return stats;
}

}  // namespace edgelm
