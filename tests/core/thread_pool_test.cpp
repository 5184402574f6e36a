#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace edgelm {
namespace {

TEST(ThreadPool, CoversEveryIndexOnce) {
  ThreadPool pool(3);
  for (size_t n : {0u, 1u, 2u, 3u, 7u, 1000u}) {
    std::vector<std::atomic<int>> hits(n);
    pool.parallel_for(n, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) hits[i]++;
    });
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadPool, ManyJobsInSequence) {
  ThreadPool pool(2);
  std::atomic<long> total{0};
  for (int job = 0; job < 2000; ++job) {
    pool.parallel_for(10, [&](size_t begin, size_t end) { total += static_cast<long>(end - begin); });
  }
  EXPECT_EQ(total.load(), 20000);
}

// Pieces taken on demand cover every index once, none longer than the grain,
// each starting at a multiple of it.
TEST(ThreadPool, DynamicPiecesCoverEveryIndexOnce) {
  ThreadPool pool(3);
  for (size_t grain : {1u, 4u, 7u}) {
    for (size_t n : {0u, 1u, 5u, 64u, 1001u}) {
      std::vector<std::atomic<int>> hits(n);
      std::atomic<int> bad_pieces{0};
      pool.parallel_for_dynamic(n, grain, [&](size_t begin, size_t end) {
        if (end - begin > grain || begin % grain != 0) bad_pieces++;
        for (size_t i = begin; i < end; ++i) hits[i]++;
      });
      EXPECT_EQ(bad_pieces.load(), 0) << "n=" << n << " grain=" << grain;
      for (size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "n=" << n << " grain=" << grain << " i=" << i;
    }
  }
}

// A thread held up in one piece leaves the other pieces to the rest.
TEST(ThreadPool, DynamicPiecesGoToFreeThreads) {
  ThreadPool pool(2);
  std::atomic<bool> release{false};
  std::atomic<int> pieces_while_held{0};
  pool.parallel_for_dynamic(100, 1, [&](size_t begin, size_t) {
    if (begin == 0) {
      // Wait (bounded) until the other thread has run every other piece.
      for (int spin = 0; spin < 2000000 && !release.load(); ++spin) std::this_thread::yield();
      return;
    }
    if (++pieces_while_held == 99) release = true;
  });
  EXPECT_EQ(pieces_while_held.load(), 99);
}

}  // namespace
}  // namespace edgelm
