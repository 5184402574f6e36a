#pragma once
// Counters and histograms of the server, rendered in the Prometheus text
// exposition format for GET /metrics. Every method is thread-safe.

#include <cstddef>
#include <string>
#include <string_view>

namespace edgelm::server {

// Gauges read from the scheduler when /metrics is rendered.
struct SchedulerStats {
  size_t queued = 0;           // jobs waiting for a sequence slot
  size_t active = 0;           // sequences being prefilled or decoded
  size_t n_parallel = 0;       // sequence slots
  size_t kv_used_bytes = 0;    // KV cache bytes holding positions of any slot
  size_t kv_total_bytes = 0;   // KV cache bytes reserved for all slots
  size_t cached_sequences = 0; // idle slots keeping a prompt for reuse
};

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // One finished HTTP request on `endpoint` (e.g. "/v1/chat/completions")
  // with its final status.
  void count_request(std::string_view endpoint, int status);

  // `evaluated` prompt tokens ran through the model and `cached` ones reused
  // their KV from an earlier request; edgelm_prompt_tokens_total counts both.
  void add_prompt_tokens(size_t evaluated, size_t cached);
  void add_generated_tokens(size_t n);

  // Seconds from a job's arrival to its first generated token, and between
  // consecutive tokens of one job.
  void observe_time_to_first_token(double seconds);
  void observe_inter_token_latency(double seconds);

  // Everything, with the gauges of `stats`, as Prometheus text (version 0.0.4).
  std::string render(const SchedulerStats& stats) const;

 private:
  struct State;
  State* state_;
};

}  // namespace edgelm::server
