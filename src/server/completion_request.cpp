#include "server/completion_request.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "chat/chat_messages.h"
#include "core/error.h"
#include "server/api_error.h"

namespace edgelm::server {
namespace {

using nlohmann::json;

// OpenAI request bodies nest a few levels deep (messages[].content[].text),
// tool schemas a few more. A limit keeps recursive code that later walks the
// value (dump, copy) far from the end of the stack.
constexpr int kMaxNestingDepth = 128;

constexpr size_t kMaxStopStrings = 4;           // OpenAI's limit
constexpr int64_t kMaxChatTopLogprobs = 20;     // OpenAI's limit for chat
constexpr int64_t kMaxCompletionLogprobs = 5;   // OpenAI's limit for completions
constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

// `text` cut to at most `max_bytes` at a character boundary, with "..."
// marking the cut.
std::string shorten(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut)) + "...";
}

// The value as an error message shows it: scalars as JSON, long strings
// shortened, arrays and objects by their type.
std::string describe(const json& value) {
  if (value.is_array()) return "an array";
  if (value.is_object()) return "an object";
  return shorten(value.dump(-1, ' ', false, json::error_handler_t::replace), 40);
}

// Throws 400 "<field> must be <expected>, got <value>" naming the field.
[[noreturn]] void reject(const std::string& field, std::string_view expected, const json& value) {
  throw invalid_request(fmt::format("{} must be {}, got {}", field, expected, describe(value)), field);
}

// The field's value, or nullptr when it is missing or JSON null, because a
// null value selects the default.
const json* find_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

std::optional<bool> read_bool(const json& object, const char* name, const std::string& field) {
  const json* value = find_field(object, name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) reject(field, "a boolean (true or false)", *value);
  return value->get<bool>();
}

// A JSON integer in [min, max]. Numbers written with a fraction (1.0) and
// strings ("1") are rejected.
std::optional<int64_t> read_integer(const json& object, const char* name, int64_t min, int64_t max,
                                    std::string_view expected) {
  const json* value = find_field(object, name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_integer()) reject(name, expected, *value);
  if (value->is_number_unsigned() && value->get<uint64_t>() > static_cast<uint64_t>(max)) {
    reject(name, expected, *value);
  }
  const int64_t number = value->get<int64_t>();
  if (number < min || number > max) reject(name, expected, *value);
  return number;
}

// A finite number in [min, max], or in (min, max] when `min_open`.
std::optional<float> read_number(const json& object, const char* name, double min, double max, bool min_open,
                                 std::string_view expected) {
  const json* value = find_field(object, name);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) reject(name, expected, *value);
  const double number = value->get<double>();
  const bool above_min = min_open ? number > min : number >= min;
  if (!std::isfinite(number) || !above_min || number > max) reject(name, expected, *value);
  return static_cast<float>(number);
}

// OpenAI fields edgelm does not implement yet. Ignoring them would change
// what the client asked for silently, so a request that uses one gets 400.
void reject_unsupported(const json& body) {
  auto used = [&](const char* name) {
    const json* value = find_field(body, name);
    if (value == nullptr) return false;
    if (value->is_boolean()) return value->get<bool>();
    if (value->is_object() || value->is_array() || value->is_string()) return !value->empty();
    return true;
  };
  for (const char* name : {"logit_bias", "tools", "functions", "suffix"}) {
    if (used(name)) throw invalid_request(fmt::format("{} is not supported by edgelm yet; remove it", name), name);
  }
  // {"type": "text"} is the default; JSON modes need constrained sampling.
  if (const json* format = find_field(body, "response_format");
      format && !(format->is_object() && format->value("type", json()) == "text")) {
    throw invalid_request("response_format other than {\"type\": \"text\"} is not supported by edgelm yet",
                          "response_format");
  }
  if (used("echo")) throw invalid_request("echo is not supported by edgelm yet; remove it or set it to false", "echo");
  if (const json* best_of = find_field(body, "best_of"); best_of && !(best_of->is_number_integer() && *best_of == 1)) {
    throw invalid_request("best_of other than 1 is not supported by edgelm; remove it", "best_of");
  }
}

// Any JSON integer. -1 means a random seed, as in llama.cpp; other negative
// seeds wrap to uint64 so that they pick a fixed sequence.
std::optional<uint64_t> read_seed(const json& object) {
  const json* value = find_field(object, "seed");
  if (value == nullptr) return std::nullopt;
  if (!value->is_number_integer()) reject("seed", "an integer", *value);
  if (value->is_number_integer() && !value->is_number_unsigned() && value->get<int64_t>() == -1) return std::nullopt;
  if (value->is_number_unsigned()) return value->get<uint64_t>();
  return static_cast<uint64_t>(value->get<int64_t>());
}

std::vector<std::string> read_stop(const json& object) {
  const json* value = find_field(object, "stop");
  if (value == nullptr) return {};

  constexpr std::string_view kExpected = "a non-empty string or an array of at most 4 non-empty strings";
  if (value->is_string()) {
    if (value->get_ref<const std::string&>().empty()) reject("stop", kExpected, *value);
    return {value->get<std::string>()};
  }
  if (!value->is_array()) reject("stop", kExpected, *value);
  if (value->size() > kMaxStopStrings) {
    throw invalid_request(
        fmt::format("stop must be an array of at most {} strings, got {} strings", kMaxStopStrings, value->size()),
        "stop");
  }

  std::vector<std::string> stop;
  for (size_t i = 0; i < value->size(); ++i) {
    const json& item = (*value)[i];
    if (!item.is_string() || item.get_ref<const std::string&>().empty()) {
      reject(fmt::format("stop[{}]", i), "a non-empty string", item);
    }
    stop.push_back(item.get<std::string>());
  }
  return stop;
}

void read_stream(const json& body, CompletionRequest& request) {
  request.stream = read_bool(body, "stream", "stream").value_or(false);

  const json* options = find_field(body, "stream_options");
  if (options == nullptr) return;
  if (!options->is_object()) reject("stream_options", "an object such as {\"include_usage\": true}", *options);
  if (!request.stream) {
    throw invalid_request("stream_options is only allowed when stream is true", "stream_options");
  }
  request.include_usage = read_bool(*options, "include_usage", "stream_options.include_usage").value_or(false);
}

// The fields both endpoints share.
void read_common(const json& body, CompletionRequest& request) {
  if (const json* model = find_field(body, "model")) {
    if (!model->is_string()) reject("model", "a string", *model);
    request.model = model->get<std::string>();
  }

  if (const json* n = find_field(body, "n")) {
    if (!n->is_number_integer() || n->get<int64_t>() != 1) {
      reject("n", "1 because edgelm generates one choice per request", *n);
    }
  }

  if (auto max = read_integer(body, "max_tokens", 1, kMaxInt32, "an integer of at least 1")) {
    request.max_tokens = static_cast<int32_t>(*max);
  }

  CompletionRequest defaults;
  request.temperature =
      read_number(body, "temperature", 0, 2, false, "a number between 0 and 2").value_or(defaults.temperature);
  request.top_p = read_number(body, "top_p", 0, 1, true, "a number above 0 and at most 1").value_or(defaults.top_p);
  request.top_k = static_cast<int32_t>(
      read_integer(body, "top_k", 0, kMaxInt32, "an integer of at least 0 (0 keeps every token)").value_or(defaults.top_k));
  request.min_p = read_number(body, "min_p", 0, 1, false, "a number between 0 and 1").value_or(defaults.min_p);
  request.repeat_penalty =
      read_number(body, "repeat_penalty", 0, std::numeric_limits<float>::max(), true, "a number above 0 (1 disables it)")
          .value_or(defaults.repeat_penalty);
  request.presence_penalty = read_number(body, "presence_penalty", -2, 2, false, "a number between -2 and 2")
                                 .value_or(defaults.presence_penalty);
  request.frequency_penalty = read_number(body, "frequency_penalty", -2, 2, false, "a number between -2 and 2")
                                  .value_or(defaults.frequency_penalty);
  request.seed = read_seed(body);
  request.stop = read_stop(body);
  reject_unsupported(body);
  request.ignore_eos = read_bool(body, "ignore_eos", "ignore_eos").value_or(false);
  read_stream(body, request);
}

void require_object(const json& body) {
  if (!body.is_object()) {
    throw invalid_request(fmt::format("the request body must be a JSON object, got {}", describe(body)));
  }
}

void read_messages(const json& body, CompletionRequest& request) {
  const json* messages = find_field(body, "messages");
  if (messages == nullptr) {
    throw invalid_request(
        "messages is missing; give an array such as [{\"role\": \"user\", \"content\": \"Hello\"}]", "messages");
  }
  try {
    request.messages = messages_from_json(*messages);
  } catch (const Error& e) {
    throw invalid_request(e.what(), "messages");
  }
}

void read_chat_logprobs(const json& body, CompletionRequest& request) {
  request.logprobs = read_bool(body, "logprobs", "logprobs").value_or(false);

  const json* top = find_field(body, "top_logprobs");
  if (top == nullptr) return;
  request.top_logprobs = static_cast<int32_t>(
      read_integer(body, "top_logprobs", 0, kMaxChatTopLogprobs, "an integer between 0 and 20").value());
  if (!request.logprobs) {
    throw invalid_request("top_logprobs is only allowed when logprobs is true", "top_logprobs");
  }
}

// Token ids of one prompt. The scheduler checks them against the vocabulary when the job is submitted.
std::vector<int32_t> read_token_ids(const json& ids, std::string_view field) {
  if (ids.empty()) throw invalid_request(fmt::format("{} is an empty token list; give at least one token id", field), "prompt");
  std::vector<int32_t> tokens;
  tokens.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const json& id = ids[i];
    bool valid = id.is_number_integer() &&
                 (id.is_number_unsigned() ? id.get<uint64_t>() <= static_cast<uint64_t>(kMaxInt32)
                                          : id.get<int64_t>() >= 0 && id.get<int64_t>() <= kMaxInt32);
    if (!valid) {
      throw invalid_request(
          fmt::format("{}[{}] must be a token id (an integer of at least 0), got {}", field, i, describe(id)), "prompt");
    }
    tokens.push_back(static_cast<int32_t>(id.get<int64_t>()));
  }
  return tokens;
}

void read_prompt(const json& body, CompletionRequest& request) {
  constexpr std::string_view kForms = "a string, an array of one string, or an array of token ids";
  const json* prompt = find_field(body, "prompt");
  if (prompt == nullptr) throw invalid_request(fmt::format("prompt is missing; give {}", kForms), "prompt");

  if (prompt->is_string()) {
    request.prompt = prompt->get<std::string>();
    return;
  }
  if (!prompt->is_array()) reject("prompt", kForms, *prompt);
  if (prompt->empty()) throw invalid_request(fmt::format("prompt is an empty array; give {}", kForms), "prompt");

  const json& first = prompt->front();
  if (first.is_number()) {
    request.prompt_tokens = read_token_ids(*prompt, "prompt");
    request.prompt_is_tokens = true;
    return;
  }
  if (prompt->size() > 1) {
    throw invalid_request(
        fmt::format("prompt has {} prompts but edgelm accepts one prompt per request; send one request for each",
                    prompt->size()),
        "prompt");
  }
  if (first.is_string()) {
    request.prompt = first.get<std::string>();
  } else if (first.is_array()) {
    request.prompt_tokens = read_token_ids(first, "prompt[0]");
    request.prompt_is_tokens = true;
  } else {
    reject("prompt[0]", "a string or an array of token ids", first);
  }
}

void read_completion_logprobs(const json& body, CompletionRequest& request) {
  std::optional<int64_t> count =
      read_integer(body, "logprobs", 0, kMaxCompletionLogprobs, "an integer between 0 and 5");
  if (!count) return;
  request.logprobs = true;
  request.top_logprobs = static_cast<int32_t>(*count);
}

// The message of a JSON library exception without its leading id such as
// "[json.exception.parse_error.101] ", which means nothing to a client. The
// message quotes the token read last, which can be a whole long string, so
// it is shortened.
std::string without_exception_id(const json::exception& e) {
  std::string_view message = e.what();
  size_t end = message.find("] ");
  if (message.starts_with("[json.exception") && end != std::string_view::npos) message.remove_prefix(end + 2);
  return shorten(message, 300);
}

// Runs `read` and turns any library exception into a 400, so that callers
// only ever see ApiError.
template <typename Read>
CompletionRequest read_request(Read read) {
  try {
    return read();
  } catch (const ApiError&) {
    throw;
  } catch (const json::exception& e) {
    throw invalid_request(fmt::format("invalid request body: {}", without_exception_id(e)));
  } catch (const Error& e) {
    throw invalid_request(e.what());
  }
}

}  // namespace

json parse_json_body(std::string_view body) {
  // Rejects nesting deeper than kMaxNestingDepth while parsing, before the
  // whole value is built.
  const json::parser_callback_t check_depth = [](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= kMaxNestingDepth) {
      throw invalid_request(
          fmt::format("the request body nests arrays and objects deeper than {} levels", kMaxNestingDepth));
    }
    return true;
  };

  json value;
  try {
    value = json::parse(body.begin(), body.end(), check_depth);
  } catch (const json::exception& e) {
    throw invalid_request(fmt::format("the request body is not valid JSON: {}", without_exception_id(e)));
  }
  require_object(value);
  return value;
}

CompletionRequest parse_chat_request(const json& body) {
  return read_request([&] {
    require_object(body);
    CompletionRequest request;
    request.chat = true;
    read_messages(body, request);
    read_common(body, request);

    // max_completion_tokens replaced max_tokens in OpenAI's chat API; when
    // both are given, the newer field wins.
    if (auto max = read_integer(body, "max_completion_tokens", 1, kMaxInt32, "an integer of at least 1")) {
      request.max_tokens = static_cast<int32_t>(*max);
    }
    read_chat_logprobs(body, request);
    return request;
  });
}

CompletionRequest parse_completion_request(const json& body) {
  return read_request([&] {
    require_object(body);
    CompletionRequest request;
    request.chat = false;
    read_prompt(body, request);
    read_common(body, request);
    read_completion_logprobs(body, request);

    // OpenAI's completions endpoint generates 16 tokens when max_tokens is omitted or null.
    if (!request.max_tokens) request.max_tokens = kDefaultCompletionTokens;
    return request;
  });
}

}  // namespace edgelm::server
