// The signal mask that keeps a file's creation and its registration together.

#include "core/temp_file_cleanup.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <csignal>

namespace edgelm {
namespace {

bool is_blocked(int signal_number) {
  sigset_t current;
  pthread_sigmask(SIG_BLOCK, nullptr, &current);
  return sigismember(&current, signal_number) == 1;
}

TEST(CleanupSignalsBlocked, BlocksThenRestores) {
  ASSERT_FALSE(is_blocked(SIGTERM));
  {
    const CleanupSignalsBlocked blocked;
    EXPECT_TRUE(is_blocked(SIGINT));
    EXPECT_TRUE(is_blocked(SIGTERM));
    EXPECT_TRUE(is_blocked(SIGHUP));
    EXPECT_FALSE(is_blocked(SIGUSR1));
  }
  EXPECT_FALSE(is_blocked(SIGINT));
  EXPECT_FALSE(is_blocked(SIGTERM));
  EXPECT_FALSE(is_blocked(SIGHUP));
}

TEST(CleanupSignalsBlocked, KeepsEarlierBlock) {
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &usr1, nullptr);
  {
    const CleanupSignalsBlocked blocked;
    EXPECT_TRUE(is_blocked(SIGUSR1));
  }
  EXPECT_TRUE(is_blocked(SIGUSR1));
  EXPECT_FALSE(is_blocked(SIGTERM));
  pthread_sigmask(SIG_UNBLOCK, &usr1, nullptr);
}

}  // namespace
}  // namespace edgelm
