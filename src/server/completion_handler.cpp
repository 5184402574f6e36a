#include "server/completion_handler.h"

#include <algorithm>
#include <ctime>
#include <memory>

#include <fmt/format.h>

#include "core/log.h"
#include "server/completion_request.h"
#include "server/http_response.h"
#include "server/openai_response.h"
#include "server/peer_watch.h"
#include "server/prompt_builder.h"
#include "server/sse_stream.h"

namespace edgelm::server {
namespace {

// How long one wait for the job lasts before the connection is checked again.
constexpr std::chrono::milliseconds kPollInterval{50};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Waits for the whole output of a job and sends it as one response. A
// client that closes the connection meanwhile gets its job cancelled.
void respond_when_done(const httplib::Request& request, httplib::Response& response, const ServedModel& served,
                       const ResponseInfo& info, bool with_logprobs, const std::shared_ptr<Job>& job,
                       std::chrono::steady_clock::time_point received) {
  PeerWatch peer(request);
  std::string text;
  std::vector<TokenLogprob> logprobs;
  JobUpdate update;
  for (;;) {
    update = JobUpdate{};
    bool news = job->next(update, kPollInterval);
    if (peer.closed()) {
      job->cancel();
      spdlog::info("{}: client closed the connection; job cancelled", info.id);
      response.status = kClientClosedRequest;
      return;
    }
    if (!news) continue;
    text += update.text;
    std::move(update.logprobs.begin(), update.logprobs.end(), std::back_inserter(logprobs));
    if (update.done) break;
  }
  log_job_end(info.id, update, received);

  switch (update.finish_reason) {
    case FinishReason::kStop:
    case FinishReason::kLength:
      send_json(response, 200,
                completion_response(info, text, logprobs, with_logprobs, update.finish_reason, update.usage,
                                    served.model->tokenizer()));
      return;
    case FinishReason::kCancelled:
      send_error(response, ApiError(503, "the server is shutting down and cancelled this request", "server_error",
                                    "", "shutting_down"));
      return;
    case FinishReason::kError:
      send_error(response, ApiError(500, "generation failed: " + update.error, "server_error"));
      return;
  }
}

}  // namespace

void check_model_name(const std::string& requested, const ServedModel& served) {
  if (requested.empty()) return;
  if (std::find(served.names.begin(), served.names.end(), requested) != served.names.end()) return;
  throw ApiError(400, fmt::format("the model '{}' is not served here; this server serves '{}'", requested, served.name),
                 "invalid_request_error", "model", "model_not_found");
}

void handle_completion(const httplib::Request& request, const std::string& body, httplib::Response& response,
                       const ServedModel& served, bool chat) {
  const auto received = std::chrono::steady_clock::now();
  nlohmann::json json_body = parse_json_body(body);
  CompletionRequest parsed = chat ? parse_chat_request(json_body) : parse_completion_request(json_body);
  check_model_name(parsed.model, served);

  JobParams params = build_job(parsed, *served.model, served.chat_template);
  const size_t prompt_tokens = params.prompt.size();
  ResponseInfo info;
  info.chat = chat;
  info.id = make_response_id(chat);
  info.created = static_cast<int64_t>(std::time(nullptr));
  info.model = served.name;

  std::shared_ptr<Job> job = served.scheduler->submit(std::move(params));
  spdlog::info("{}: {} prompt tokens from {}:{}{}", info.id, prompt_tokens, request.remote_addr, request.remote_port,
               parsed.stream ? ", streamed" : "");

  if (parsed.stream) {
    StreamRequest stream;
    stream.job = std::move(job);
    stream.info = std::move(info);
    stream.with_logprobs = parsed.logprobs;
    stream.include_usage = parsed.include_usage;
    stream.tokenizer = &served.model->tokenizer();
    stream.received = received;
    stream_job(response, std::move(stream));
    return;
  }
  respond_when_done(request, response, served, info, parsed.logprobs, job, received);
}

void log_job_end(const std::string& id, const JobUpdate& final_update,
                 std::chrono::steady_clock::time_point received) {
  const JobUsage& usage = final_update.usage;
  if (final_update.finish_reason == FinishReason::kError) {
    spdlog::error("{}: generation failed after {:.2f} s: {}", id, seconds_since(received), final_update.error);
    return;
  }
  spdlog::info("{}: {} prompt tokens ({} cached), {} generated, finish {}, {:.2f} s", id, usage.prompt_tokens,
               usage.cached_tokens, usage.completion_tokens, finish_reason_name(final_update.finish_reason),
               seconds_since(received));
}

}  // namespace edgelm::server
