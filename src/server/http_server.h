#pragma once
// The OpenAI-compatible HTTP API over the scheduler: routes, API key,
// body limits, server-sent events, client disconnects.

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>

#include "model/model.h"
#include "server/metrics.h"
#include "server/scheduler.h"

namespace edgelm::server {

struct ServerConfig {
  std::string host = "127.0.0.1";
  int port = 8080;                        // 0 picks a free port
  std::string api_key;                    // empty: no key needed
  std::string alias;                      // the model name clients see; empty: the file name
  size_t max_body_bytes = 8 << 20;        // larger bodies get 413
  size_t http_threads = 0;                // 0: the default scheduler's n_parallel + max_queue + 8
};

class HttpServer {
 public:
  explicit HttpServer(ServerConfig config, Metrics& metrics);
  ~HttpServer();

  // Binds the socket and starts serving on a thread of its own. Until
  // set_ready, /health and the API return 503. Throws Error naming the
  // address when it cannot bind. Returns the bound port.
  int start();

  // The model is loaded: serve requests through `scheduler`.
  void set_ready(const Model& model, Scheduler& scheduler);

  // Shutdown began: /health returns 503 from now on.
  void set_draining();

  // Stops accepting connections and returns once every request in flight
  // has its response, because httplib joins its worker threads. Shut the
  // scheduler down first so that no job keeps it waiting.
  void stop();

  int port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgelm::server
