#include "server/metrics.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <map>
#include <mutex>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace edgelm::server {
namespace {

// Upper bounds in seconds. The first token waits for the whole prompt to be
// prefilled, which on a CPU takes from milliseconds to about a minute. The
// gap between later tokens is one decode step.
const std::vector<double> kTimeToFirstTokenBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                                     1.0,   2.5,  5.0,   10.0, 30.0, 60.0};
const std::vector<double> kInterTokenLatencyBounds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,   0.25,   0.5,   1.0,  2.5};

struct Histogram {
  explicit Histogram(const std::vector<double>& upper_bounds)
      : bounds(upper_bounds), counts(upper_bounds.size(), 0) {}

  // Counts the value in the first bucket whose bound is >= it. A larger
  // value only reaches the +Inf bucket, which is `count`.
  void observe(double value) {
    auto bucket = std::lower_bound(bounds.begin(), bounds.end(), value);
    if (bucket != bounds.end()) counts[bucket - bounds.begin()]++;
    sum += value;
    count++;
  }

  std::vector<double> bounds;
  std::vector<uint64_t> counts;  // per bucket, not cumulative
  double sum = 0.0;
  uint64_t count = 0;
};

// A label value with backslash, double quote and line feed escaped, as the
// text format requires.
std::string escape_label(std::string_view value) {
  std::string escaped;
  escaped.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      escaped += "\\\\";
    } else if (c == '"') {
      escaped += "\\\"";
    } else if (c == '\n') {
      escaped += "\\n";
    } else {
      escaped += c;
    }
  }
  return escaped;
}

// A sample value: integers without a fraction, other values in the shortest
// form that reads back exactly.
std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", value);
}

void write_header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

void write_scalar(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                  double value) {
  write_header(out, name, type, help);
  fmt::format_to(std::back_inserter(out), "{} {}\n", name, format_value(value));
}

void write_histogram(std::string& out, std::string_view name, std::string_view help, const Histogram& histogram) {
  write_header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < histogram.bounds.size(); ++i) {
    cumulative += histogram.counts[i];
    fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"{}\"}} {}\n", name, format_value(histogram.bounds[i]),
                   cumulative);
  }
  fmt::format_to(std::back_inserter(out), "{}_bucket{{le=\"+Inf\"}} {}\n", name, histogram.count);
  fmt::format_to(std::back_inserter(out), "{}_sum {}\n", name, format_value(histogram.sum));
  fmt::format_to(std::back_inserter(out), "{}_count {}\n", name, histogram.count);
}

}  // namespace

struct Metrics::State {
  mutable std::mutex mutex;  // guards requests and the histograms
  std::map<std::pair<std::string, int>, uint64_t> requests;  // (endpoint, status) -> count
  Histogram time_to_first_token{kTimeToFirstTokenBounds};
  Histogram inter_token_latency{kInterTokenLatencyBounds};

  std::atomic<uint64_t> prompt_tokens{0};
  std::atomic<uint64_t> cached_prompt_tokens{0};
  std::atomic<uint64_t> generated_tokens{0};
};

Metrics::Metrics() : state_(new State) {}

Metrics::~Metrics() { delete state_; }

void Metrics::count_request(std::string_view endpoint, int status) {
  std::lock_guard lock(state_->mutex);
  state_->requests[{std::string(endpoint), status}]++;
}

void Metrics::add_prompt_tokens(size_t evaluated, size_t cached) {
  state_->prompt_tokens += evaluated + cached;
  state_->cached_prompt_tokens += cached;
}

void Metrics::add_generated_tokens(size_t n) { state_->generated_tokens += n; }

void Metrics::observe_time_to_first_token(double seconds) {
  std::lock_guard lock(state_->mutex);
  state_->time_to_first_token.observe(seconds);
}

void Metrics::observe_inter_token_latency(double seconds) {
  std::lock_guard lock(state_->mutex);
  state_->inter_token_latency.observe(seconds);
}

std::string Metrics::render(const SchedulerStats& stats) const {
  std::string out;

  {
    std::lock_guard lock(state_->mutex);
    write_header(out, "edgelm_requests_total", "counter", "HTTP requests answered, by endpoint and status code.");
    for (const auto& [key, count] : state_->requests) {
      fmt::format_to(std::back_inserter(out), "edgelm_requests_total{{endpoint=\"{}\",status=\"{}\"}} {}\n",
                     escape_label(key.first), key.second, count);
    }
    write_histogram(out, "edgelm_time_to_first_token_seconds",
                    "Seconds from a request's arrival in the queue to its first generated token.",
                    state_->time_to_first_token);
    write_histogram(out, "edgelm_inter_token_latency_seconds",
                    "Seconds between consecutive generated tokens of one request.", state_->inter_token_latency);
  }

  write_scalar(out, "edgelm_prompt_tokens_total", "counter",
               "Prompt tokens of all requests, evaluated or taken from the KV cache.",
               static_cast<double>(state_->prompt_tokens.load()));
  write_scalar(out, "edgelm_prompt_tokens_cached_total", "counter",
               "Prompt tokens whose keys and values were reused from an earlier request.",
               static_cast<double>(state_->cached_prompt_tokens.load()));
  write_scalar(out, "edgelm_generated_tokens_total", "counter", "Tokens generated for all requests.",
               static_cast<double>(state_->generated_tokens.load()));

  write_scalar(out, "edgelm_queue_depth", "gauge", "Requests waiting for a free sequence slot.",
               static_cast<double>(stats.queued));
  write_scalar(out, "edgelm_active_sequences", "gauge", "Sequences being prefilled or decoded.",
               static_cast<double>(stats.active));
  write_scalar(out, "edgelm_parallel_slots", "gauge", "Sequence slots, the most requests served at once.",
               static_cast<double>(stats.n_parallel));
  write_scalar(out, "edgelm_cached_sequences", "gauge", "Idle slots keeping a finished prompt for reuse.",
               static_cast<double>(stats.cached_sequences));
  write_scalar(out, "edgelm_kv_cache_used_bytes", "gauge", "KV cache bytes holding positions of any slot.",
               static_cast<double>(stats.kv_used_bytes));
  write_scalar(out, "edgelm_kv_cache_total_bytes", "gauge", "KV cache bytes reserved for all slots.",
               static_cast<double>(stats.kv_total_bytes));
  double ratio = stats.kv_total_bytes == 0
                     ? 0.0
                     : static_cast<double>(stats.kv_used_bytes) / static_cast<double>(stats.kv_total_bytes);
  write_scalar(out, "edgelm_kv_cache_usage_ratio", "gauge", "Used share of the KV cache, from 0 to 1.", ratio);
  return out;
}

}  // namespace edgelm::server
