#include "core/temp_file_cleanup.h"

#include <pthread.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>
#include <utility>

namespace edgelm {
namespace {

constexpr int kSlots = 8;
constexpr size_t kMaxPath = 4096;

// Fixed buffers, because a signal handler may call neither malloc nor free.
struct Slot {
  std::atomic<bool> active{false};
  char path[kMaxPath] = {};
};

Slot g_slots[kSlots];
std::atomic<bool> g_claimed[kSlots];

void remove_registered_files(int signal_number) {
  // Files first, then the folders they were in: rmdir removes only empty folders.
  for (Slot& slot : g_slots) {
    if (slot.active.load()) ::unlink(slot.path);
  }
  for (Slot& slot : g_slots) {
    if (slot.active.load()) ::rmdir(slot.path);
  }
  // End by the same signal, so the parent's wait status reports it.
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

}  // namespace

void install_temp_file_cleanup() {
  struct sigaction action = {};
  action.sa_handler = remove_registered_files;
  sigemptyset(&action.sa_mask);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) sigaction(signal_number, &action, nullptr);

  // Past the file size limit (ulimit -f), a write then fails with EFBIG, which
  // the writer reports and cleans up, instead of SIGXFSZ ending the process.
  std::signal(SIGXFSZ, SIG_IGN);
}

TempFileRegistration::TempFileRegistration(const std::string& path) {
  if (path.size() >= kMaxPath) return;
  for (int i = 0; i < kSlots; ++i) {
    bool expected = false;
    if (!g_claimed[i].compare_exchange_strong(expected, true)) continue;

    std::memcpy(g_slots[i].path, path.c_str(), path.size() + 1);
    g_slots[i].active.store(true);
    slot_ = i;
    return;
  }
}

TempFileRegistration::~TempFileRegistration() {
  if (slot_ < 0) return;
  g_slots[slot_].active.store(false);
  g_claimed[slot_].store(false);
}

TempFileRegistration::TempFileRegistration(TempFileRegistration&& other) noexcept
    : slot_(std::exchange(other.slot_, -1)) {}

TempFileRegistration& TempFileRegistration::operator=(TempFileRegistration&& other) noexcept {
  if (this != &other) {
    this->~TempFileRegistration();
    slot_ = std::exchange(other.slot_, -1);
  }
  return *this;
}

CleanupSignalsBlocked::CleanupSignalsBlocked() {
  sigset_t blocked;
  sigemptyset(&blocked);
  for (int signal_number : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&blocked, signal_number);
  pthread_sigmask(SIG_BLOCK, &blocked, &previous_);
}

CleanupSignalsBlocked::~CleanupSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &previous_, nullptr); }

}  // namespace edgelm
