#include "server/http_server.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <thread>

#include <httplib.h>

#include "core/error.h"
#include "core/log.h"
#include "server/completion_handler.h"
#include "server/http_response.h"
#include "server/peer_watch.h"

namespace edgelm::server {
namespace {

// Pending connections the kernel queues before accept().
constexpr int kListenBacklog = 512;

// The methods each route accepts. Another method on the path gets 405.
const std::map<std::string, std::string>& route_methods() {
  static const std::map<std::string, std::string> routes = {
      {"/v1/chat/completions", "POST, OPTIONS"}, {"/v1/completions", "POST, OPTIONS"},
      {"/v1/models", "GET, HEAD, OPTIONS"},      {"/health", "GET, HEAD, OPTIONS"},
      {"/metrics", "GET, HEAD, OPTIONS"},
  };
  return routes;
}

// The endpoint label for /metrics: unknown paths share one value, so a
// client cannot add a time series per path it makes up.
std::string endpoint_label(const std::string& path) {
  return route_methods().count(path) != 0 ? path : "other";
}

// Compares a key sent by a client with the configured one (not empty),
// XOR-ing every byte so the time taken does not reveal how much of it matched.
bool key_matches(std::string_view provided, std::string_view expected) {
  unsigned char difference = provided.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < provided.size(); ++i) {
    difference |= static_cast<unsigned char>(provided[i] ^ expected[i % expected.size()]);
  }
  return difference == 0;
}

// Returns the key of "Authorization: Bearer KEY", or an empty string when
// the header is missing or uses another scheme.
std::string bearer_token(const httplib::Request& request) {
  std::string header = request.get_header_value("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(header[i])) != kScheme[i]) return {};
  }
  size_t start = header.find_first_not_of(' ', kScheme.size());
  size_t end = header.find_last_not_of(' ');
  return start == std::string::npos ? std::string() : header.substr(start, end - start + 1);
}

// Bytes beyond the body limit that are read and dropped before a 413 so
// the connection can carry the next request.
constexpr size_t kMaxDrainedBytes = 64 << 20;

ApiError body_too_large(size_t max_body_bytes) {
  return ApiError(413,
                  fmt::format("the request body is larger than the limit of {} bytes; send a smaller body, "
                              "or raise the server's --max-body",
                              max_body_bytes),
                  "invalid_request_error", "", "request_too_large");
}

// The error body for a status that httplib set itself or a route left
// without a body.
ApiError status_error(const httplib::Request& request, int status, size_t max_body_bytes) {
  switch (status) {
    case 400:
      return invalid_request("the HTTP request is malformed");
    case 404:
      return ApiError(404, fmt::format("no route for {} {}", request.method, request.path), "invalid_request_error",
                      "", "not_found");
    case 413:
      return body_too_large(max_body_bytes);
    case 414:
      return ApiError(414, "the request URI is too long", "invalid_request_error");
    default:
      return ApiError(status, fmt::format("the request failed with HTTP status {}", status),
                      status >= 500 ? "server_error" : "invalid_request_error");
  }
}

}  // namespace

struct HttpServer::Impl {
  Impl(ServerConfig config, Metrics& metrics) : config(std::move(config)), metrics(metrics) {}

  void add_routes();
  bool authorized(const httplib::Request& request, httplib::Response& response) const;
  bool check_ready(httplib::Response& response) const;
  bool read_body(const httplib::ContentReader& reader, httplib::Response& response, std::string& body) const;
  void guarded(const httplib::Request& request, httplib::Response& response,
               const std::function<void()>& handler) const;
  void on_error_status(const httplib::Request& request, httplib::Response& response) const;

  ServerConfig config;
  Metrics& metrics;
  httplib::Server server;
  std::thread listener;
  int port = 0;
  int64_t started = static_cast<int64_t>(std::time(nullptr));

  // Written once by set_ready before `ready` is released; read only after
  // `ready` was acquired.
  ServedModel served;
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
  int listen_socket = -1;
  std::atomic<bool> listener_done{false};

  // Completion requests whose response is not fully written yet. httplib
  // runs a request's handler and then its logger on one thread, after the
  // last byte, so a thread-local flag pairs the two.
  std::atomic<int> completions_in_flight{0};
  void begin_completion() {
    completion_running = true;
    completions_in_flight.fetch_add(1);
  }
  void end_completion() {
    if (!completion_running) return;
    completion_running = false;
    completions_in_flight.fetch_sub(1);
  }
  static thread_local bool completion_running;
};

bool HttpServer::Impl::authorized(const httplib::Request& request, httplib::Response& response) const {
  if (config.api_key.empty()) return true;
  std::string key = bearer_token(request);
  if (key_matches(key, config.api_key)) return true;

  const char* message = key.empty() ? "missing API key; send it in the header 'Authorization: Bearer KEY'"
                                    : "invalid API key";
  response.set_header("WWW-Authenticate", "Bearer");
  send_error(response, ApiError(401, message, "authentication_error", "", "invalid_api_key"));
  return false;
}

bool HttpServer::Impl::check_ready(httplib::Response& response) const {
  if (ready.load(std::memory_order_acquire)) return true;
  response.set_header("Retry-After", "1");
  send_error(response, ApiError(503, "the model is still loading; retry shortly", "server_error", "", "loading"));
  return false;
}

// Reads the request body into `body`, or sends 413 when it is over the
// limit (httplib sets 413 itself for a Content-Length over it) or 400 when
// reading failed.
bool HttpServer::Impl::read_body(const httplib::ContentReader& reader, httplib::Response& response,
                                 std::string& body) const {
  const size_t limit = config.max_body_bytes;
  size_t received = 0;
  bool read = reader([&](const char* data, size_t n) {
    received += n;
    if (received > limit) {
      // A moderate excess is read and dropped so the connection stays usable
      // for the next request. A sender of much more is cut off.
      return received - limit <= kMaxDrainedBytes;
    }
    body.append(data, n);
    return true;
  });

  if (response.status == 413 || received > limit) {
    send_error(response, body_too_large(limit));
    return false;
  }
  if (!read) {
    send_error(response, invalid_request("reading the request body failed"));
    return false;
  }
  return true;
}

// Runs a route and turns every exception into an OpenAI error response.
void HttpServer::Impl::guarded(const httplib::Request& request, httplib::Response& response,
                               const std::function<void()>& handler) const {
  try {
    handler();
  } catch (const ApiError& e) {
    spdlog::debug("{} {}: {} {}", request.method, request.path, e.status, e.what());
    send_error(response, e);
  } catch (const Error& e) {
    // edgelm errors raised while building the job come from what the
    // client sent: a conversation the template rejects, text it cannot tokenize.
    spdlog::debug("{} {}: 400 {}", request.method, request.path, e.what());
    send_error(response, invalid_request(e.what()));
  } catch (const std::exception& e) {
    spdlog::error("{} {}: internal error: {}", request.method, request.path, e.what());
    send_error(response, ApiError(500, fmt::format("internal error: {}", e.what()), "server_error"));
  }
}

// Gives every error status a JSON body: those httplib sets itself (404,
// 413, 414, 400) and a route's known path called with another method (405).
void HttpServer::Impl::on_error_status(const httplib::Request& request, httplib::Response& response) const {
  if (!response.body.empty()) return;

  auto route = route_methods().find(request.path);
  if (response.status == 404 && route != route_methods().end()) {
    response.set_header("Allow", route->second);
    send_error(response, ApiError(405, fmt::format("{} does not accept {}; use {}", request.path, request.method,
                                                   route->second),
                                  "invalid_request_error", "", "method_not_allowed"));
    return;
  }
  send_error(response, status_error(request, response.status, config.max_body_bytes));
}

void HttpServer::Impl::add_routes() {
  server.Get("/health", [this](const httplib::Request&, httplib::Response& response) {
    // Load balancers stop routing here once shutdown began.
    if (draining.load()) return send_json(response, 503, {{"status", "shutting down"}});
    bool is_ready = ready.load(std::memory_order_acquire);
    send_json(response, is_ready ? 200 : 503, {{"status", is_ready ? "ok" : "loading"}});
  });

  server.Get("/metrics", [this](const httplib::Request& request, httplib::Response& response) {
    guarded(request, response, [&] {
      if (!authorized(request, response)) return;
      SchedulerStats stats;
      if (ready.load(std::memory_order_acquire)) stats = served.scheduler->stats();
      response.set_content(metrics.render(stats), "text/plain; version=0.0.4; charset=utf-8");
    });
  });

  server.Get("/v1/models", [this](const httplib::Request& request, httplib::Response& response) {
    guarded(request, response, [&] {
      if (!authorized(request, response) || !check_ready(response)) return;
      send_json(response, 200, models_response(served.name, started));
    });
  });

  // The completion routes read the body themselves: httplib limits only
  // bodies with a Content-Length, and caps form-encoded ones (what `curl -d`
  // sends) at 8192 bytes.
  for (bool chat : {true, false}) {
    server.Post(chat ? "/v1/chat/completions" : "/v1/completions",
                [this, chat](const httplib::Request& request, httplib::Response& response,
                             const httplib::ContentReader& reader) {
                  begin_completion();
                  std::string body;
                  if (!read_body(reader, response, body)) return;
                  guarded(request, response, [&] {
                    if (!authorized(request, response) || !check_ready(response)) return;
                    handle_completion(request, body, response, served, chat);
                  });
                });
  }

  // CORS preflight: browsers ask before a cross-origin POST with JSON or an
  // Authorization header, and send no credentials with the question.
  server.Options(".*", [](const httplib::Request& request, httplib::Response& response) {
    response.status = 204;
    response.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    std::string headers = request.get_header_value("Access-Control-Request-Headers");
    response.set_header("Access-Control-Allow-Headers", headers.empty() ? "Authorization, Content-Type" : headers);
    response.set_header("Access-Control-Max-Age", "86400");
  });
}

HttpServer::HttpServer(ServerConfig config, Metrics& metrics) : impl_(std::make_unique<Impl>(std::move(config), metrics)) {}

HttpServer::~HttpServer() { stop(); }

int HttpServer::start() {
  Impl& impl = *impl_;
  size_t threads = impl.config.http_threads;
  if (threads == 0) {
    SchedulerConfig defaults;
    threads = defaults.n_parallel + defaults.max_queue + 8;
  }
  impl.server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  impl.server.set_payload_max_length(impl.config.max_body_bytes);
  impl.server.set_keep_alive_max_count(100);
  // httplib's default SO_REUSEPORT would let a second server bind a port
  // that one is already listening on. SO_REUSEADDR alone only allows
  // rebinding while old connections linger in TIME_WAIT.
  impl.server.set_socket_options([&impl](socket_t socket) {
    int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    impl.listen_socket = socket;
  });
  impl.server.set_default_headers({{"Access-Control-Allow-Origin", "*"}});
  impl.server.set_error_handler(
      [&impl](const httplib::Request& request, httplib::Response& response) { impl.on_error_status(request, response); });
  impl.server.set_exception_handler([](const httplib::Request& request, httplib::Response& response,
                                       std::exception_ptr exception) {
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(exception);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    spdlog::error("{} {}: internal error: {}", request.method, request.path, what);
    send_error(response, ApiError(500, "internal error: " + what, "server_error"));
  });
  impl.server.set_logger([&impl](const httplib::Request& request, const httplib::Response& response) {
    impl.end_completion();
    impl.metrics.count_request(endpoint_label(request.path), response.status);
    spdlog::debug("{} {} {}", request.method, request.path, response.status);
  });
  impl.add_routes();

  errno = 0;
  bool bound = false;
  if (impl.config.port == 0) {
    impl.port = impl.server.bind_to_any_port(impl.config.host);
    bound = impl.port > 0;
  } else {
    bound = impl.server.bind_to_port(impl.config.host, impl.config.port);
    impl.port = impl.config.port;
  }
  if (!bound) {
    std::string reason = errno != 0 ? std::strerror(errno) : "the host name could not be resolved";
    fail("cannot listen on {}:{}: {}; pick another --host or --port", impl.config.host, impl.config.port, reason);
  }

  // httplib 0.11 listens with a backlog of 5, so a burst of clients
  // connecting at once loses SYNs and waits a second to retry. Linux takes a
  // second listen() on the socket as a new backlog.
  if (impl.listen_socket >= 0) ::listen(impl.listen_socket, kListenBacklog);

  impl.listener = std::thread([&impl] {
    impl.server.listen_after_bind();
    impl.listener_done.store(true);
  });
  return impl.port;
}

thread_local bool HttpServer::Impl::completion_running = false;

void HttpServer::set_draining() { impl_->draining.store(true); }

void HttpServer::set_ready(const Model& model, Scheduler& scheduler) {
  Impl& impl = *impl_;
  ServedModel& served = impl.served;
  served.model = &model;
  served.scheduler = &scheduler;
  served.chat_template = read_chat_template(model.file());

  // Clients may name the model by the alias, the file name or the file name
  // without its extension.
  std::filesystem::path file(model.file().path());
  std::string file_name = file.filename().string();
  served.name = impl.config.alias.empty() ? file_name : impl.config.alias;
  served.names = {served.name, file_name, file.stem().string()};
  impl.ready.store(true, std::memory_order_release);
}

void HttpServer::stop() {
  Impl& impl = *impl_;
  if (!impl.listener.joinable()) return;
  // httplib ignores stop() until its listening loop has started, which a
  // model that fails to load right after start() can precede.
  while (!impl.server.is_running() && !impl.listener_done.load()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  impl.server.stop();

  // Idle keep-alive connections would hold the join for httplib's keep-alive
  // timeout. Ending their reading side closes them at once, but it also makes
  // httplib's writes fail, so responses still being written finish first.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (impl.completions_in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  shut_down_reads(impl.port);
  impl.listener.join();
}

int HttpServer::port() const { return impl_->port; }

}  // namespace edgelm::server
