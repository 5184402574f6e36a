// edgelm chat with stdin from a pipe: one user message a line, replies on stdout.

#include <gtest/gtest.h>

#include "support/run_command.h"

namespace edgelm {
namespace {

using testing::run_edgelm;

std::string chat_args() {
  return "--log-level warn chat -m " + testing::shell_quote(std::string(EDGELM_SOURCE_DIR) + "/models/tiny-gemma2-q8_0.gguf") +
         " --temp 0 -n 6";
}

// Pipes `input` into edgelm chat.
testing::CommandResult chat_with(const std::string& input) {
  return run_edgelm(chat_args(), "printf " + testing::shell_quote(input) + " |");
}

TEST(ChatCli, ExitStopsReading) {
  auto once = chat_with("Hi\n");
  auto with_exit = chat_with("Hi\n/exit\nHello again\n");
  ASSERT_EQ(once.exit_code, 0) << once.err;
  ASSERT_EQ(with_exit.exit_code, 0) << with_exit.err;
  EXPECT_FALSE(once.out.empty());
  EXPECT_EQ(with_exit.out, once.out);
}

TEST(ChatCli, ResetForgetsHistory) {
  auto once = chat_with("Hi\n");
  auto twice = chat_with("Hi\n/reset\nHi\n");
  ASSERT_EQ(twice.exit_code, 0) << twice.err;
  EXPECT_EQ(twice.out, once.out + once.out);
}

TEST(ChatCli, FullContextIsReported) {
  auto r = run_edgelm("--log-level warn chat -m " +
                          testing::shell_quote(std::string(EDGELM_SOURCE_DIR) + "/models/tiny-gemma2-q8_0.gguf") +
                          " --temp 0 -c 40",
                      "printf 'Hi\\n' |");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("the context is full"), std::string::npos) << r.err;
}

TEST(ChatCli, PredictLongerThanContextRejected) {
  auto bad = run_edgelm("--log-level warn chat -m " +
                            testing::shell_quote(std::string(EDGELM_SOURCE_DIR) + "/models/tiny-gemma2-q8_0.gguf") +
                            " -c 32 -n 100",
                        "printf 'Hi\\n' |");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("-n 100"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace edgelm
