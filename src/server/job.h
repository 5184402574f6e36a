#pragma once
// One generation request: its parameters, and the channel that carries the
// generated text back to the HTTP thread waiting for it.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sample/sampler.h"

namespace edgelm::server {

enum class FinishReason { kStop, kLength, kCancelled, kError };

// "stop", "length", "cancelled", "error".
const char* finish_reason_name(FinishReason reason);

struct JobParams {
  std::vector<int32_t> prompt;  // token ids, BOS included where the model wants one
  std::string prompt_field = "prompt";  // the request field the prompt came from, named in errors
  int32_t max_tokens = -1;      // -1: until the context is full
  SamplerConfig sampling;         // with OpenAI's presence and frequency penalties
  std::vector<std::string> stop;  // generation ends before the first of these texts
  bool ignore_eos = false;        // end-of-generation tokens do not stop it
  int32_t top_logprobs = -1;      // -1: no log-probabilities; 0..20: with that many alternatives
};

struct TokenLogprob {
  int32_t token = 0;
  std::string bytes;  // the token's text; may be part of a UTF-8 character
  float logprob = 0.0f;
  std::vector<std::pair<int32_t, float>> top;  // the most likely tokens, best first
};

struct JobUsage {
  size_t prompt_tokens = 0;
  size_t cached_tokens = 0;  // prompt tokens whose KV came from an earlier request
  size_t completion_tokens = 0;
};

struct JobUpdate {
  std::string text;                    // whole UTF-8 characters, stop strings cut off
  std::vector<TokenLogprob> logprobs;  // of the tokens generated since the last update
  bool done = false;
  FinishReason finish_reason = FinishReason::kLength;  // set when done
  std::string error;                                    // set for kError
  JobUsage usage;                                       // set when done
};

class Job {
 public:
  explicit Job(JobParams params) : params_(std::move(params)) {}

  const JobParams& params() const { return params_; }

  // When the job was made, the start of its time to first token.
  std::chrono::steady_clock::time_point created() const { return created_; }

  // Waits at most `timeout` for news and moves everything that arrived since
  // the last call into `update` (text joined, logprobs appended). Returns false
  // when nothing came in time. After an update with done, nothing more comes.
  bool next(JobUpdate& update, std::chrono::milliseconds timeout);

  // Asks the scheduler to stop this job; its sequence is freed at the next
  // step and a final update with kCancelled follows.
  void cancel() { cancelled_.store(true); }
  bool cancelled() const { return cancelled_.load(); }

  // Scheduler side: adds to the pending update and wakes the waiter.
  void publish(std::string_view text, std::vector<TokenLogprob> logprobs);
  void finish(FinishReason reason, const JobUsage& usage, std::string error = {});

 private:
  const JobParams params_;
  const std::chrono::steady_clock::time_point created_ = std::chrono::steady_clock::now();
  std::atomic<bool> cancelled_{false};
  std::mutex mutex_;
  std::condition_variable ready_;
  JobUpdate pending_;
  bool has_news_ = false;
};

}  // namespace edgelm::server
