#pragma once
// A fixed set of worker threads that split one loop at a time between them.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace edgelm {

class ThreadPool {
 public:
  // Starts `n_threads - 1` workers; the calling thread is the last one.
  // 0 means one thread per online CPU.
  explicit ThreadPool(size_t n_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t size() const { return n_threads_; }

  // Runs fn(begin, end) over [0, n) cut into at most size() contiguous ranges,
  // one per thread, and returns when all are done. The ranges depend only on n
  // and size(), so results never depend on scheduling.
  void parallel_for(size_t n, const std::function<void(size_t begin, size_t end)>& fn);

  // Runs fn(begin, end) over [0, n) in pieces of `grain` items, each taken by
  // whichever thread is free, so a thread slowed by other work on its CPU
  // takes fewer. Only for loops whose items do not depend on which thread
  // runs them.
  void parallel_for_dynamic(size_t n, size_t grain, const std::function<void(size_t begin, size_t end)>& fn);

  // Number of online CPUs.
  static size_t hardware_threads();

 private:
  void worker_loop(size_t index);
  void run_range(size_t index);

  size_t n_threads_;
  std::vector<std::thread> workers_;

  // The current loop: written by parallel_for before generation_ changes.
  const std::function<void(size_t, size_t)>* job_ = nullptr;
  size_t job_n_ = 0;

  std::atomic<uint64_t> generation_{0};  // one more for each loop
  std::atomic<size_t> pending_{0};       // workers still running the current loop
  std::atomic<bool> stopping_{false};

  // Sleeping threads wait on these after polling for a while.
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<size_t> sleepers_{0};
  std::atomic<bool> caller_sleeping_{false};
};

}  // namespace edgelm
