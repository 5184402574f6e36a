// edgelm template: the prompt printed exactly, and one error line for mistakes.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "support/run_command.h"
#include "template_data.h"

namespace edgelm {
namespace {

using testing::run_edgelm;
using testing::shell_quote;

// A file in the test temp directory, removed when the test ends.
class TempFile {
 public:
  TempFile(const std::string& name, const std::string& text)
      : path_(::testing::TempDir() + "edgelm_template_" + std::to_string(::getpid()) + "_" + name) {
    std::ofstream(path_, std::ios::binary) << text;
  }
  ~TempFile() { std::remove(path_.c_str()); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  // The path, quoted for the shell.
  std::string arg() const { return shell_quote(path_); }

 private:
  std::string path_;
};

std::string messages_json(const nlohmann::ordered_json& test_case) { return test_case["messages"].dump(); }

const nlohmann::ordered_json& find_case(const nlohmann::ordered_json& data, const std::string& name, bool add_generation_prompt) {
  for (const auto& test_case : data["cases"]) {
    if (test_case["name"] == name && test_case["add_generation_prompt"] == add_generation_prompt) return test_case;
  }
  throw std::runtime_error("no case " + name);
}

std::string model() { return shell_quote(testing::fixtures_dir() + "/tiny-gemma2-q8_0.gguf"); }

// One line on stderr, starting with "error: ".
void expect_one_error_line(const testing::CommandResult& r) {
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(r.err.rfind("error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

TEST(TemplateCli, ModelTemplateMatchesJinja2) {
  auto data = testing::load_template_data("tiny-gemma2");
  for (bool add_generation_prompt : {false, true}) {
    const auto& test_case = find_case(data, "multi-turn", add_generation_prompt);
    TempFile messages("multi-turn.json", messages_json(test_case));
    auto r = run_edgelm("template -m " + model() + " --messages " + messages.arg() +
                        (add_generation_prompt ? " --add-generation-prompt" : ""));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, test_case["expected"].get<std::string>());
  }
}

TEST(TemplateCli, ModelTemplateFoldsSystem) {
  auto data = testing::load_template_data("tiny-gemma2");
  const auto& test_case = find_case(data, "system-multi-turn", true);
  const auto& folded = find_case(data, "system-multi-turn+folded", true);
  TempFile messages("system.json", messages_json(test_case));
  auto r = run_edgelm("template -m " + model() + " --messages " + messages.arg() + " --add-generation-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, folded["expected"].get<std::string>());
}

TEST(TemplateCli, TemplateFileWithTokens) {
  auto data = testing::load_template_data("llama-3.1");
  const auto& test_case = find_case(data, "unicode-system", true);
  std::string path = shell_quote(testing::fixtures_dir() + "/" + data["template_file"].get<std::string>());
  TempFile messages("unicode.json", messages_json(test_case));
  auto r = run_edgelm("template --template " + path + " --bos '<|begin_of_text|>' --eos '<|eot_id|>' --messages " +
                      messages.arg() + " --add-generation-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, test_case["expected"].get<std::string>());
}

TEST(TemplateCli, TextParts) {
  TempFile messages("parts.json", R"([{"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}])");
  auto r = run_edgelm("template -m " + model() + " --messages " + messages.arg() + " --add-generation-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "<bos><start_of_turn>user\none\ntwo<end_of_turn>\n<start_of_turn>model\n");
}

TEST(TemplateCli, RejectedConversation) {
  TempFile messages("two-users.json", R"([{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])");
  auto r = run_edgelm("template -m " + model() + " --messages " + messages.arg());
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("Conversation roles must alternate"), std::string::npos) << r.err;
}

TEST(TemplateCli, MissingMessagesFile) {
  auto r = run_edgelm("template -m " + model() + " --messages /nonexistent/messages.json");
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("/nonexistent/messages.json"), std::string::npos) << r.err;
}

TEST(TemplateCli, InvalidMessagesJson) {
  TempFile bad("bad.json", "[{\"role\": ");
  auto r = run_edgelm("template -m " + model() + " --messages " + bad.arg());
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;

  TempFile no_role("no-role.json", R"([{"content": "x"}])");
  r = run_edgelm("template -m " + model() + " --messages " + no_role.arg());
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("messages[0].role"), std::string::npos) << r.err;
}

TEST(TemplateCli, NeedsTemplateSource) {
  TempFile messages("one.json", R"([{"role": "user", "content": "a"}])");
  auto r = run_edgelm("template --messages " + messages.arg());
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("--template"), std::string::npos) << r.err;

  r = run_edgelm("template -m " + model() + " --template x.jinja --messages " + messages.arg());
  expect_one_error_line(r);
}

TEST(TemplateCli, TemplateSyntaxErrorWithoutFamily) {
  TempFile messages("one.json", R"([{"role": "user", "content": "a"}])");
  TempFile broken("broken.jinja", "line one\n{% for %}");
  auto r = run_edgelm("template --template " + broken.arg() + " --messages " + messages.arg());
  expect_one_error_line(r);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace edgelm
