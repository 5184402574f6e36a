// edgelm serve: the OpenAI-compatible HTTP server.

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/options.h"
#include "gguf/gguf_file.h"
#include "core/error.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/scheduler.h"

namespace edgelm::cli {
namespace {

// Maximum default context per sequence. The KV cache of each slot is
// reserved as address space and only touched as positions fill, so a large
// default costs memory only when requests use it.
constexpr uint32_t kDefaultContextCap = 8192;

// How long in-flight requests may run on after SIGTERM before they are cancelled.
constexpr std::chrono::seconds kShutdownGrace{10};

struct ServeOptions {
  ModelOptions model;
  server::ServerConfig server;
  server::SchedulerConfig scheduler;
};

// Blocks SIGTERM and SIGINT in the calling thread and every thread it starts
// afterwards, so that only sigwait receives them.
sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  // A client that closes its socket must not kill the server on the next write.
  ::signal(SIGPIPE, SIG_IGN);
  return signals;
}

const char* signal_name(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

std::string url(const std::string& host, int port) {
  bool ipv6 = host.find(':') != std::string::npos;
  return fmt::format("http://{}{}{}:{}", ipv6 ? "[" : "", host, ipv6 ? "]" : "", port);
}

void check_options(const ServeOptions& options) {
  if (options.server.port < 0 || options.server.port > 65535) {
    fail("--port {} is invalid; give 1 to 65535, or 0 for any free port", options.server.port);
  }
  if (options.scheduler.n_parallel < 1 || options.scheduler.n_parallel > 1024) {
    fail("--parallel {} is invalid; give 1 to 1024 sequences", options.scheduler.n_parallel);
  }
  if (options.scheduler.max_queue > 100000) {
    fail("--max-queue {} is above the maximum of 100000 waiting requests", options.scheduler.max_queue);
  }
  if (options.scheduler.batch_tokens < 1 || options.scheduler.batch_tokens > 65536) {
    fail("--batch-tokens {} is invalid; give 1 to 65536 tokens", options.scheduler.batch_tokens);
  }
  if (options.server.max_body_bytes < 1) fail("--max-body 0 is invalid; give a size in bytes");
}

int serve(ServeOptions options) {
  check_options(options);
  const uint32_t threads = thread_count(options.model);
  const sigset_t stop_signals = block_stop_signals();

  // Every waiting request occupies an HTTP thread, and idle keep-alive
  // connections occupy a few more.
  options.server.http_threads = options.scheduler.n_parallel + options.scheduler.max_queue + 8;
  // The port is bound before the model loads, so that /health responds while
  // a large file loads. A missing file is an error before that.
  check_model_path_exists(options.model.model_path);
  server::Metrics metrics;
  server::HttpServer http(options.server, metrics);
  int port = http.start();
  spdlog::info("listening on {}", url(options.server.host, port));

  auto model = load_model(options.model);
  options.scheduler.n_ctx = options.model.n_ctx == 0
                                ? std::min(model->hparams().n_ctx_train, kDefaultContextCap)
                                : context_length(options.model, *model);
  ThreadPool pool(threads);
  server::Scheduler scheduler(*model, pool, options.scheduler, &metrics);
  http.set_ready(*model, scheduler);
  spdlog::info("ready: {} slots of {} tokens, up to {} queued requests{}", options.scheduler.n_parallel,
               options.scheduler.n_ctx, options.scheduler.max_queue,
               options.server.api_key.empty() ? "" : ", API key required");

  int signal = 0;
  sigwait(&stop_signals, &signal);
  spdlog::info("{} received: finishing requests in flight for up to {} s (a second signal exits at once)",
               signal_name(signal), kShutdownGrace.count());
  std::thread([stop_signals] {
    int second = 0;
    sigwait(&stop_signals, &second);
    spdlog::warn("{} received again: exiting without waiting for requests", signal_name(second));
    std::_Exit(1);
  }).detach();

  http.set_draining();
  scheduler.shutdown(kShutdownGrace);
  http.stop();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

CommandRunner add_serve_command(CLI::App& app) {
  auto options = std::make_shared<ServeOptions>();
  CLI::App* command = app.add_subcommand("serve", "serve the model over an OpenAI-compatible HTTP API");
  add_model_options(*command, options->model, /*with_prompt=*/false);
  command->get_option("-c")->description(
      fmt::format("context length per sequence in tokens; 0 means the model's trained length, "
                  "capped at {} (default 0)",
                  kDefaultContextCap));

  server::ServerConfig& s = options->server;
  server::SchedulerConfig& q = options->scheduler;
  command->add_option("--host", s.host, "address to listen on (default 127.0.0.1; 0.0.0.0 for every interface)");
  command->add_option("--port", s.port, "TCP port; 0 picks a free one and logs it (default 8080)");
  command->add_option("--parallel", q.n_parallel, "requests generated at once, one sequence each (default 4)");
  command->add_option("--api-key", s.api_key,
                      "key that /v1/* and /metrics require as 'Authorization: Bearer KEY' (default: EDGELM_API_KEY, else none)")
      ->envname("EDGELM_API_KEY");
  command->add_option("--alias", s.alias, "model name clients see and send (default: the model's file name)");
  command->add_option("--max-queue", q.max_queue,
                      "requests that may wait for a free sequence; more get HTTP 429 (default 64)");
  command->add_option("--batch-tokens", q.batch_tokens,
                      "tokens per forward pass at most, decoding and prompt chunks together (default 256)");
  command->add_option("--max-body", s.max_body_bytes, "largest request body in bytes; larger gets HTTP 413 (default 8388608)");

  return [options] { return serve(*options); };
}

}  // namespace edgelm::cli
