#include "server/openai_response.h"

#include <random>

#include "tokenizer/utf8.h"

namespace edgelm::server {
namespace {

using nlohmann::json;

// `text` as valid UTF-8, so the JSON value can be dumped by any caller.
// Tokens may end inside a character, and clients expect a string in "token".
std::string valid_utf8(std::string_view text) { return replace_invalid_utf8(text); }

// The raw bytes of a token as OpenAI's "bytes" field lists them: integers 0..255.
json byte_values(std::string_view bytes) {
  json values = json::array();
  for (char byte : bytes) values.push_back(static_cast<unsigned char>(byte));
  return values;
}

// Characters in `bytes`, counting each UTF-8 lead byte, so a character split
// across two tokens counts once.
size_t count_characters(std::string_view bytes) {
  size_t count = 0;
  for (char byte : bytes) {
    if ((static_cast<unsigned char>(byte) & 0xC0) != 0x80) ++count;
  }
  return count;
}

const char* finish_reason_text(FinishReason reason) {
  // kCancelled never reaches a client and kError is sent as an error body.
  // Either one here is a caller's mistake, and "stop" keeps the response valid.
  return reason == FinishReason::kLength ? "length" : "stop";
}

json chat_token_entry(std::string_view bytes, float logprob) {
  return json{{"token", valid_utf8(bytes)}, {"logprob", logprob}, {"bytes", byte_values(bytes)}};
}

// Chat: {"content": [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}]}.
json chat_logprobs(const std::vector<TokenLogprob>& logprobs, const Tokenizer& tokenizer) {
  json content = json::array();
  for (const TokenLogprob& entry : logprobs) {
    json item = chat_token_entry(entry.bytes, entry.logprob);
    json top = json::array();
    for (const auto& [id, logprob] : entry.top) top.push_back(chat_token_entry(tokenizer.token_bytes(id), logprob));
    item["top_logprobs"] = std::move(top);
    content.push_back(std::move(item));
  }
  return json{{"content", std::move(content)}};
}

// Completions: {tokens, token_logprobs, top_logprobs: [{token: logprob}], text_offset}.
// text_offset counts characters from the start of the generated text; a
// stream chunk starts at `offset`, the characters its earlier chunks carried.
// NOTE: OpenAI's legacy API may count from the start of the prompt instead.
json completion_logprobs(const std::vector<TokenLogprob>& logprobs, const Tokenizer& tokenizer, size_t offset) {
  json tokens = json::array();
  json token_logprobs = json::array();
  json top_logprobs = json::array();
  json text_offset = json::array();
  for (const TokenLogprob& entry : logprobs) {
    tokens.push_back(valid_utf8(entry.bytes));
    token_logprobs.push_back(entry.logprob);

    // Two alternatives with the same text keep the higher log-probability,
    // which comes first.
    json top = json::object();
    for (const auto& [id, logprob] : entry.top) {
      std::string token = valid_utf8(tokenizer.token_bytes(id));
      if (!top.contains(token)) top[token] = logprob;
    }
    top_logprobs.push_back(std::move(top));

    text_offset.push_back(offset);
    offset += count_characters(entry.bytes);
  }
  return json{{"tokens", std::move(tokens)},
              {"token_logprobs", std::move(token_logprobs)},
              {"top_logprobs", std::move(top_logprobs)},
              {"text_offset", std::move(text_offset)}};
}

json logprobs_value(bool chat, const std::vector<TokenLogprob>& logprobs, const Tokenizer& tokenizer,
                    size_t offset = 0) {
  return chat ? chat_logprobs(logprobs, tokenizer) : completion_logprobs(logprobs, tokenizer, offset);
}

json usage_value(const JobUsage& usage) {
  return json{{"prompt_tokens", usage.prompt_tokens},
              {"completion_tokens", usage.completion_tokens},
              {"total_tokens", usage.prompt_tokens + usage.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", usage.cached_tokens}}}};
}

// The fields every response object starts with.
json response_head(const ResponseInfo& info, const char* object) {
  return json{{"id", info.id}, {"object", object}, {"created", info.created}, {"model", valid_utf8(info.model)}};
}

}  // namespace

std::string make_response_id(bool chat) {
  static constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<size_t> pick(0, kAlphabet.size() - 1);

  std::string id = chat ? "chatcmpl-" : "cmpl-";
  for (int i = 0; i < 24; ++i) id += kAlphabet[pick(rng)];
  return id;
}

json completion_response(const ResponseInfo& info, const std::string& text, const std::vector<TokenLogprob>& logprobs,
                         bool with_logprobs, FinishReason finish_reason, const JobUsage& usage,
                         const Tokenizer& tokenizer) {
  json choice = {{"index", 0}};
  if (info.chat) {
    choice["message"] = {{"role", "assistant"}, {"content", valid_utf8(text)}, {"refusal", nullptr}};
  } else {
    choice["text"] = valid_utf8(text);
  }
  choice["logprobs"] = with_logprobs ? logprobs_value(info.chat, logprobs, tokenizer) : json(nullptr);
  choice["finish_reason"] = finish_reason_text(finish_reason);

  json response = response_head(info, info.chat ? "chat.completion" : "text_completion");
  response["choices"] = json::array({std::move(choice)});
  response["usage"] = usage_value(usage);
  return response;
}

json stream_chunk(const ResponseInfo& info, std::string_view text, const std::vector<TokenLogprob>& logprobs,
                  bool with_logprobs, bool first, std::optional<FinishReason> finish_reason,
                  const Tokenizer& tokenizer, size_t text_offset) {
  json choice = {{"index", 0}};
  if (info.chat) {
    // The first chunk names the role with empty or first content; the last
    // one, with finish_reason, has an empty delta.
    json delta = json::object();
    if (first) delta["role"] = "assistant";
    if (first || !text.empty()) delta["content"] = valid_utf8(text);
    choice["delta"] = std::move(delta);
  } else {
    choice["text"] = valid_utf8(text);
  }

  const bool carries_tokens = !finish_reason || !logprobs.empty();
  choice["logprobs"] =
      with_logprobs && carries_tokens ? logprobs_value(info.chat, logprobs, tokenizer, text_offset) : json(nullptr);
  choice["finish_reason"] = finish_reason ? json(finish_reason_text(*finish_reason)) : json(nullptr);

  json chunk = response_head(info, info.chat ? "chat.completion.chunk" : "text_completion");
  chunk["choices"] = json::array({std::move(choice)});
  return chunk;
}

size_t logprob_characters(const std::vector<TokenLogprob>& logprobs) {
  size_t n = 0;
  for (const TokenLogprob& entry : logprobs) n += count_characters(entry.bytes);
  return n;
}

json usage_chunk(const ResponseInfo& info, const JobUsage& usage) {
  json chunk = response_head(info, info.chat ? "chat.completion.chunk" : "text_completion");
  chunk["choices"] = json::array();
  chunk["usage"] = usage_value(usage);
  return chunk;
}

json error_body(const ApiError& error) {
  auto or_null = [](const std::string& text) { return text.empty() ? json(nullptr) : json(valid_utf8(text)); };
  return json{{"error",
               {{"message", valid_utf8(error.what())},
                {"type", error.type},
                {"param", or_null(error.param)},
                {"code", or_null(error.code)}}}};
}

std::string sse_event(const json& value) {
  return "data: " + value.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

json models_response(const std::string& model, int64_t created) {
  json entry = {{"id", valid_utf8(model)}, {"object", "model"}, {"created", created}, {"owned_by", "edgelm"}};
  return json{{"object", "list"}, {"data", json::array({std::move(entry)})}};
}

}  // namespace edgelm::server
