#pragma once
// The JSON the OpenAI API sends back: whole responses, stream chunks, usage
// and errors. Text that is not valid UTF-8 is written with U+FFFD.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/job.h"
#include "tokenizer/tokenizer.h"

namespace edgelm::server {

// The fields shared by every response to one request.
struct ResponseInfo {
  bool chat = true;    // "chat.completion" objects or "text_completion"
  std::string id;      // "chatcmpl-..." or "cmpl-..."
  int64_t created = 0; // Unix seconds
  std::string model;   // the model name reported to clients
};

// A fresh random response id with the prefix for `chat`.
std::string make_response_id(bool chat);

// The non-streaming response: one choice with the text, finish_reason,
// logprobs when `with_logprobs` (chat: {"content": [{token, logprob, bytes,
// top_logprobs}]}; completions: {tokens, token_logprobs, top_logprobs,
// text_offset}), and usage with prompt_tokens_details.cached_tokens.
nlohmann::json completion_response(const ResponseInfo& info, const std::string& text,
                                   const std::vector<TokenLogprob>& logprobs, bool with_logprobs,
                                   FinishReason finish_reason, const JobUsage& usage, const Tokenizer& tokenizer);

// One stream chunk ("chat.completion.chunk" or "text_completion"). The first
// chat chunk carries the role; a chunk with finish_reason carries no text.
// `text_offset`: the characters of the tokens in earlier chunks, where this
// chunk's completions text_offset values start.
nlohmann::json stream_chunk(const ResponseInfo& info, std::string_view text, const std::vector<TokenLogprob>& logprobs,
                            bool with_logprobs, bool first, std::optional<FinishReason> finish_reason,
                            const Tokenizer& tokenizer, size_t text_offset = 0);

// Characters of the tokens' text, counted as text_offset counts them.
size_t logprob_characters(const std::vector<TokenLogprob>& logprobs);

// The last chunk when stream_options.include_usage is set: empty choices and usage.
nlohmann::json usage_chunk(const ResponseInfo& info, const JobUsage& usage);

// {"error": {"message", "type", "param", "code"}}, param and code null when empty.
nlohmann::json error_body(const ApiError& error);

// "data: <json>\n\n", invalid UTF-8 replaced.
std::string sse_event(const nlohmann::json& value);

// GET /v1/models: one model object with id `model`, owned_by "edgelm".
nlohmann::json models_response(const std::string& model, int64_t created);

}  // namespace edgelm::server
