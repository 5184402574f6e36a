// edgelm serve as a user runs it: the real binary on a loopback port, stopped
// with SIGTERM.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/run_command.h"

extern char** environ;

namespace edgelm {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

const std::string kModelPath = std::string(EDGELM_SOURCE_DIR) + "/models/tiny-gemma2-q8_0.gguf";

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A running `edgelm serve`, its stderr going to a file.
class ServeProcess {
 public:
  // Starts `edgelm serve -m MODEL --port 0 -t 1 <args>` with `environment`
  // ("NAME=value" entries) added to this process's variables.
  ServeProcess(const std::vector<std::string>& args, const std::vector<std::string>& environment = {}) {
    static int counter = 0;
    log_path_ = ::testing::TempDir() + "edgelm_serve_" + std::to_string(::getpid()) + "_" +
                std::to_string(counter++) + ".log";

    std::vector<std::string> argv_text = {EDGELM_BINARY, "serve", "-m", kModelPath, "--port", "0", "-t", "1"};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& arg : argv_text) argv.push_back(arg.data());
    argv.push_back(nullptr);

    std::vector<std::string> env_text = environment;
    for (char** variable = environ; *variable != nullptr; ++variable) env_text.emplace_back(*variable);
    std::vector<char*> envp;
    for (std::string& variable : env_text) envp.push_back(variable.data());
    envp.push_back(nullptr);

    pid_ = ::fork();
    if (pid_ == 0) {
      int log = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(log, STDERR_FILENO);
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
  }

  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::remove(log_path_.c_str());
  }

  // Returns the port from the "listening on http://127.0.0.1:PORT" line,
  // waiting up to 10 s for it, or 0 when the line did not come.
  int wait_for_port() {
    static const std::regex kListening("listening on http://127\\.0\\.0\\.1:([0-9]+)");
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch match;
      std::string text = log();
      if (std::regex_search(text, match, kListening)) return std::stoi(match[1]);
      std::this_thread::sleep_for(20ms);
    }
    return 0;
  }

  // Waits up to 10 s for GET /health to return 200.
  bool wait_until_ready(int port) {
    httplib::Client client("127.0.0.1", port);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto health = client.Get("/health");
      if (health && health->status == 200) return true;
      std::this_thread::sleep_for(20ms);
    }
    return false;
  }

  void signal(int number) { ::kill(pid_, number); }

  // Returns the exit code, waiting up to `timeout`, or -1 when the process
  // is still running or died from a signal.
  int wait_for_exit(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  std::string log() const { return read_text(log_path_); }

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

TEST(ServeCli, SigtermWhileStreaming) {
  // -c above the tiny model's trained 1024 tokens makes a stream of about a
  // second, well inside the 10 s that serve gives requests after SIGTERM.
  ServeProcess server({"-c", "2048", "--parallel", "2"});
  int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  ASSERT_TRUE(server.wait_until_ready(port)) << server.log();

  json body = {{"messages", {{{"role", "user"}, {"content", "Tell a long story"}}}},
               {"max_tokens", 2000},
               {"temperature", 0},
               {"ignore_eos", true},
               {"stream", true}};
  std::string received;
  std::atomic<bool> signalled{false};
  httplib::Request request;
  request.method = "POST";
  request.path = "/v1/chat/completions";
  request.set_header("Content-Type", "application/json");
  request.body = body.dump();
  request.content_receiver = [&](const char* data, size_t n, uint64_t, uint64_t) {
    received.append(data, n);
    if (!signalled && received.find("\"content\":\"") != std::string::npos) {
      server.signal(SIGTERM);
      signalled = true;
    }
    return true;
  };

  int late_status = 0;
  std::thread late_client([&] {
    // Once the server logged the signal, it no longer accepts jobs.
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (server.log().find("SIGTERM received") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(1ms);
    }
    std::this_thread::sleep_for(5ms);
    httplib::Client client("127.0.0.1", port);
    auto late = client.Post("/v1/completions", R"({"prompt": "Hi", "max_tokens": 2})", "application/json");
    late_status = late ? late->status : -1;
  });
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(30, 0);
  auto result = client.send(request);
  late_client.join();

  ASSERT_TRUE(result) << httplib::to_string(result.error());
  EXPECT_EQ(result->status, 200);
  EXPECT_TRUE(signalled);
  // The stream ran to its end within the grace period.
  EXPECT_NE(received.find("\"finish_reason\":\"length\""), std::string::npos) << received.substr(0, 500);
  EXPECT_EQ(received.substr(received.size() - 14), "data: [DONE]\n\n");
  EXPECT_EQ(late_status, 503);

  EXPECT_EQ(server.wait_for_exit(20s), 0) << server.log();
  std::string log = server.log();
  EXPECT_NE(log.find("SIGTERM received"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped"), std::string::npos) << log;
}

TEST(ServeCli, SigtermWhenIdle) {
  ServeProcess server({});
  int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  ASSERT_TRUE(server.wait_until_ready(port)) << server.log();
  EXPECT_NE(server.log().find("ready"), std::string::npos);

  server.signal(SIGTERM);
  EXPECT_EQ(server.wait_for_exit(5s), 0) << server.log();
}

TEST(ServeCli, ApiKeyFromEnvironment) {
  ServeProcess server({}, {"EDGELM_API_KEY=env-key-42"});
  int port = server.wait_for_port();
  ASSERT_GT(port, 0) << server.log();
  ASSERT_TRUE(server.wait_until_ready(port)) << server.log();

  httplib::Client client("127.0.0.1", port);
  auto without = client.Get("/v1/models");
  ASSERT_TRUE(without);
  EXPECT_EQ(without->status, 401);
  auto with = client.Get("/v1/models", {{"Authorization", "Bearer env-key-42"}});
  ASSERT_TRUE(with);
  EXPECT_EQ(with->status, 200);
  EXPECT_EQ(json::parse(with->body)["data"][0]["id"], "tiny-gemma2-q8_0.gguf");
  EXPECT_EQ(server.log().find("env-key-42"), std::string::npos) << "the key reached the log";

  server.signal(SIGINT);
  EXPECT_EQ(server.wait_for_exit(5s), 0) << server.log();
}

TEST(ServeCli, PortInUse) {
  httplib::Server occupant;
  int port = occupant.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);

  auto result = testing::run_edgelm("serve -m " + testing::shell_quote(kModelPath) + " --port " + std::to_string(port));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("error: cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("Address already in use"), std::string::npos) << result.err;
  EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
}

// A model that fails to load right after the port is bound ends the server
// with the error. The server used to wait forever for its listener to stop.
TEST(ServeCli, MissingModelExitsWithError) {
  testing::CommandResult result = testing::run_edgelm("serve -m /nonexistent/model.gguf --port 0", "timeout -k 1 20");
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("error: model file '/nonexistent/model.gguf' not found"), std::string::npos) << result.err;
  // A missing file is found before the port is bound.
  EXPECT_EQ(result.err.find("listening on"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace edgelm
