#include "core/thread_pool.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>

namespace edgelm {
namespace {

// How long a thread polls for the next loop or for the others to finish
// before it sleeps. A forward pass issues dozens of short loops in a row, and
// waking a sleeping thread through the kernel costs more than most of them.
constexpr std::chrono::microseconds kSpinTime{50};

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Polls `ready` until it returns true or kSpinTime passed. Returns its last value.
template <typename Ready>
bool spin_until(Ready ready) {
  auto deadline = std::chrono::steady_clock::now() + kSpinTime;
  for (unsigned i = 1;; ++i) {
    if (ready()) return true;
    cpu_relax();
    if (i % 64 == 0 && std::chrono::steady_clock::now() > deadline) return ready();
  }
}

}  // namespace

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
    stopping_.store(true);
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
    // Poll first, then sleep. The sleeper count and the generation are both
    // sequentially consistent, so either parallel_for reads this thread as
    // asleep and notifies it, or this thread reads the new generation.
    auto has_work = [&] { return stopping_.load() || generation_.load() != seen; };
    if (!spin_until(has_work)) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1);
      wake_.wait(lock, has_work);
      sleepers_.fetch_sub(1);
    }
    if (stopping_.load()) return;
    seen = generation_.load();

    run_range(index);
    if (pending_.fetch_sub(1) == 1 && caller_sleeping_.load()) {
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

  job_ = &fn;
  job_n_ = n;
  pending_.store(n_threads_ - 1);
  generation_.fetch_add(1);
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    wake_.notify_all();
  }

  run_range(0);

  auto all_done = [&] { return pending_.load() == 0; };
  if (!spin_until(all_done)) {
    std::unique_lock<std::mutex> lock(mutex_);
    caller_sleeping_.store(true);
    done_.wait(lock, all_done);
    caller_sleeping_.store(false);
  }
  job_ = nullptr;
}

void ThreadPool::parallel_for_dynamic(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  if (n_threads_ == 1 || n <= grain) {
    fn(0, n);
    return;
  }

  // One captured pointer keeps std::function from allocating.
  struct Pieces {
    std::atomic<size_t> next{0};
    size_t n, grain;
    const std::function<void(size_t, size_t)>& fn;
  } pieces{{}, n, grain, fn};
  parallel_for(n_threads_, [p = &pieces](size_t, size_t) {
    for (size_t begin = p->next.fetch_add(p->grain); begin < p->n; begin = p->next.fetch_add(p->grain)) {
      p->fn(begin, std::min(begin + p->grain, p->n));
    }
  });
}

}  // namespace edgelm
