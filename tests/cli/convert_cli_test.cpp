// edgelm convert and quantize on Hugging Face directories as a user runs
// them: outputs that would overwrite the input, interruption, messages.

#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "support/expected_output.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

namespace fs = std::filesystem;
using testing::run_edgelm;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private copy of the tiny Gemma 2 checkpoint, removed at the end.
class CheckpointCopy {
 public:
  CheckpointCopy() {
    root_ = fs::path(::testing::TempDir()) /
            ("edgelm_convert_cli_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
    fs::copy(testing::fixtures_dir() + "/tiny-gemma2", dir());
  }
  ~CheckpointCopy() { fs::remove_all(root_); }

  fs::path root() const { return root_; }
  fs::path dir() const { return root_ / "tiny-gemma2"; }

 private:
  fs::path root_;
};

TEST(ConvertCliOutput, RejectsFileOfInputDirectory) {
  CheckpointCopy copy;
  const std::string weights = read_file(copy.dir() / "model.safetensors");

  auto convert = run_edgelm("convert " + copy.dir().string() + " -o " + (copy.dir() / "model.safetensors").string());
  EXPECT_EQ(convert.exit_code, 1);
  EXPECT_NE(convert.err.find("a file of the input model directory"), std::string::npos) << convert.err;
  EXPECT_EQ(read_file(copy.dir() / "model.safetensors"), weights);

  const std::string config = read_file(copy.dir() / "config.json");
  auto quantize = run_edgelm("quantize " + copy.dir().string() + " " + (copy.dir() / "config.json").string() + " q8_0");
  EXPECT_EQ(quantize.exit_code, 1);
  EXPECT_NE(quantize.err.find("a file of the input model directory"), std::string::npos) << quantize.err;
  EXPECT_EQ(read_file(copy.dir() / "config.json"), config);
}

TEST(ConvertCliOutput, RejectsEmptyOutputAtOnce) {
  auto result = run_edgelm("convert " + testing::fixtures_dir() + "/tiny-gemma2 -o ''");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("the output path is empty"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("writing"), std::string::npos) << result.err;
}

TEST(ConvertCliOutput, SigtermRemovesTemporaryFile) {
  CheckpointCopy copy;
  const fs::path output = copy.root() / "out.gguf";

  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string dir = copy.dir().string();
    const std::string out = output.string();
    ::execl(EDGELM_BINARY, EDGELM_BINARY, "convert", dir.c_str(), "-o", out.c_str(), "--type", "q2_k", "-t", "1",
            "--log-level", "error", static_cast<char*>(nullptr));
    ::_exit(127);
  }

  // Wait for the temporary file beside the output, then interrupt the write.
  auto temp_file_exists = [&] {
    for (const auto& entry : fs::directory_iterator(copy.root())) {
      if (entry.path().filename().string().starts_with("out.gguf.tmp-")) return true;
    }
    return false;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (!temp_file_exists() && !fs::exists(output) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const bool interrupted_in_time = temp_file_exists();
  ASSERT_TRUE(interrupted_in_time || fs::exists(output)) << "the conversion never created its temporary file";
  ::kill(pid, SIGTERM);

  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_FALSE(temp_file_exists());

  // On a loaded machine the conversion may rename its file before the signal
  // lands, and then a complete output is the right result.
  if (!interrupted_in_time || WIFEXITED(status) || fs::exists(output)) {
    GTEST_SKIP() << "the conversion finished writing before the signal arrived";
  }
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

TEST(ConvertCliOutput, QuantizeDirectoryReportsInputSize) {
  CheckpointCopy copy;
  auto result = run_edgelm("quantize " + copy.dir().string() + " " + (copy.root() / "q8.gguf").string() + " q8_0");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err.find("(0 B)"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("MiB) ->"), std::string::npos) << result.err;
}

TEST(ConvertCliOptions, AcceptsLlamaCppSpellings) {
  CheckpointCopy copy;
  const fs::path output = copy.root() / "aliases.gguf";
  auto result = run_edgelm("convert " + copy.dir().string() + " --outfile " + output.string() + " --outtype q8_0");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(read_file(output), read_file(testing::fixtures_dir() + "/tiny-gemma2-q8_0.gguf"));
}

TEST(ConvertCliOptions, TypeListNamesEachTypeOnce) {
  auto result = run_edgelm("convert " + testing::fixtures_dir() + "/tiny-gemma2 -o x.gguf --type q4");
  EXPECT_EQ(result.exit_code, 1);
  const size_t first = result.err.find("q8_0");
  ASSERT_NE(first, std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("q8_0", first + 1), std::string::npos) << result.err;
}

TEST(ConvertCliInput, TokenizeNeedsNoWeights) {
  CheckpointCopy copy;
  fs::remove(copy.dir() / "model.safetensors");
  auto from_dir = run_edgelm("tokenize -m " + copy.dir().string() + " -p 'Hello world'");
  auto from_file = run_edgelm("tokenize -m " + testing::fixtures_dir() + "/tiny-gemma2-bf16.gguf -p 'Hello world'");
  ASSERT_EQ(from_dir.exit_code, 0) << from_dir.err;
  EXPECT_EQ(from_dir.out, from_file.out);
}

TEST(ConvertCliInput, InvalidConfigMessageIsPlain) {
  CheckpointCopy copy;
  std::ofstream(copy.dir() / "config.json") << "{\"architectures\": [";
  auto result = run_edgelm("run -m " + copy.dir().string() + " -p Hi -n 1");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("config.json: invalid JSON"), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("json.exception"), std::string::npos) << result.err;
}

TEST(ConvertCliInput, DirectoryWithoutConfig) {
  CheckpointCopy copy;
  fs::remove(copy.dir() / "config.json");
  auto result = run_edgelm("run -m " + copy.dir().string() + " -p Hi -n 1");
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("not a Hugging Face model directory because config.json is missing"), std::string::npos)
      << result.err;
}

}  // namespace
}  // namespace edgelm
