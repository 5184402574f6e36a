#include "server/sse_stream.h"

#include <atomic>
#include <optional>
#include <string>

#include "core/log.h"
#include "server/completion_handler.h"

namespace edgelm::server {
namespace {

// How long one wait for news lasts before the connection is checked again,
// so a client leaving during a long prefill is noticed within this time.
constexpr std::chrono::milliseconds kPollInterval{50};

struct StreamState {
  StreamRequest request;
  std::atomic<bool> finished{false};  // the job's final update was read
};

// Sends one event and returns false when the client is gone.
bool send(httplib::DataSink& sink, const std::string& event) {
  return sink.is_writable() && sink.write(event.data(), event.size());
}

// The event that ends a stream whose job failed or was cancelled by shutdown.
std::string error_event(const JobUpdate& update) {
  if (update.finish_reason == FinishReason::kCancelled) {
    return sse_event(error_body(
        ApiError(503, "the server is shutting down and cancelled this request", "server_error", "", "shutting_down")));
  }
  return sse_event(error_body(ApiError(500, "generation failed: " + update.error, "server_error")));
}

// Runs the whole stream in one call of the content provider. Returns false
// when the client went away, which makes httplib close the connection.
bool run_stream(StreamState& state, httplib::DataSink& sink) {
  StreamRequest& request = state.request;
  const Tokenizer& tokenizer = *request.tokenizer;
  auto client_gone = [&] {
    request.job->cancel();
    spdlog::info("{}: client closed the stream; job cancelled", request.info.id);
    return false;
  };

  // Chat streams open with the role, as OpenAI's do, before the first token.
  if (request.info.chat) {
    auto opening = stream_chunk(request.info, "", {}, request.with_logprobs, /*first=*/true, std::nullopt, tokenizer);
    if (!send(sink, sse_event(opening))) return client_gone();
  }

  JobUpdate update;
  size_t text_offset = 0;
  for (;;) {
    update = JobUpdate{};
    if (!request.job->next(update, kPollInterval)) {
      if (!sink.is_writable()) return client_gone();
      continue;
    }
    if (!update.text.empty() || !update.logprobs.empty()) {
      auto chunk = stream_chunk(request.info, update.text, update.logprobs, request.with_logprobs, /*first=*/false,
                                std::nullopt, tokenizer, text_offset);
      text_offset += logprob_characters(update.logprobs);
      if (!send(sink, sse_event(chunk))) return client_gone();
    }
    if (update.done) break;
  }
  state.finished = true;
  log_job_end(request.info.id, update, request.received);

  std::string tail;
  if (update.finish_reason == FinishReason::kStop || update.finish_reason == FinishReason::kLength) {
    tail += sse_event(stream_chunk(request.info, "", {}, request.with_logprobs, /*first=*/false,
                                   update.finish_reason, tokenizer));
    if (request.include_usage) tail += sse_event(usage_chunk(request.info, update.usage));
  } else if (update.finish_reason == FinishReason::kCancelled && !sink.is_writable()) {
    return false;
  } else {
    tail += error_event(update);
  }
  tail += "data: [DONE]\n\n";
  if (!send(sink, tail)) return false;
  sink.done();
  return true;
}

}  // namespace

void stream_job(httplib::Response& response, StreamRequest request) {
  auto state = std::make_shared<StreamState>();
  state->request = std::move(request);

  response.status = 200;
  response.set_header("Cache-Control", "no-cache");
  response.set_header("X-Accel-Buffering", "no");  // keeps reverse proxies such as nginx from buffering events
  response.set_chunked_content_provider(
      "text/event-stream",
      [state](size_t /*offset*/, httplib::DataSink& sink) {
        // httplib runs the provider outside the handler's exception guard,
        // where an exception would end the process.
        try {
          return run_stream(*state, sink);
        } catch (const std::exception& e) {
          spdlog::error("{}: streaming failed: {}", state->request.info.id, e.what());
          state->request.job->cancel();
          return false;
        }
      },
      [state](bool /*success*/) {
        // httplib drops the provider without running it to the end when
        // writing the headers failed.
        if (!state->finished) state->request.job->cancel();
      });
}

}  // namespace edgelm::server
