// Reading and checking OpenAI request bodies.

#include "server/completion_request.h"

#include <gtest/gtest.h>

#include <string>

#include "server/api_error.h"

namespace edgelm::server {
namespace {

CompletionRequest chat(const std::string& body) { return parse_chat_request(parse_json_body(body)); }
CompletionRequest completion(const std::string& body) { return parse_completion_request(parse_json_body(body)); }

// A chat body with one user message and `fields` (",\"x\": 1" style) appended.
std::string chat_body(const std::string& fields) {
  return R"({"messages": [{"role": "user", "content": "Hi"}])" + fields + "}";
}

// The ApiError that parsing `body` throws; a failed expectation when none.
template <typename Parse>
ApiError error_of(Parse parse, const std::string& body) {
  try {
    parse(body);
  } catch (const ApiError& e) {
    return e;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not an ApiError: " << e.what() << " for " << body;
    return ApiError(0, "", "");
  }
  ADD_FAILURE() << "no error for " << body;
  return ApiError(0, "", "");
}

ApiError chat_error(const std::string& body) { return error_of(chat, body); }
ApiError completion_error(const std::string& body) { return error_of(completion, body); }

TEST(ChatRequest, Defaults) {
  CompletionRequest request = chat(chat_body(""));
  EXPECT_TRUE(request.chat);
  ASSERT_EQ(request.messages.size(), 1u);
  EXPECT_EQ(request.messages[0].role, "user");
  EXPECT_EQ(request.messages[0].content, "Hi");
  EXPECT_EQ(request.model, "");
  EXPECT_FALSE(request.max_tokens.has_value());
  EXPECT_EQ(request.temperature, 1.0f);
  EXPECT_EQ(request.top_p, 1.0f);
  EXPECT_EQ(request.top_k, 0);
  EXPECT_EQ(request.min_p, 0.0f);
  EXPECT_EQ(request.repeat_penalty, 1.0f);
  EXPECT_EQ(request.presence_penalty, 0.0f);
  EXPECT_EQ(request.frequency_penalty, 0.0f);
  EXPECT_FALSE(request.seed.has_value());
  EXPECT_TRUE(request.stop.empty());
  EXPECT_FALSE(request.ignore_eos);
  EXPECT_FALSE(request.logprobs);
  EXPECT_EQ(request.top_logprobs, 0);
  EXPECT_FALSE(request.stream);
  EXPECT_FALSE(request.include_usage);
}

TEST(ChatRequest, AllFields) {
  CompletionRequest request = chat(chat_body(
      R"(, "model": "tiny", "n": 1, "max_tokens": 7, "temperature": 0.5, "top_p": 0.9, "top_k": 40,
          "min_p": 0.05, "repeat_penalty": 1.1, "presence_penalty": -1.5, "frequency_penalty": 2,
          "seed": 42, "stop": ["a", "bc"], "ignore_eos": true, "logprobs": true, "top_logprobs": 3,
          "stream": true, "stream_options": {"include_usage": true})"));
  EXPECT_EQ(request.model, "tiny");
  EXPECT_EQ(request.max_tokens, 7);
  EXPECT_FLOAT_EQ(request.temperature, 0.5f);
  EXPECT_FLOAT_EQ(request.top_p, 0.9f);
  EXPECT_EQ(request.top_k, 40);
  EXPECT_FLOAT_EQ(request.min_p, 0.05f);
  EXPECT_FLOAT_EQ(request.repeat_penalty, 1.1f);
  EXPECT_FLOAT_EQ(request.presence_penalty, -1.5f);
  EXPECT_FLOAT_EQ(request.frequency_penalty, 2.0f);
  EXPECT_EQ(request.seed, 42u);
  EXPECT_EQ(request.stop, (std::vector<std::string>{"a", "bc"}));
  EXPECT_TRUE(request.ignore_eos);
  EXPECT_TRUE(request.logprobs);
  EXPECT_EQ(request.top_logprobs, 3);
  EXPECT_TRUE(request.stream);
  EXPECT_TRUE(request.include_usage);
}

TEST(ChatRequest, MaxCompletionTokensWins) {
  EXPECT_EQ(chat(chat_body(R"(, "max_completion_tokens": 5)")).max_tokens, 5);
  EXPECT_EQ(chat(chat_body(R"(, "max_tokens": 9, "max_completion_tokens": 5)")).max_tokens, 5);
  EXPECT_EQ(chat(chat_body(R"(, "max_tokens": 9, "max_completion_tokens": null)")).max_tokens, 9);
}

TEST(ChatRequest, NullMeansDefault) {
  CompletionRequest request = chat(chat_body(
      R"(, "model": null, "n": null, "max_tokens": null, "temperature": null, "top_p": null, "seed": null,
          "stop": null, "logprobs": null, "top_logprobs": null, "stream": null, "stream_options": null)"));
  EXPECT_EQ(request.model, "");
  EXPECT_FALSE(request.max_tokens.has_value());
  EXPECT_EQ(request.temperature, 1.0f);
  EXPECT_EQ(request.top_p, 1.0f);
  EXPECT_FALSE(request.seed.has_value());
  EXPECT_TRUE(request.stop.empty());
  EXPECT_FALSE(request.logprobs);
  EXPECT_FALSE(request.stream);
}

TEST(ChatRequest, SeedWrapsNegative) {
  EXPECT_FALSE(chat(chat_body(R"(, "seed": -1)")).seed.has_value());  // random, as in llama.cpp
  EXPECT_EQ(chat(chat_body(R"(, "seed": -2)")).seed, UINT64_MAX - 1);
  EXPECT_EQ(chat(chat_body(R"(, "seed": 18446744073709551615)")).seed, UINT64_MAX);
  EXPECT_EQ(chat(chat_body(R"(, "seed": 0)")).seed, 0u);
}

TEST(ChatRequest, StopForms) {
  EXPECT_EQ(chat(chat_body(R"(, "stop": "END")")).stop, (std::vector<std::string>{"END"}));
  EXPECT_TRUE(chat(chat_body(R"(, "stop": [])")).stop.empty());
  EXPECT_EQ(chat(chat_body(R"(, "stop": ["1", "2", "3", "4"])")).stop.size(), 4u);
}

TEST(ChatRequest, BoundaryValuesAccepted) {
  CompletionRequest low = chat(chat_body(
      R"(, "temperature": 0, "top_p": 1e-9, "top_k": 0, "min_p": 0, "presence_penalty": -2,
          "frequency_penalty": -2, "max_tokens": 1, "logprobs": true, "top_logprobs": 0)"));
  EXPECT_EQ(low.temperature, 0.0f);
  EXPECT_GT(low.top_p, 0.0f);
  EXPECT_EQ(low.max_tokens, 1);
  EXPECT_EQ(low.top_logprobs, 0);

  CompletionRequest high = chat(chat_body(
      R"(, "temperature": 2, "top_p": 1, "min_p": 1, "presence_penalty": 2, "max_tokens": 2147483647,
          "top_k": 2147483647, "logprobs": true, "top_logprobs": 20)"));
  EXPECT_EQ(high.temperature, 2.0f);
  EXPECT_EQ(high.min_p, 1.0f);
  EXPECT_EQ(high.max_tokens, 2147483647);
  EXPECT_EQ(high.top_k, 2147483647);
  EXPECT_EQ(high.top_logprobs, 20);
}

TEST(ChatRequest, UnknownFieldsIgnored) {
  CompletionRequest request = chat(chat_body(R"(, "user": "u1", "tools": [], "response_format": {"type": "text"})"));
  EXPECT_EQ(request.messages.size(), 1u);
}

struct InvalidField {
  std::string fields;   // appended to a valid chat body
  std::string param;    // the ApiError's param
  std::string message;  // a substring of its message
};

TEST(ChatRequest, InvalidFields) {
  const std::vector<InvalidField> cases = {
      {R"(, "temperature": "hot")", "temperature", R"(temperature must be a number between 0 and 2, got "hot")"},
      {R"(, "temperature": 2.5)", "temperature", "temperature must be a number between 0 and 2, got 2.5"},
      {R"(, "temperature": -0.1)", "temperature", "got -0.1"},
      {R"(, "top_p": 0)", "top_p", "top_p must be a number above 0 and at most 1, got 0"},
      {R"(, "top_p": 1.5)", "top_p", "got 1.5"},
      {R"(, "top_k": -1)", "top_k", "top_k must be an integer of at least 0 (0 keeps every token), got -1"},
      {R"(, "top_k": 2.5)", "top_k", "got 2.5"},
      {R"(, "top_k": 2147483648)", "top_k", "got 2147483648"},
      {R"(, "min_p": 1.5)", "min_p", "min_p must be a number between 0 and 1, got 1.5"},
      {R"(, "repeat_penalty": 0)", "repeat_penalty", "repeat_penalty must be a number above 0 (1 disables it), got 0"},
      {R"(, "repeat_penalty": 1e300)", "repeat_penalty", "got 1e+300"},
      {R"(, "presence_penalty": 3)", "presence_penalty", "presence_penalty must be a number between -2 and 2, got 3"},
      {R"(, "frequency_penalty": -2.5)", "frequency_penalty", "got -2.5"},
      {R"(, "max_tokens": 0)", "max_tokens", "max_tokens must be an integer of at least 1, got 0"},
      {R"(, "max_tokens": 10.0)", "max_tokens", "got 10.0"},
      {R"(, "max_tokens": "10")", "max_tokens", R"(got "10")"},
      {R"(, "max_tokens": 18446744073709551615)", "max_tokens", "got 18446744073709551615"},
      {R"(, "max_completion_tokens": -3)", "max_completion_tokens", "max_completion_tokens must be an integer"},
      {R"(, "seed": 1.5)", "seed", "seed must be an integer, got 1.5"},
      {R"(, "seed": "7")", "seed", R"(got "7")"},
      {R"(, "stop": "")", "stop", "stop must be a non-empty string or an array of at most 4 non-empty strings"},
      {R"(, "stop": 5)", "stop", "got 5"},
      {R"(, "stop": ["a", "b", "c", "d", "e"])", "stop", "stop must be an array of at most 4 strings, got 5 strings"},
      {R"(, "stop": ["a", ""])", "stop[1]", R"(stop[1] must be a non-empty string, got "")"},
      {R"(, "stop": ["a", 1])", "stop[1]", "got 1"},
      {R"(, "n": 2)", "n", "n must be 1 because edgelm generates one choice per request, got 2"},
      {R"(, "n": "1")", "n", R"(got "1")"},
      {R"(, "n": 18446744073709551615)", "n", "got 18446744073709551615"},
      {R"(, "logprobs": 1)", "logprobs", "logprobs must be a boolean (true or false), got 1"},
      {R"(, "logprobs": true, "top_logprobs": 21)", "top_logprobs", "top_logprobs must be an integer between 0 and 20, got 21"},
      {R"(, "top_logprobs": 2)", "top_logprobs", "top_logprobs is only allowed when logprobs is true"},
      {R"(, "logprobs": false, "top_logprobs": 0)", "top_logprobs", "only allowed when logprobs is true"},
      {R"(, "stream": "yes")", "stream", R"(stream must be a boolean (true or false), got "yes")"},
      {R"(, "stream_options": {"include_usage": true})", "stream_options", "stream_options is only allowed when stream is true"},
      {R"(, "stream": true, "stream_options": true)", "stream_options", "stream_options must be an object"},
      {R"(, "stream": true, "stream_options": {"include_usage": 1})", "stream_options.include_usage",
       "stream_options.include_usage must be a boolean (true or false), got 1"},
      {R"(, "ignore_eos": "true")", "ignore_eos", "ignore_eos must be a boolean"},
      {R"(, "model": 3)", "model", "model must be a string, got 3"},
      {R"(, "model": ["a"])", "model", "model must be a string, got an array"},
  };
  for (const InvalidField& c : cases) {
    ApiError error = chat_error(chat_body(c.fields));
    EXPECT_EQ(error.status, 400) << c.fields;
    EXPECT_EQ(error.type, "invalid_request_error") << c.fields;
    EXPECT_EQ(error.param, c.param) << c.fields;
    EXPECT_NE(std::string(error.what()).find(c.message), std::string::npos) << c.fields << " -> " << error.what();
  }
}

TEST(ChatRequest, LongValueShortened) {
  ApiError error = chat_error(chat_body(R"(, "temperature": ")" + std::string(1000, 'x') + "\""));
  EXPECT_LT(std::string(error.what()).size(), 150u);
  EXPECT_NE(std::string(error.what()).find("xxx..."), std::string::npos);
}

TEST(ChatRequest, MessagesErrors) {
  ApiError missing = chat_error(R"({"model": "m"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.param, "messages");
  EXPECT_NE(std::string(missing.what()).find("messages is missing"), std::string::npos);

  ApiError empty = chat_error(R"({"messages": []})");
  EXPECT_EQ(empty.param, "messages");
  EXPECT_NE(std::string(empty.what()).find("messages array is empty"), std::string::npos);

  ApiError no_role = chat_error(R"({"messages": [{"content": "x"}]})");
  EXPECT_EQ(no_role.param, "messages");
  EXPECT_NE(std::string(no_role.what()).find("messages[0].role"), std::string::npos);

  ApiError not_array = chat_error(R"({"messages": "hi"})");
  EXPECT_EQ(not_array.param, "messages");
  EXPECT_NE(std::string(not_array.what()).find("JSON array"), std::string::npos);
}

TEST(ChatRequest, ContentPartsJoined) {
  CompletionRequest request =
      chat(R"({"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}]})");
  ASSERT_EQ(request.messages.size(), 1u);
  EXPECT_EQ(request.messages[0].content, "a\nb");
}

TEST(JsonBody, MalformedNamesPosition) {
  ApiError error = error_of(parse_json_body, R"({"messages": [}")");
  EXPECT_EQ(error.status, 400);
  EXPECT_EQ(error.type, "invalid_request_error");
  EXPECT_EQ(error.param, "");
  std::string message = error.what();
  EXPECT_NE(message.find("the request body is not valid JSON"), std::string::npos) << message;
  EXPECT_NE(message.find("line 1, column 15"), std::string::npos) << message;
  EXPECT_EQ(message.find("[json.exception"), std::string::npos) << message;

  // Numbers beyond double's range are a parse failure too.
  ApiError overflow = error_of(parse_json_body, R"({"temperature": 1e400})");
  EXPECT_EQ(overflow.status, 400);
  EXPECT_NE(std::string(overflow.what()).find("not valid JSON: number overflow parsing '1e400'"), std::string::npos)
      << overflow.what();
}

TEST(JsonBody, LongTokenShortened) {
  // The parser quotes the string it was reading when the control character came.
  ApiError error = error_of(parse_json_body, R"({"model": ")" + std::string(100000, 'x') + "\x01\"}");
  EXPECT_EQ(error.status, 400);
  EXPECT_LT(std::string(error.what()).size(), 400u);
  EXPECT_NE(std::string(error.what()).find("xxx..."), std::string::npos) << error.what();
}

TEST(JsonBody, EmptyAndInvalidUtf8) {
  EXPECT_EQ(error_of(parse_json_body, "").status, 400);
  ApiError utf8 = error_of(parse_json_body, "{\"model\": \"\xff\"}");
  EXPECT_EQ(utf8.status, 400);
  EXPECT_NE(std::string(utf8.what()).find("not valid JSON"), std::string::npos);
}

TEST(JsonBody, NotAnObject) {
  ApiError array = error_of(parse_json_body, "[1, 2]");
  EXPECT_EQ(array.status, 400);
  EXPECT_NE(std::string(array.what()).find("the request body must be a JSON object, got an array"), std::string::npos);
  ApiError number = error_of(parse_json_body, "12");
  EXPECT_NE(std::string(number.what()).find("got 12"), std::string::npos);

  // Callers that skip parse_json_body get the same check.
  EXPECT_EQ(error_of([](const std::string&) { return parse_chat_request(nlohmann::json::array()); }, "").status, 400);
  EXPECT_EQ(error_of([](const std::string&) { return parse_completion_request(nlohmann::json("x")); }, "").status, 400);
}

TEST(JsonBody, NestingLimit) {
  std::string shallow = R"({"x": )" + std::string(100, '[') + std::string(100, ']') + "}";
  EXPECT_TRUE(parse_json_body(shallow).is_object());

  std::string deep = R"({"x": )" + std::string(100000, '[') + std::string(100000, ']') + "}";
  ApiError error = error_of(parse_json_body, deep);
  EXPECT_EQ(error.status, 400);
  EXPECT_NE(std::string(error.what()).find("deeper than 128 levels"), std::string::npos);
}

TEST(CompletionRequest, PromptForms) {
  CompletionRequest text = completion(R"({"prompt": "Once upon"})");
  EXPECT_FALSE(text.chat);
  EXPECT_FALSE(text.prompt_is_tokens);
  EXPECT_EQ(text.prompt, "Once upon");

  CompletionRequest list = completion(R"({"prompt": ["Once"]})");
  EXPECT_FALSE(list.prompt_is_tokens);
  EXPECT_EQ(list.prompt, "Once");

  CompletionRequest ids = completion(R"({"prompt": [2, 651, 0]})");
  EXPECT_TRUE(ids.prompt_is_tokens);
  EXPECT_EQ(ids.prompt_tokens, (std::vector<int32_t>{2, 651, 0}));

  CompletionRequest nested = completion(R"({"prompt": [[2, 7]]})");
  EXPECT_TRUE(nested.prompt_is_tokens);
  EXPECT_EQ(nested.prompt_tokens, (std::vector<int32_t>{2, 7}));

  EXPECT_EQ(completion(R"({"prompt": ""})").prompt, "");
}

TEST(CompletionRequest, PromptErrors) {
  const std::vector<InvalidField> cases = {
      {R"({})", "prompt", "prompt is missing"},
      {R"({"prompt": null})", "prompt", "prompt is missing"},
      {R"({"prompt": 5})", "prompt", "prompt must be a string, an array of one string, or an array of token ids, got 5"},
      {R"({"prompt": []})", "prompt", "prompt is an empty array"},
      {R"({"prompt": ["a", "b"]})", "prompt", "prompt has 2 prompts but edgelm accepts one prompt per request"},
      {R"({"prompt": [[1], [2]]})", "prompt", "prompt has 2 prompts"},
      {R"({"prompt": [[]]})", "prompt", "prompt[0] is an empty token list"},
      {R"({"prompt": [1, -2]})", "prompt", "prompt[1] must be a token id (an integer of at least 0), got -2"},
      {R"({"prompt": [1, 2.5]})", "prompt", "prompt[1] must be a token id"},
      {R"({"prompt": [1, "a"]})", "prompt", R"(got "a")"},
      {R"({"prompt": [2147483648]})", "prompt", "got 2147483648"},
      {R"({"prompt": [[3, -1]]})", "prompt", "prompt[0][1] must be a token id"},
      {R"({"prompt": [true]})", "prompt[0]", "prompt[0] must be a string or an array of token ids, got true"},
      {R"({"prompt": "x", "logprobs": 6})", "logprobs", "logprobs must be an integer between 0 and 5, got 6"},
      {R"({"prompt": "x", "logprobs": true})", "logprobs", "got true"},
      {R"({"prompt": "x", "n": 3})", "n", "n must be 1"},
      {R"({"prompt": "x", "max_tokens": 0})", "max_tokens", "max_tokens must be an integer of at least 1"},
  };
  for (const InvalidField& c : cases) {
    ApiError error = completion_error(c.fields);
    EXPECT_EQ(error.status, 400) << c.fields;
    EXPECT_EQ(error.param, c.param) << c.fields;
    EXPECT_NE(std::string(error.what()).find(c.message), std::string::npos) << c.fields << " -> " << error.what();
  }
}

TEST(ChatRequest, UnsupportedFieldsRejected) {
  const std::vector<std::string> fields = {R"("logit_bias": {"16": -100})", R"("tools": [{"type": "function"}])",
                                           R"("response_format": {"type": "json_object"})", R"("suffix": "x")",
                                           R"("echo": true)", R"("best_of": 2)"};
  for (const std::string& field : fields) {
    try {
      chat(chat_body(", " + field));
      ADD_FAILURE() << "accepted " << field;
    } catch (const ApiError& error) {
      EXPECT_EQ(error.status, 400) << field;
      EXPECT_NE(std::string(error.what()).find("not supported"), std::string::npos) << error.what();
    }
  }
  // Their neutral values pass.
  EXPECT_NO_THROW(chat(chat_body(R"(, "logit_bias": {}, "tools": [], "echo": false, "best_of": 1)")));
  EXPECT_NO_THROW(chat(chat_body(R"(, "response_format": {"type": "text"})")));
}

TEST(CompletionRequest, MaxTokensDefaultsToSixteen) {
  EXPECT_EQ(completion(R"({"prompt": "x"})").max_tokens, 16);
  EXPECT_EQ(completion(R"({"prompt": "x", "max_tokens": null})").max_tokens, 16);
  EXPECT_EQ(completion(R"({"prompt": "x", "max_tokens": 3})").max_tokens, 3);
}

TEST(CompletionRequest, LogprobsCount) {
  CompletionRequest none = completion(R"({"prompt": "x"})");
  EXPECT_FALSE(none.logprobs);

  CompletionRequest zero = completion(R"({"prompt": "x", "logprobs": 0})");
  EXPECT_TRUE(zero.logprobs);
  EXPECT_EQ(zero.top_logprobs, 0);

  CompletionRequest five = completion(R"({"prompt": "x", "logprobs": 5})");
  EXPECT_TRUE(five.logprobs);
  EXPECT_EQ(five.top_logprobs, 5);
}

TEST(CompletionRequest, SharedFields) {
  CompletionRequest request = completion(
      R"({"prompt": "x", "max_tokens": 3, "temperature": 0, "stop": "\n", "seed": -5, "stream": true,
          "stream_options": {"include_usage": false}, "echo": false, "best_of": 1})");
  EXPECT_EQ(request.max_tokens, 3);
  EXPECT_EQ(request.temperature, 0.0f);
  EXPECT_EQ(request.stop, (std::vector<std::string>{"\n"}));
  EXPECT_EQ(request.seed, static_cast<uint64_t>(-5));
  EXPECT_TRUE(request.stream);
  EXPECT_FALSE(request.include_usage);
}

}  // namespace
}  // namespace edgelm::server
