// edgelm synth through the real binary: errors that list the valid names,
// and a small file written with its summary line.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "gguf/gguf_file.h"
#include "quant/temp_dir.h"
#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::run_edgelm;
using testing::shell_quote;
using testing::TempDir;

TEST(SynthCli, UnknownShapeListsShapes) {
  TempDir dir;
  const auto r = run_edgelm("synth --shape gemma-3-1b --type q8_0 -o " + shell_quote(dir.file("out.gguf")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown model shape 'gemma-3-1b'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gemma-2-2b, gemma-2-9b, gemma-2-27b, llama-3.1-8b, llama-3.1-70b, mistral-nemo-12b"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(dir.entry_count(), 0u);
}

TEST(SynthCli, UnknownTypeListsTypes) {
  TempDir dir;
  const auto r = run_edgelm("synth --shape gemma-2-2b --type q9_k -o " + shell_quote(dir.file("out.gguf")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown weight type 'q9_k'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("f32, f16, bf16, q4_0, q4_1, q8_0"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("q4_k_m"), std::string::npos) << r.err;
  EXPECT_EQ(dir.entry_count(), 0u);
}

TEST(SynthCli, RejectsTooManyLayers) {
  TempDir dir;
  const auto r =
      run_edgelm("synth --shape gemma-2-2b --type q8_0 --layers 30 -o " + shell_quote(dir.file("out.gguf")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--layers 30 is invalid for gemma-2-2b; give 1 to 26"), std::string::npos) << r.err;
  EXPECT_EQ(dir.entry_count(), 0u);
}

// The limit is named in words, and the help shows a plain type, not CLI11's range syntax.
TEST(SynthCli, TooManyThreadsNamesLimit) {
  TempDir dir;
  const auto r = run_edgelm("synth --shape gemma-2-2b --type q8_0 --layers 1 --vocab 512 -t 5000 -o " +
                            shell_quote(dir.file("out.gguf")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("-t 5000 is above the maximum of 1024 threads"), std::string::npos) << r.err;
  EXPECT_EQ(dir.entry_count(), 0u);

  const auto help = run_edgelm("synth --help");
  EXPECT_NE(help.out.find("-t,--threads UINT "), std::string::npos) << help.out;
  EXPECT_EQ(help.out.find("in [0 - 1024]"), std::string::npos) << help.out;
}

TEST(SynthCli, WritesShrunkModel) {
  TempDir dir;
  const std::string path = dir.file("tiny.gguf");
  const auto r = run_edgelm("synth --shape GEMMA-2-2B --type Q4_0 --layers 1 --vocab 512 --seed 5 -t 2 -o " +
                            shell_quote(path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("wrote " + path + " ("), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("gemma-2-2b q4_0, 79M parameters, 13 tensors, seed 5)"), std::string::npos) << r.err;

  auto file = GgufFile::open(path);
  EXPECT_EQ(file->tensors().size(), 13u);
  EXPECT_EQ(file->get_uint("gemma2.block_count"), 1u);
  EXPECT_EQ(file->get_string_array("tokenizer.ggml.tokens").size(), 512u);
  EXPECT_EQ(file->get_uint("general.file_type"), 2u);
  EXPECT_EQ(dir.entry_count(), 1u);
}

// Past the file size limit the write fails as one error line, and the
// temporary file is removed instead of SIGXFSZ killing the process.
TEST(SynthCli, FileSizeLimitIsAnError) {
  TempDir dir;
  const std::string path = dir.file("big.gguf");
  const auto r = run_edgelm("synth --shape gemma-2-2b --type q8_0 --layers 1 --vocab 512 -o " + shell_quote(path),
                            "ulimit -f 2000;");
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error: cannot write output '" + path + "': File too large"), std::string::npos) << r.err;
  EXPECT_EQ(dir.entry_count(), 0u);
}

// An output that is a symbolic link keeps the link and replaces its target.
TEST(SynthCli, OutputSymlinkIsFollowed) {
  TempDir dir;
  const std::string target = dir.file("target.gguf");
  const std::string link = dir.file("link.gguf");
  { std::ofstream(target) << "old"; }
  std::filesystem::create_symlink("target.gguf", link);

  const auto r = run_edgelm("synth --shape gemma-2-2b --type q4_0 --layers 1 --vocab 512 -o " + shell_quote(link));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(std::filesystem::is_symlink(link));
  EXPECT_EQ(GgufFile::open(target)->tensors().size(), 13u);
  EXPECT_EQ(dir.entry_count(), 2u);
}

// A replaced output keeps its permission bits.
TEST(SynthCli, OutputKeepsPermissions) {
  TempDir dir;
  const std::string path = dir.file("private.gguf");
  { std::ofstream(path) << "old"; }
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  const auto r = run_edgelm("synth --shape gemma-2-2b --type q4_0 --layers 1 --vocab 512 -o " + shell_quote(path));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::filesystem::status(path).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// A loop of symbolic links is one error line, and both links stay.
TEST(SynthCli, SymlinkLoopIsAnError) {
  TempDir dir;
  std::filesystem::create_symlink("b.gguf", dir.file("a.gguf"));
  std::filesystem::create_symlink("a.gguf", dir.file("b.gguf"));

  const auto r =
      run_edgelm("synth --shape gemma-2-2b --type q4_0 --layers 1 --vocab 512 -o " + shell_quote(dir.file("a.gguf")));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is a loop of symbolic links; give a file path"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_symlink(dir.file("a.gguf")));
  EXPECT_TRUE(std::filesystem::is_symlink(dir.file("b.gguf")));
}

}  // namespace
}  // namespace edgelm
