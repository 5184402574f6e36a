#pragma once
// The body of POST /v1/chat/completions and POST /v1/completions, read and
// checked. Anything wrong throws ApiError 400 naming the field.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_template.h"

namespace edgelm::server {

// Tokens /v1/completions generates when the request omits max_tokens.
constexpr int32_t kDefaultCompletionTokens = 16;

struct CompletionRequest {
  bool chat = true;   // chat completions (messages) or completions (prompt)
  std::string model;  // as the client named it; empty when omitted

  std::vector<ChatMessage> messages;   // chat
  std::string prompt;                  // completions, text form
  std::vector<int32_t> prompt_tokens;  // completions, token-list form
  bool prompt_is_tokens = false;

  // max_tokens or max_completion_tokens. Unset: until the context is full
  // (chat); completions default to 16, as OpenAI's do.
  std::optional<int32_t> max_tokens;
  float temperature = 1.0f;           // OpenAI's defaults
  float top_p = 1.0f;
  int32_t top_k = 0;  // edgelm extras: 0 and 0 keep every token, 1 disables the penalty
  float min_p = 0.0f;
  float repeat_penalty = 1.0f;
  float presence_penalty = 0.0f;   // -2..2
  float frequency_penalty = 0.0f;  // -2..2
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;  // at most 4, none empty
  bool ignore_eos = false;        // edgelm extra (as in vLLM and llama-server): generate max_tokens tokens

  // Chat: logprobs (bool) and top_logprobs (0..20). Completions: logprobs is
  // the integer count of alternatives (0..5); logprobs there sets both.
  bool logprobs = false;
  int32_t top_logprobs = 0;

  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
};

// Parses a request body; malformed JSON or a body that is not an object gives 400.
nlohmann::json parse_json_body(std::string_view body);

// Reads and checks the fields of a chat completions body. Unknown fields are
// ignored as OpenAI does; `n` other than 1, wrong types and out-of-range
// values give 400 naming the field.
CompletionRequest parse_chat_request(const nlohmann::json& body);

// The same for a completions body: `prompt` is a string, a list of one
// string, or a list of token ids (a list of one such list too).
CompletionRequest parse_completion_request(const nlohmann::json& body);

}  // namespace edgelm::server
