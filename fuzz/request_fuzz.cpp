// libFuzzer target: arbitrary bytes as the body of POST /v1/chat/completions
// and /v1/completions must parse into a request or fail with ApiError, and
// the response JSON built from what parsed must dump. libFuzzer reports
// crashes, sanitizer errors, other exceptions (as crashes), inputs slower
// than -timeout and memory above -rss_limit_mb.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"
#include "server/completion_request.h"
#include "server/openai_response.h"

namespace {

using edgelm::server::ApiError;
using edgelm::server::CompletionRequest;
using edgelm::server::FinishReason;
using edgelm::server::JobUsage;
using edgelm::server::TokenLogprob;

// A stand-in vocabulary where token id N is the single byte N % 256, so most
// tokens above 127 are invalid UTF-8 on their own, as byte tokens are.
class ByteTokenizer : public edgelm::Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text, bool, bool) const override {
    return std::vector<int32_t>(text.begin(), text.end());
  }
  std::string token_bytes(int32_t id, bool) const override { return std::string(1, static_cast<char>(id % 256)); }
  size_t n_vocab() const override { return 256; }
  int32_t bos_id() const override { return 1; }
  int32_t eos_id() const override { return 2; }
  bool is_end_of_generation(int32_t id) const override { return id == 2; }
  std::string_view piece(int32_t) const override { return {}; }
};

// Generated text and log-probabilities made from the request, so that the
// client's bytes reach the response builders.
void build_responses(const CompletionRequest& request) {
  static const ByteTokenizer tokenizer;

  std::string text = request.chat ? request.messages.back().content : request.prompt;
  std::vector<TokenLogprob> logprobs;
  for (size_t i = 0; i < text.size() && i < 64; ++i) {
    const int32_t id = static_cast<unsigned char>(text[i]);
    TokenLogprob entry{id, std::string(1, text[i]), -static_cast<float>(i), {}};
    for (int32_t k = 0; k < request.top_logprobs; ++k) entry.top.emplace_back(id + k, -static_cast<float>(k));
    logprobs.push_back(std::move(entry));
  }
  for (int32_t id : request.prompt_tokens) {
    if (logprobs.size() >= 64) break;
    logprobs.push_back(TokenLogprob{id, tokenizer.token_bytes(id, false), -1.0f, {{id, -1.0f}}});
  }

  const edgelm::server::ResponseInfo info{request.chat, edgelm::server::make_response_id(request.chat), 0,
                                          request.model};
  const JobUsage usage{text.size(), 0, logprobs.size()};
  const FinishReason reason = request.ignore_eos ? FinishReason::kLength : FinishReason::kStop;

  std::string out;
  out += edgelm::server::completion_response(info, text, logprobs, request.logprobs, reason, usage, tokenizer).dump();
  out += edgelm::server::sse_event(
      edgelm::server::stream_chunk(info, text, logprobs, request.logprobs, true, std::nullopt, tokenizer));
  out += edgelm::server::sse_event(edgelm::server::stream_chunk(info, "", {}, request.logprobs, false, reason, tokenizer));
  if (request.include_usage) out += edgelm::server::sse_event(edgelm::server::usage_chunk(info, usage));
  out += edgelm::server::models_response(request.model, 0).dump();
}

void parse_and_respond(const nlohmann::json& body, bool chat) {
  try {
    CompletionRequest request =
        chat ? edgelm::server::parse_chat_request(body) : edgelm::server::parse_completion_request(body);
    build_responses(request);
  } catch (const ApiError& e) {
    edgelm::server::error_body(e).dump();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  nlohmann::json body;
  try {
    body = edgelm::server::parse_json_body(bytes);
  } catch (const ApiError& e) {
    // Most inputs are rejected. The error body carries the parser's message,
    // which quotes the input, so it is built and dumped too.
    edgelm::server::error_body(e).dump();
    return 0;
  }
  parse_and_respond(body, true);
  parse_and_respond(body, false);
  return 0;
}
