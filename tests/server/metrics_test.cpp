// The Prometheus text that GET /metrics returns.

#include "server/metrics.h"

#include <gtest/gtest.h>

#include <cmath>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace edgelm::server {
namespace {

// The value of the sample line that starts with `series` followed by a
// space, or NaN when there is none.
double sample(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nan("");
}

TEST(Metrics, RequestsByEndpointAndStatus) {
  Metrics metrics;
  metrics.count_request("/v1/chat/completions", 200);
  metrics.count_request("/v1/chat/completions", 200);
  metrics.count_request("/v1/chat/completions", 429);
  metrics.count_request("/health", 200);
  std::string text = metrics.render({});

  EXPECT_NE(text.find("# TYPE edgelm_requests_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# HELP edgelm_requests_total "), std::string::npos);
  EXPECT_EQ(sample(text, "edgelm_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"}"), 2);
  EXPECT_EQ(sample(text, "edgelm_requests_total{endpoint=\"/v1/chat/completions\",status=\"429\"}"), 1);
  EXPECT_EQ(sample(text, "edgelm_requests_total{endpoint=\"/health\",status=\"200\"}"), 1);
}

TEST(Metrics, LabelValuesEscaped) {
  Metrics metrics;
  metrics.count_request("a\"b\\c\nd", 404);
  std::string text = metrics.render({});
  EXPECT_EQ(sample(text, "edgelm_requests_total{endpoint=\"a\\\"b\\\\c\\nd\",status=\"404\"}"), 1);
}

TEST(Metrics, TokenCounters) {
  Metrics metrics;
  metrics.add_prompt_tokens(10, 0);
  metrics.add_prompt_tokens(3, 7);
  metrics.add_generated_tokens(5);
  metrics.add_generated_tokens(1);
  std::string text = metrics.render({});

  EXPECT_EQ(sample(text, "edgelm_prompt_tokens_total"), 20);
  EXPECT_EQ(sample(text, "edgelm_prompt_tokens_cached_total"), 7);
  EXPECT_EQ(sample(text, "edgelm_generated_tokens_total"), 6);
  EXPECT_NE(text.find("# TYPE edgelm_prompt_tokens_total counter\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE edgelm_generated_tokens_total counter\n"), std::string::npos);
}

TEST(Metrics, SchedulerGauges) {
  Metrics metrics;
  SchedulerStats stats;
  stats.queued = 3;
  stats.active = 2;
  stats.n_parallel = 4;
  stats.kv_used_bytes = 1024;
  stats.kv_total_bytes = 4096;
  stats.cached_sequences = 1;
  std::string text = metrics.render(stats);

  EXPECT_EQ(sample(text, "edgelm_queue_depth"), 3);
  EXPECT_EQ(sample(text, "edgelm_active_sequences"), 2);
  EXPECT_EQ(sample(text, "edgelm_parallel_slots"), 4);
  EXPECT_EQ(sample(text, "edgelm_cached_sequences"), 1);
  EXPECT_EQ(sample(text, "edgelm_kv_cache_used_bytes"), 1024);
  EXPECT_EQ(sample(text, "edgelm_kv_cache_total_bytes"), 4096);
  EXPECT_DOUBLE_EQ(sample(text, "edgelm_kv_cache_usage_ratio"), 0.25);
  EXPECT_NE(text.find("# TYPE edgelm_queue_depth gauge\n"), std::string::npos);
}

TEST(Metrics, UsageRatioWithoutCache) {
  Metrics metrics;
  EXPECT_EQ(sample(metrics.render({}), "edgelm_kv_cache_usage_ratio"), 0);
}

TEST(Metrics, HistogramBucketsCumulative) {
  Metrics metrics;
  metrics.observe_time_to_first_token(0.003);  // first bucket
  metrics.observe_time_to_first_token(0.05);   // exactly on the 0.05 bound
  metrics.observe_time_to_first_token(0.7);
  metrics.observe_time_to_first_token(500.0);  // only +Inf
  std::string text = metrics.render({});

  const std::string name = "edgelm_time_to_first_token_seconds";
  EXPECT_NE(text.find("# TYPE " + name + " histogram\n"), std::string::npos);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"0.005\"}"), 1);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"0.025\"}"), 1);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"0.05\"}"), 2);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"0.5\"}"), 2);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"1\"}"), 3);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"60\"}"), 3);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"+Inf\"}"), 4);
  EXPECT_EQ(sample(text, name + "_count"), 4);
  EXPECT_DOUBLE_EQ(sample(text, name + "_sum"), 0.003 + 0.05 + 0.7 + 500.0);
}

TEST(Metrics, InterTokenLatencyHistogram) {
  Metrics metrics;
  metrics.observe_inter_token_latency(0.002);
  metrics.observe_inter_token_latency(0.02);
  std::string text = metrics.render({});

  const std::string name = "edgelm_inter_token_latency_seconds";
  EXPECT_EQ(sample(text, name + "_bucket{le=\"0.001\"}"), 0);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"0.0025\"}"), 1);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"0.025\"}"), 2);
  EXPECT_EQ(sample(text, name + "_bucket{le=\"+Inf\"}"), 2);
  EXPECT_EQ(sample(text, name + "_count"), 2);
}

TEST(Metrics, EveryFamilyHasHelpAndType) {
  std::string text = Metrics().render({});
  const char* families[] = {"edgelm_requests_total",
                            "edgelm_prompt_tokens_total",
                            "edgelm_prompt_tokens_cached_total",
                            "edgelm_generated_tokens_total",
                            "edgelm_queue_depth",
                            "edgelm_active_sequences",
                            "edgelm_parallel_slots",
                            "edgelm_kv_cache_used_bytes",
                            "edgelm_kv_cache_total_bytes",
                            "edgelm_kv_cache_usage_ratio",
                            "edgelm_time_to_first_token_seconds",
                            "edgelm_inter_token_latency_seconds"};
  for (const char* family : families) {
    EXPECT_NE(text.find(std::string("# HELP ") + family + " "), std::string::npos) << family;
    EXPECT_NE(text.find(std::string("# TYPE ") + family + " "), std::string::npos) << family;
  }
  EXPECT_EQ(text.back(), '\n');
}

TEST(Metrics, ConcurrentUpdatesAllCounted) {
  Metrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        metrics.count_request("/v1/completions", 200);
        metrics.add_generated_tokens(1);
        metrics.observe_inter_token_latency(0.01);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  std::string text = metrics.render({});

  EXPECT_EQ(sample(text, "edgelm_requests_total{endpoint=\"/v1/completions\",status=\"200\"}"), 4000);
  EXPECT_EQ(sample(text, "edgelm_generated_tokens_total"), 4000);
  EXPECT_EQ(sample(text, "edgelm_inter_token_latency_seconds_count"), 4000);
}

}  // namespace
}  // namespace edgelm::server
