#pragma once
// Continuous batching: up to n_parallel sequences advance together, one
// forward pass a step carrying the next token of every decoding sequence and a
// chunk of any prompt being prefilled. Jobs join and leave at any step. A
// finished sequence keeps its KV cache so that a later prompt sharing its
// prefix (the next turn of a chat) skips recomputing it.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/thread_pool.h"
#include "model/batch_forward.h"
#include "model/model.h"
#include "server/job.h"
#include "server/metrics.h"

namespace edgelm::server {

struct SchedulerConfig {
  uint32_t n_parallel = 4;      // sequence slots
  uint32_t n_ctx = 4096;        // positions per sequence
  uint32_t batch_tokens = 256;  // tokens per forward pass at most: decode rows plus prefill chunks
  uint32_t max_queue = 64;      // waiting jobs beyond which submit refuses
  // Extra positions kept by sliding-window rings, so that a new prompt can
  // reuse a cache that reaches up to this many tokens past the shared prefix.
  uint32_t rewind = 64;
};

class Scheduler {
 public:
  // Starts the scheduling thread. `metrics` may be null.
  Scheduler(const Model& model, ThreadPool& pool, SchedulerConfig config, Metrics* metrics);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a job. Throws ApiError: 400 for an empty prompt, an id outside the
  // vocabulary, or a prompt that does not fit the context (naming both
  // lengths); 429 when max_queue jobs already wait; 503 after shutdown began.
  std::shared_ptr<Job> submit(JobParams params);

  // Stops accepting jobs, lets queued and running ones finish for up to
  // `grace`, cancels the rest and stops the thread.
  void shutdown(std::chrono::milliseconds grace);

  SchedulerStats stats() const;
  const SchedulerConfig& config() const { return config_; }

 private:
  struct Slot;

  void loop();
  void admit();  // moves queued jobs into free slots
  void assign(Slot& slot, std::shared_ptr<Job> job);
  void step();   // one forward pass over every active slot
  void emit_token(Slot& slot, const float* logits);
  void finish(Slot& slot, FinishReason reason, const std::string& error = {});
  void update_stats();

  const Model& model_;
  SchedulerConfig config_;
  Metrics* metrics_;
  BatchForward forward_;
  std::vector<std::unique_ptr<Slot>> slots_;

  uint64_t n_steps_ = 0;

  // Shared with the HTTP threads, under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_;  // a job arrived or stopping began
  std::condition_variable idle_;  // a job finished
  std::deque<std::shared_ptr<Job>> queue_;
  size_t active_ = 0;
  SchedulerStats stats_;
  bool accepting_ = true;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace edgelm::server
