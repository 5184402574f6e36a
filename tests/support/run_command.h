#pragma once
// Runs the edgelm binary as a user would and captures what it prints.

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

namespace edgelm::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs `edgelm <args>` through the shell; args are shell-quoted by the caller.
// `environment` is prepended as shell assignments, such as "EDGELM_ISA=avx2".
inline CommandResult run_edgelm(const std::string& args, const std::string& environment = "") {
  static int counter = 0;
  std::string err_path = ::testing::TempDir() + "edgelm_stderr_" + std::to_string(::getpid()) + "_" +
                         std::to_string(counter++) + ".txt";
  std::string command = environment + " " + std::string(EDGELM_BINARY) + " " + args + " 2>" + err_path;

  CommandResult result;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.out.append(buffer.data(), n);
  int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

  std::ifstream err(err_path);
  std::stringstream ss;
  ss << err.rdbuf();
  result.err = ss.str();
  std::remove(err_path.c_str());
  return result;
}

// Quotes a string for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace edgelm::testing
