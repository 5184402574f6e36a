#pragma once
// Removal of unfinished output files when SIGINT, SIGTERM or SIGHUP ends the
// process, so an interrupted conversion leaves no multi-gigabyte temporary file.

#include <csignal>
#include <string>

namespace edgelm {

// Installs handlers for SIGINT, SIGTERM and SIGHUP that delete every
// registered file and then end the process by the same signal, and ignores
// SIGXFSZ so that a write past the file size limit fails as an error.
// Commands that write model files call it once; servers keep their own handlers.
void install_temp_file_cleanup();

// Registers a file, or an empty folder, for deletion by those handlers while
// the object lives. Files are deleted before folders.
// Up to 8 files can be registered at once; further ones are not protected.
class TempFileRegistration {
 public:
  TempFileRegistration() = default;
  explicit TempFileRegistration(const std::string& path);
  ~TempFileRegistration();
  TempFileRegistration(const TempFileRegistration&) = delete;
  TempFileRegistration& operator=(const TempFileRegistration&) = delete;
  TempFileRegistration(TempFileRegistration&& other) noexcept;
  TempFileRegistration& operator=(TempFileRegistration&& other) noexcept;

 private:
  int slot_ = -1;
};

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread while it lives, so
// that a file created and then registered cannot be left behind by a signal
// that arrives between the two steps. A blocked signal is delivered when the
// object is destroyed.
class CleanupSignalsBlocked {
 public:
  CleanupSignalsBlocked();
  ~CleanupSignalsBlocked();
  CleanupSignalsBlocked(const CleanupSignalsBlocked&) = delete;
  CleanupSignalsBlocked& operator=(const CleanupSignalsBlocked&) = delete;

 private:
  sigset_t previous_;
};

}  // namespace edgelm
