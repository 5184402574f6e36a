// The JSON shapes of OpenAI responses, stream chunks, usage and errors.

#include "server/openai_response.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "gguf/gguf_file.h"
#include "server/api_error.h"

namespace edgelm::server {
namespace {

using nlohmann::json;

// The tiny Gemma 2 vocabulary: token 696 is " world" and byte tokens are the
// byte value plus 7, so 237 is the lone byte 0xE6 (the start of "日").
constexpr int32_t kWorld = 696;
constexpr int32_t kByteE6 = 237;

const Tokenizer& tokenizer() {
  static std::unique_ptr<Tokenizer> tokenizer =
      Tokenizer::from_gguf(*GgufFile::open(std::string(EDGELM_SOURCE_DIR) + "/models/tiny-gemma2-q8_0.gguf"));
  return *tokenizer;
}

ResponseInfo info(bool chat) { return ResponseInfo{chat, chat ? "chatcmpl-abc" : "cmpl-abc", 1700000000, "tiny"}; }

JobUsage usage() { return JobUsage{10, 4, 3}; }

const json kUsage = json::parse(R"({"prompt_tokens": 10, "completion_tokens": 3, "total_tokens": 13,
                                   "prompt_tokens_details": {"cached_tokens": 4}})");

// Two generated tokens: " world" (alternatives " world", 0xE6) and the lone
// byte 0xE6 (no alternatives).
std::vector<TokenLogprob> two_tokens() {
  return {TokenLogprob{kWorld, " world", -0.5f, {{kWorld, -0.5f}, {kByteE6, -1.25f}}},
          TokenLogprob{kByteE6, "\xE6", -2.0f, {}}};
}

TEST(OpenAiResponse, VocabularyAssumptions) {
  EXPECT_EQ(tokenizer().token_bytes(kWorld), " world");
  EXPECT_EQ(tokenizer().token_bytes(kByteE6), "\xE6");
}

TEST(OpenAiResponse, ResponseIds) {
  for (bool chat : {true, false}) {
    const std::string prefix = chat ? "chatcmpl-" : "cmpl-";
    std::string id = make_response_id(chat);
    ASSERT_EQ(id.size(), prefix.size() + 24) << id;
    EXPECT_EQ(id.substr(0, prefix.size()), prefix);
    for (char c : id.substr(prefix.size())) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
    EXPECT_NE(make_response_id(chat), id);
  }
}

TEST(OpenAiResponse, ChatCompletion) {
  json response = completion_response(info(true), "Hi there", {}, false, FinishReason::kStop, usage(), tokenizer());
  json expected = json::parse(R"({
    "id": "chatcmpl-abc", "object": "chat.completion", "created": 1700000000, "model": "tiny",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi there", "refusal": null},
                 "logprobs": null, "finish_reason": "stop"}]})");
  expected["usage"] = kUsage;
  EXPECT_EQ(response, expected) << response.dump(2);
}

TEST(OpenAiResponse, TextCompletion) {
  json response = completion_response(info(false), "upon a", {}, false, FinishReason::kLength, usage(), tokenizer());
  json expected = json::parse(R"({
    "id": "cmpl-abc", "object": "text_completion", "created": 1700000000, "model": "tiny",
    "choices": [{"index": 0, "text": "upon a", "logprobs": null, "finish_reason": "length"}]})");
  expected["usage"] = kUsage;
  EXPECT_EQ(response, expected) << response.dump(2);
}

TEST(OpenAiResponse, ChatLogprobs) {
  json response =
      completion_response(info(true), " world\xE6", two_tokens(), true, FinishReason::kLength, usage(), tokenizer());
  json expected = json::parse(R"({"content": [
    {"token": " world", "logprob": -0.5, "bytes": [32, 119, 111, 114, 108, 100],
     "top_logprobs": [{"token": " world", "logprob": -0.5, "bytes": [32, 119, 111, 114, 108, 100]},
                      {"token": "\ufffd", "logprob": -1.25, "bytes": [230]}]},
    {"token": "\ufffd", "logprob": -2.0, "bytes": [230], "top_logprobs": []}]})");
  EXPECT_EQ(response["choices"][0]["logprobs"], expected) << response.dump(2);
  EXPECT_EQ(response["choices"][0]["message"]["content"], " world\xEF\xBF\xBD");
}

TEST(OpenAiResponse, CompletionLogprobs) {
  std::vector<TokenLogprob> tokens = two_tokens();
  tokens.push_back(TokenLogprob{6862, "Hello", -0.25f, {{6862, -0.25f}}});
  json response =
      completion_response(info(false), " world\xE6Hello", tokens, true, FinishReason::kStop, usage(), tokenizer());
  json expected = json::parse(R"({
    "tokens": [" world", "\ufffd", "Hello"],
    "token_logprobs": [-0.5, -2.0, -0.25],
    "top_logprobs": [{" world": -0.5, "\ufffd": -1.25}, {}, {"Hello": -0.25}],
    "text_offset": [0, 6, 7]})");
  EXPECT_EQ(response["choices"][0]["logprobs"], expected) << response.dump(2);
}

// Streamed completions continue text_offset from the characters of earlier chunks.
TEST(OpenAiResponse, StreamTextOffsetContinues) {
  std::vector<TokenLogprob> first = two_tokens();
  const size_t sent = logprob_characters(first);
  EXPECT_EQ(sent, 7u);  // " world" and a lead byte
  std::vector<TokenLogprob> second = {TokenLogprob{6862, "Hello", -0.25f, {}}};
  json chunk = stream_chunk(info(false), "Hello", second, true, false, std::nullopt, tokenizer(), sent);
  EXPECT_EQ(chunk["choices"][0]["logprobs"]["text_offset"], json::array({7}));
}

TEST(OpenAiResponse, InvalidUtf8Replaced) {
  json response =
      completion_response(info(true), "a\xFF\xE6", {}, false, FinishReason::kStop, usage(), tokenizer());
  EXPECT_EQ(response["choices"][0]["message"]["content"], "a\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_NO_THROW(response.dump());

  ApiError error(400, "bad \xC3", "invalid_request_error", "p\xFF");
  EXPECT_NO_THROW(error_body(error).dump());
}

TEST(OpenAiResponse, ChatStreamChunks) {
  json first = stream_chunk(info(true), "", {}, false, true, std::nullopt, tokenizer());
  json expected_first = json::parse(R"({
    "id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000, "model": "tiny",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null,
                 "finish_reason": null}]})");
  EXPECT_EQ(first, expected_first) << first.dump(2);

  json middle = stream_chunk(info(true), "Hi", {}, false, false, std::nullopt, tokenizer());
  EXPECT_EQ(middle["choices"][0]["delta"], json::parse(R"({"content": "Hi"})"));
  EXPECT_TRUE(middle["choices"][0]["finish_reason"].is_null());

  json last = stream_chunk(info(true), "", {}, false, false, FinishReason::kStop, tokenizer());
  EXPECT_EQ(last["choices"][0]["delta"], json::object());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "stop");
  EXPECT_TRUE(last["choices"][0]["logprobs"].is_null());
  EXPECT_FALSE(last.contains("usage"));
}

TEST(OpenAiResponse, ChatStreamLogprobs) {
  json chunk = stream_chunk(info(true), " world", {two_tokens()[0]}, true, false, std::nullopt, tokenizer());
  const json& logprobs = chunk["choices"][0]["logprobs"];
  ASSERT_EQ(logprobs["content"].size(), 1u);
  EXPECT_EQ(logprobs["content"][0]["token"], " world");
  EXPECT_EQ(logprobs["content"][0]["top_logprobs"].size(), 2u);

  json last = stream_chunk(info(true), "", {}, true, false, FinishReason::kLength, tokenizer());
  EXPECT_TRUE(last["choices"][0]["logprobs"].is_null());
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
}

TEST(OpenAiResponse, CompletionStreamChunk) {
  json chunk = stream_chunk(info(false), "upon", {}, false, true, std::nullopt, tokenizer());
  json expected = json::parse(R"({
    "id": "cmpl-abc", "object": "text_completion", "created": 1700000000, "model": "tiny",
    "choices": [{"index": 0, "text": "upon", "logprobs": null, "finish_reason": null}]})");
  EXPECT_EQ(chunk, expected) << chunk.dump(2);

  json last = stream_chunk(info(false), "", {}, false, false, FinishReason::kLength, tokenizer());
  EXPECT_EQ(last["choices"][0]["text"], "");
  EXPECT_EQ(last["choices"][0]["finish_reason"], "length");
}

TEST(OpenAiResponse, UsageChunk) {
  json chunk = usage_chunk(info(true), usage());
  json expected = json::parse(R"({
    "id": "chatcmpl-abc", "object": "chat.completion.chunk", "created": 1700000000, "model": "tiny",
    "choices": []})");
  expected["usage"] = kUsage;
  EXPECT_EQ(chunk, expected) << chunk.dump(2);
  EXPECT_EQ(usage_chunk(info(false), usage())["object"], "text_completion");
}

TEST(OpenAiResponse, ErrorBody) {
  json plain = error_body(ApiError(401, "invalid API key", "authentication_error"));
  EXPECT_EQ(plain, json::parse(R"({"error": {"message": "invalid API key", "type": "authentication_error",
                                             "param": null, "code": null}})"));

  json full = error_body(invalid_request("prompt too long", "messages", "context_length_exceeded"));
  EXPECT_EQ(full, json::parse(R"({"error": {"message": "prompt too long", "type": "invalid_request_error",
                                            "param": "messages", "code": "context_length_exceeded"}})"));
}

TEST(OpenAiResponse, SseEvent) {
  EXPECT_EQ(sse_event(json{{"a", 1}}), "data: {\"a\":1}\n\n");
  // A raw string that was never sanitized is still written, with U+FFFD.
  EXPECT_EQ(sse_event(json("x\xFF")), "data: \"x\xEF\xBF\xBD\"\n\n");
}

TEST(OpenAiResponse, Models) {
  json models = models_response("tiny-gemma2", 1700000000);
  EXPECT_EQ(models, json::parse(R"({"object": "list", "data": [
    {"id": "tiny-gemma2", "object": "model", "created": 1700000000, "owned_by": "edgelm"}]})"));
}

}  // namespace
}  // namespace edgelm::server
