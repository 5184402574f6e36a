#include "core/thread_pool.h"

#include <unistd.h>

#include <algorithm>

namespace edgelm {

size_t ThreadPool::hardware_threads() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<size_t>(n) : 1;
}

ThreadPool::ThreadPool(size_t n_threads)
    : n_threads_(n_threads == 0 ? hardware_threads() : n_threads) {
  workers_.reserve(n_threads_ - 1);
  for (size_t i = 1; i < n_threads_; ++i) {
    workers_.emplace_back([this, i] { worker_loop(i); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::run_range(size_t index) {
  // Even split: the first (n % threads) ranges get one extra item.
  size_t base = job_n_ / n_threads_;
  size_t extra = job_n_ % n_threads_;
  size_t begin = index * base + std::min(index, extra);
  size_t end = begin + base + (index < extra ? 1 : 0);
  if (begin < end) (*job_)(begin, end);
}

void ThreadPool::worker_loop(size_t index) {
  uint64_t seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
    }
    run_range(index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  if (n_threads_ == 1 || n == 1) {
    fn(0, n);
    return;
  }

  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    job_n_ = n;
    pending_.store(n_threads_ - 1, std::memory_order_release);
    ++generation_;
  }
  wake_.notify_all();

  run_range(0);

  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
  job_ = nullptr;
}

}  // namespace edgelm
