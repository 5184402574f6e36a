// perplexity, quant-report and plan as a user runs them: interruption,
// failed runs, and the paths and contexts users get wrong.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include "quant/temp_dir.h"
#include "support/expected_output.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

namespace fs = std::filesystem;
using testing::run_edgelm;
using testing::shell_quote;
using testing::TempDir;

const char* kText = "/usr/share/common-licenses/GPL-3";

std::string fixture_path(const std::string& name) { return testing::fixtures_dir() + "/" + name; }

size_t count_entries(const fs::path& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++n;
  return n;
}

TEST(QuantReportInterrupt, SigtermRemovesTemporaryFolder) {
  TempDir temp_parent;
  TempDir work;
  const fs::path output = fs::path(work.path()) / "report";
  const std::string model = fixture_path("tiny-gemma2-f32.gguf");
  const std::string tmpdir = "TMPDIR=" + temp_parent.path();

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::putenv(const_cast<char*>(tmpdir.c_str()));
    ::execl(EDGELM_BINARY, EDGELM_BINARY, "quant-report", "-m", model.c_str(), "-f", kText, "-c", "128", "-t", "1",
            "--types", "q8_0,q4_k_m", "-o", output.c_str(), "--log-level", "error", static_cast<char*>(nullptr));
    ::_exit(127);
  }

  // Wait until the temporary folder contains a file, then interrupt the report.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto folder_has_file = [&] {
    for (const auto& entry : fs::directory_iterator(temp_parent.path())) {
      if (entry.is_directory() && count_entries(entry.path()) > 0) return true;
    }
    return false;
  };
  while (!folder_has_file() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_TRUE(folder_has_file()) << "the report never wrote to its temporary folder";
  ::kill(pid, SIGTERM);

  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  if (WIFEXITED(status)) GTEST_SKIP() << "the report finished before the signal arrived";
  EXPECT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(count_entries(temp_parent.path()), 0u);
  EXPECT_FALSE(fs::exists(output));
}

TEST(QuantReportOutput, FailedRunCreatesNoFolder) {
  TempDir work;
  const fs::path output = fs::path(work.path()) / "report";
  auto result = run_edgelm("quant-report -m " + shell_quote(fixture_path("tiny-gemma2-f32.gguf")) + " -f " + kText +
                           " -c 128 --types q8_0,q9_x -o " + shell_quote(output.string()));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("q9_x"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(output));
}

TEST(PerplexityInput, DirectoryAsTextFile) {
  TempDir work;
  auto result = run_edgelm("perplexity -m " + shell_quote(fixture_path("tiny-gemma2-q8_0.gguf")) + " -f " +
                           shell_quote(work.path()) + " -c 128");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("is a directory; pass a text file with -f"), std::string::npos) << result.err;
}

TEST(PlanContext, WarnsPastTrainedContext) {
  auto longer = run_edgelm("plan --shape gemma-2-9b --type q4_k_m -c 10000000");
  EXPECT_EQ(longer.exit_code, 0) << longer.err;
  EXPECT_NE(longer.err.find("-c 10000000 is longer than the 8192 tokens the model was trained on"), std::string::npos)
      << longer.err;

  auto within = run_edgelm("plan --shape gemma-2-9b --type q4_k_m -c 8192");
  EXPECT_EQ(within.err.find("longer than"), std::string::npos) << within.err;
}

}  // namespace
}  // namespace edgelm
