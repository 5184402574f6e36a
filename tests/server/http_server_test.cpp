// The HTTP API end to end: a real HttpServer on a loopback port over a real
// Scheduler and the tiny Gemma 2 model, driven with raw HTTP requests.

#include "server/http_server.h"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>


#include <httplib.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/thread_pool.h"
#include "model/model.h"
#include "server/scheduler.h"

namespace edgelm::server {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kModelFile = "tiny-gemma2-q8_0.gguf";

const Model& tiny_gemma() {
  static std::unique_ptr<Model> model = Model::load(std::string(EDGELM_SOURCE_DIR) + "/models/" + kModelFile);
  return *model;
}

// A chat request body with one user message.
std::string chat_body(const std::string& content, int max_tokens, json extra = json::object()) {
  json body = {{"messages", {{{"role", "user"}, {"content", content}}}},
               {"max_tokens", max_tokens},
               {"temperature", 0}};
  body.update(extra);
  return body.dump();
}

// A body that keeps one sequence busy for 1000 tokens. The tiny model needs
// hundreds of milliseconds for them, and the tests that send it end it early.
std::string long_stream_body() {
  return chat_body("Tell a long story", 1000, {{"stream", true}, {"ignore_eos", true}});
}

struct SseEvents {
  std::vector<json> chunks;  // every data event but [DONE]
  bool done = false;         // the last event was [DONE]
  size_t events_after_done = 0;
};

SseEvents parse_sse(const std::string& body) {
  SseEvents events;
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find("\n\n", start);
    if (end == std::string::npos) end = body.size();
    std::string event = body.substr(start, end - start);
    start = end + 2;
    if (event.rfind("data: ", 0) != 0) continue;
    std::string data = event.substr(6);
    if (events.done) events.events_after_done++;
    if (data == "[DONE]") {
      events.done = true;
    } else {
      events.chunks.push_back(json::parse(data));
    }
  }
  return events;
}

// Checks the OpenAI error shape and returns the "error" object.
json error_of(const httplib::Result& result) {
  EXPECT_EQ(result->get_header_value("Content-Type"), "application/json");
  json body = json::parse(result->body);
  EXPECT_TRUE(body.contains("error")) << result->body;
  json error = body["error"];
  EXPECT_TRUE(error["message"].is_string()) << result->body;
  EXPECT_TRUE(error["type"].is_string()) << result->body;
  EXPECT_TRUE(error.contains("param")) << result->body;
  EXPECT_TRUE(error.contains("code")) << result->body;
  return error;
}

class HttpServerTest : public ::testing::Test {
 protected:
  // Starts the server, not yet ready.
  void start(ServerConfig config = {}, SchedulerConfig scheduler_config = {1, 1024, 64, 4}) {
    config.host = "127.0.0.1";
    config.port = 0;
    config.http_threads = 16;
    scheduler_config_ = scheduler_config;
    http_ = std::make_unique<HttpServer>(config, metrics_);
    port_ = http_->start();
    ASSERT_GT(port_, 0);
  }

  void make_ready() {
    scheduler_ = std::make_unique<Scheduler>(tiny_gemma(), pool_, scheduler_config_, &metrics_);
    http_->set_ready(tiny_gemma(), *scheduler_);
  }

  void start_ready(ServerConfig config = {}, SchedulerConfig scheduler_config = {1, 1024, 64, 4}) {
    start(config, scheduler_config);
    make_ready();
  }

  void TearDown() override {
    if (scheduler_) scheduler_->shutdown(0ms);
    if (http_) http_->stop();
  }

  std::unique_ptr<httplib::Client> client() {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
    c->set_read_timeout(30, 0);
    return c;
  }

  httplib::Result post(const std::string& path, const std::string& body, httplib::Headers headers = {}) {
    return client()->Post(path.c_str(), headers, body, "application/json");
  }

  // Waits up to `timeout` for the scheduler to have no active sequence.
  bool wait_until_idle(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (scheduler_->stats().active == 0 && scheduler_->stats().queued == 0) return true;
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  bool wait_until_active(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (scheduler_->stats().active > 0) return true;
      std::this_thread::sleep_for(5ms);
    }
    return false;
  }

  // edgelm_generated_tokens_total as /metrics shows it.
  int generated_tokens() {
    const std::string name = "\nedgelm_generated_tokens_total ";
    std::string text = metrics_.render(scheduler_->stats());
    size_t at = text.find(name);
    return at == std::string::npos ? -1 : std::stoi(text.substr(at + name.size()));
  }

  Metrics metrics_;
  ThreadPool pool_{1};
  SchedulerConfig scheduler_config_;
  std::unique_ptr<HttpServer> http_;
  std::unique_ptr<Scheduler> scheduler_;
  int port_ = 0;
};

TEST_F(HttpServerTest, HealthLoadingThenOk) {
  start();
  auto loading = client()->Get("/health");
  ASSERT_TRUE(loading);
  EXPECT_EQ(loading->status, 503);
  EXPECT_EQ(json::parse(loading->body), json({{"status", "loading"}}));

  auto api = post("/v1/chat/completions", chat_body("Hi", 2));
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 503);
  EXPECT_EQ(error_of(api)["code"], "loading");

  make_ready();
  auto ok = client()->Get("/health");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(json::parse(ok->body), json({{"status", "ok"}}));
}

TEST_F(HttpServerTest, ApiKeyRequired) {
  ServerConfig config;
  config.api_key = "sk-test-123";
  start_ready(config);

  auto missing = client()->Get("/v1/models");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 401);
  EXPECT_EQ(error_of(missing)["type"], "authentication_error");

  auto wrong = client()->Get("/v1/models", {{"Authorization", "Bearer sk-test-124"}});
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(error_of(wrong)["type"], "authentication_error");

  auto prefix = post("/v1/chat/completions", chat_body("Hi", 2), {{"Authorization", "Bearer sk-test-12"}});
  ASSERT_TRUE(prefix);
  EXPECT_EQ(prefix->status, 401);

  auto right = client()->Get("/v1/models", {{"Authorization", "Bearer sk-test-123"}});
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 200);

  auto chat = post("/v1/chat/completions", chat_body("Hi", 2), {{"Authorization", "bearer sk-test-123"}});
  ASSERT_TRUE(chat);
  EXPECT_EQ(chat->status, 200) << chat->body;

  auto health = client()->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(HttpServerTest, BodyTooLarge) {
  ServerConfig config;
  config.max_body_bytes = 1000;
  start_ready(config);

  auto result = post("/v1/chat/completions", chat_body(std::string(5000, 'a'), 2));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 413);
  json error = error_of(result);
  EXPECT_NE(error["message"].get<std::string>().find("1000 bytes"), std::string::npos) << error;

  // A chunked body has no Content-Length, so the server counts as it reads.
  std::string large = chat_body(std::string(5000, 'a'), 2);
  auto chunked = client()->Post(
      "/v1/chat/completions",
      [&](size_t offset, httplib::DataSink& sink) {
        sink.write(large.data(), large.size());
        sink.done();
        return true;
      },
      "application/json");
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 413);
  EXPECT_NE(error_of(chunked)["message"].get<std::string>().find("1000 bytes"), std::string::npos);

  auto small = post("/v1/chat/completions", chat_body("Hi", 2));
  ASSERT_TRUE(small);
  EXPECT_EQ(small->status, 200);
}

TEST_F(HttpServerTest, FormEncodedBodyAccepted) {
  // curl -d sends this content type; the body is still JSON.
  start_ready();
  auto result = client()->Post("/v1/chat/completions", chat_body(std::string(20000, 'a'), 1),
                               "application/x-www-form-urlencoded");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);  // the prompt is longer than the context, not 413
  EXPECT_EQ(error_of(result)["code"], "context_length_exceeded");
}

TEST_F(HttpServerTest, MalformedJson) {
  start_ready();
  auto result = post("/v1/chat/completions", "{\"messages\": [");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  EXPECT_EQ(error_of(result)["type"], "invalid_request_error");

  auto wrong_type = post("/v1/chat/completions", R"({"messages": "hello"})");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 400);
  EXPECT_EQ(error_of(wrong_type)["param"], "messages");
}

TEST_F(HttpServerTest, ModelNames) {
  ServerConfig config;
  config.alias = "tiny";
  start_ready(config);

  for (const std::string& name : {std::string(), std::string("tiny"), kModelFile, std::string("tiny-gemma2-q8_0")}) {
    json extra = json::object();
    if (!name.empty()) extra["model"] = name;
    auto result = post("/v1/chat/completions", chat_body("Hi", 1, extra));
    ASSERT_TRUE(result);
    EXPECT_EQ(result->status, 200) << name << ": " << result->body;
    EXPECT_EQ(json::parse(result->body)["model"], "tiny");
  }

  auto unknown = post("/v1/chat/completions", chat_body("Hi", 1, {{"model", "gpt-4o"}}));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 400);
  json error = error_of(unknown);
  EXPECT_EQ(error["param"], "model");
  EXPECT_EQ(error["code"], "model_not_found");
  EXPECT_NE(error["message"].get<std::string>().find("tiny"), std::string::npos) << error;

  auto models = client()->Get("/v1/models");
  ASSERT_TRUE(models);
  EXPECT_EQ(models->status, 200);
  EXPECT_EQ(json::parse(models->body)["data"][0]["id"], "tiny");
}

TEST_F(HttpServerTest, PromptTooLong) {
  start_ready({}, {1, 64, 64, 4});
  json body = {{"prompt", std::vector<int32_t>(100, 300)}, {"max_tokens", 1}};
  auto result = post("/v1/completions", body.dump());
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  json error = error_of(result);
  std::string message = error["message"];
  EXPECT_NE(message.find("100"), std::string::npos) << message;
  EXPECT_NE(message.find("64"), std::string::npos) << message;
  EXPECT_EQ(error["code"], "context_length_exceeded");
  EXPECT_EQ(error["param"], "prompt");

  json chat = json::parse(chat_body(std::string(400, 'a') + " " + std::string(400, 'b'), 1));
  auto chat_result = post("/v1/chat/completions", chat.dump());
  ASSERT_TRUE(chat_result);
  EXPECT_EQ(chat_result->status, 400);
  EXPECT_EQ(error_of(chat_result)["param"], "messages");
}

TEST_F(HttpServerTest, HealthFailsWhileDraining) {
  start_ready();
  http_->set_draining();
  auto health = client()->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 503);
  EXPECT_EQ(json::parse(health->body), json({{"status", "shutting down"}}));
}

// The backlog of the IPv4 socket listening on `port`, read through the
// kernel's socket diagnostics (what `ss -lt` shows as Send-Q). -1 if not found.
long listen_backlog(int port) {
  int fd = ::socket(AF_NETLINK, SOCK_DGRAM, NETLINK_SOCK_DIAG);
  if (fd < 0) return -1;
  struct {
    nlmsghdr header;
    inet_diag_req_v2 request;
  } message{};
  message.header.nlmsg_len = sizeof(message);
  message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  message.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  message.request.sdiag_family = AF_INET;
  message.request.sdiag_protocol = IPPROTO_TCP;
  message.request.idiag_states = 1u << 10;  // TCP_LISTEN
  long backlog = -1;
  if (::send(fd, &message, sizeof(message), 0) == static_cast<ssize_t>(sizeof(message))) {
    std::vector<char> buffer(1 << 16);
    for (bool done = false; !done && backlog < 0;) {
      ssize_t n = ::recv(fd, buffer.data(), buffer.size(), 0);
      if (n <= 0) break;
      for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
          done = true;
          break;
        }
        auto* diag = static_cast<inet_diag_msg*>(NLMSG_DATA(h));
        if (ntohs(diag->id.idiag_sport) == port) backlog = diag->idiag_wqueue;
      }
    }
  }
  ::close(fd);
  return backlog;
}

// httplib 0.11 listens with a backlog of 5, which drops connections when many clients connect at once.
TEST_F(HttpServerTest, ListenBacklogRaised) {
  start();
  EXPECT_EQ(listen_backlog(port_), 512);
}

// An idle keep-alive connection does not hold stop() for httplib's 5 s keep-alive timeout.
TEST_F(HttpServerTest, StopClosesIdleConnections) {
  start_ready();
  httplib::Client keep_alive("127.0.0.1", port_);
  keep_alive.set_keep_alive(true);
  auto health = keep_alive.Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);

  auto begin = std::chrono::steady_clock::now();
  scheduler_->shutdown(0ms);
  http_->stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 1s);
}

TEST_F(HttpServerTest, QueueFullRetryAfter) {
  start_ready({}, {1, 1024, 64, 0});

  // One long stream takes the only slot. Its client stops reading once the
  // other request got its response.
  std::atomic<bool> release{false};
  std::thread busy([&] {
    httplib::Request request;
    request.method = "POST";
    request.path = "/v1/chat/completions";
    request.set_header("Content-Type", "application/json");
    request.body = long_stream_body();
    request.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return !release.load(); };
    client()->send(request);
  });
  ASSERT_TRUE(wait_until_active(5s));

  auto rejected = post("/v1/chat/completions", chat_body("Hi", 2));
  release = true;
  busy.join();
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->status, 429);
  EXPECT_EQ(rejected->get_header_value("Retry-After"), "1");
  EXPECT_EQ(error_of(rejected)["type"], "rate_limit_error");
}

TEST_F(HttpServerTest, UnknownPathAndMethod) {
  start_ready();
  auto missing = client()->Get("/v1/engines");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_of(missing)["type"], "invalid_request_error");

  auto wrong_method = client()->Get("/v1/chat/completions");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->get_header_value("Allow"), "POST, OPTIONS");
  error_of(wrong_method);

  auto delete_health = client()->Delete("/health");
  ASSERT_TRUE(delete_health);
  EXPECT_EQ(delete_health->status, 405);
}

TEST_F(HttpServerTest, CorsPreflight) {
  start_ready();
  auto preflight = client()->Options("/v1/chat/completions", {{"Origin", "http://localhost:3000"},
                                                               {"Access-Control-Request-Method", "POST"},
                                                               {"Access-Control-Request-Headers", "authorization"}});
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Origin"), "*");
  EXPECT_NE(preflight->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);
  EXPECT_EQ(preflight->get_header_value("Access-Control-Allow-Headers"), "authorization");

  auto health = client()->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->get_header_value("Access-Control-Allow-Origin"), "*");
}

TEST_F(HttpServerTest, StreamMatchesWholeResponse) {
  start_ready();
  auto whole = post("/v1/chat/completions", chat_body("Write a poem", 24, {{"ignore_eos", true}}));
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  json response = json::parse(whole->body);
  std::string expected = response["choices"][0]["message"]["content"];
  EXPECT_EQ(response["object"], "chat.completion");
  EXPECT_EQ(response["usage"]["completion_tokens"], 24);

  auto streamed = post("/v1/chat/completions",
                       chat_body("Write a poem", 24,
                                 {{"ignore_eos", true}, {"stream", true}, {"stream_options", {{"include_usage", true}}}}));
  ASSERT_TRUE(streamed);
  ASSERT_EQ(streamed->status, 200);
  EXPECT_EQ(streamed->get_header_value("Content-Type"), "text/event-stream");
  SseEvents events = parse_sse(streamed->body);
  ASSERT_TRUE(events.done);
  EXPECT_EQ(events.events_after_done, 0u);
  ASSERT_GE(events.chunks.size(), 3u);

  EXPECT_EQ(events.chunks.front()["choices"][0]["delta"]["role"], "assistant");
  std::string text;
  std::string finish_reason;
  for (const json& chunk : events.chunks) {
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    EXPECT_EQ(chunk["id"], events.chunks.front()["id"]);
    if (chunk["choices"].empty()) continue;
    const json& choice = chunk["choices"][0];
    if (choice["delta"].contains("content")) text += choice["delta"]["content"].get<std::string>();
    if (!choice["finish_reason"].is_null()) finish_reason = choice["finish_reason"];
  }
  EXPECT_EQ(text, expected);
  EXPECT_EQ(finish_reason, "length");

  const json& usage_chunk = events.chunks.back();
  EXPECT_TRUE(usage_chunk["choices"].empty());
  EXPECT_EQ(usage_chunk["usage"]["completion_tokens"], 24);
  EXPECT_EQ(usage_chunk["usage"]["prompt_tokens"], response["usage"]["prompt_tokens"]);
}

TEST_F(HttpServerTest, CompletionsStream) {
  start_ready();
  json body = {{"prompt", "Once upon a time"}, {"max_tokens", 8}, {"temperature", 0}, {"ignore_eos", true}};
  auto whole = post("/v1/completions", body.dump());
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  json response = json::parse(whole->body);
  EXPECT_EQ(response["object"], "text_completion");

  body["stream"] = true;
  auto streamed = post("/v1/completions", body.dump());
  ASSERT_TRUE(streamed);
  SseEvents events = parse_sse(streamed->body);
  ASSERT_TRUE(events.done);
  std::string text;
  for (const json& chunk : events.chunks) text += chunk["choices"][0]["text"].get<std::string>();
  EXPECT_EQ(text, response["choices"][0]["text"].get<std::string>());
  EXPECT_EQ(events.chunks.back()["choices"][0]["finish_reason"], "length");
}

TEST_F(HttpServerTest, StreamDisconnectCancelsJob) {
  start_ready();
  int chunks = 0;
  httplib::Request request;
  request.method = "POST";
  request.path = "/v1/chat/completions";
  request.set_header("Content-Type", "application/json");
  request.body = long_stream_body();
  request.content_receiver = [&](const char*, size_t, uint64_t, uint64_t) { return ++chunks < 3; };
  auto result = client()->send(request);
  EXPECT_FALSE(result);  // the client cancelled
  EXPECT_EQ(chunks, 3);

  EXPECT_TRUE(wait_until_idle(1s)) << "active " << scheduler_->stats().active;
  EXPECT_LT(generated_tokens(), 1000) << "the job ran to its end";
}

TEST_F(HttpServerTest, WaitingClientDisconnectCancelsJob) {
  start_ready();
  auto impatient = client();
  impatient->set_read_timeout(0, 50000);  // gives up after 50 ms, long before 1000 tokens
  auto result = impatient->Post("/v1/chat/completions", chat_body("Tell a long story", 1000, {{"ignore_eos", true}}),
                                "application/json");
  EXPECT_FALSE(result);
  impatient.reset();

  EXPECT_TRUE(wait_until_idle(1s)) << "active " << scheduler_->stats().active;
  EXPECT_LT(generated_tokens(), 1000) << "the job ran to its end";
}

TEST_F(HttpServerTest, ShutdownEndsStreamWithError) {
  start_ready();
  std::string streamed;
  std::thread reader([&] {
    auto result = post("/v1/chat/completions", long_stream_body());
    if (result) streamed = result->body;
  });
  ASSERT_TRUE(wait_until_active(5s));
  scheduler_->shutdown(0ms);
  reader.join();

  SseEvents events = parse_sse(streamed);
  EXPECT_TRUE(events.done);
  ASSERT_FALSE(events.chunks.empty());
  const json& last = events.chunks.back();
  ASSERT_TRUE(last.contains("error")) << last;
  EXPECT_EQ(last["error"]["code"], "shutting_down");

  auto late = post("/v1/chat/completions", chat_body("Hi", 2));
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 503);
  EXPECT_EQ(error_of(late)["code"], "shutting_down");
}

TEST_F(HttpServerTest, MetricsCountRequests) {
  start_ready();
  auto ok = post("/v1/chat/completions", chat_body("Hi", 5, {{"ignore_eos", true}}));
  ASSERT_TRUE(ok);
  ASSERT_EQ(ok->status, 200);
  json usage = json::parse(ok->body)["usage"];
  auto bad = post("/v1/chat/completions", "not json");
  ASSERT_TRUE(bad);
  auto missing = client()->Get("/nowhere");
  ASSERT_TRUE(missing);

  // httplib counts a request after its response is written, so the last
  // count may land just after the client has read it.
  std::string text;
  auto deadline = std::chrono::steady_clock::now() + 2s;
  const std::string not_found = "edgelm_requests_total{endpoint=\"other\",status=\"404\"} 1\n";
  const std::string done = "edgelm_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 1\n";
  const std::string rejected = "edgelm_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"} 1\n";
  while (std::chrono::steady_clock::now() < deadline) {
    auto metrics = client()->Get("/metrics");
    ASSERT_TRUE(metrics);
    ASSERT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    text = metrics->body;
    const bool all_counted = text.find(not_found) != std::string::npos && text.find(done) != std::string::npos &&
                             text.find(rejected) != std::string::npos;
    if (all_counted) break;
    std::this_thread::sleep_for(20ms);
  }

  EXPECT_NE(text.find("edgelm_requests_total{endpoint=\"/v1/chat/completions\",status=\"200\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("edgelm_requests_total{endpoint=\"/v1/chat/completions\",status=\"400\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find(not_found), std::string::npos) << text;
  EXPECT_NE(text.find("edgelm_generated_tokens_total 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("edgelm_prompt_tokens_total " + usage["prompt_tokens"].dump() + "\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("edgelm_parallel_slots 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("edgelm_time_to_first_token_seconds_count 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("edgelm_inter_token_latency_seconds_count 4\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace edgelm::server
