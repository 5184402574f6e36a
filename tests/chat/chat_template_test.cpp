// apply_chat_template: folding Gemma's system message, falling back to the
// built-in templates, and the errors reported to the user.

#include <gtest/gtest.h>

#include <memory>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "chat/builtin_templates.h"
#include "chat/chat_template.h"
#include "template_data.h"

namespace edgelm {
namespace {

using testing::load_template_data;
using testing::messages_of;
using testing::read_fixture_template;

const std::vector<ChatMessage> kConversation = {{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "How are you?"}};

// Captures what spdlog logs while it lives.
class LogCapture {
 public:
  LogCapture() : sink_(std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_)) {
    spdlog::default_logger()->sinks().push_back(sink_);
  }
  ~LogCapture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  std::string text() const { return stream_.str(); }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::sinks::ostream_sink_mt> sink_;
};

// Raises the log level while it lives, to keep expected warnings out of the test output.
class QuietLog {
 public:
  QuietLog() : level_(spdlog::get_level()) { spdlog::set_level(spdlog::level::err); }
  ~QuietLog() { spdlog::set_level(level_); }

 private:
  spdlog::level::level_enum level_;
};

const nlohmann::ordered_json* find_case(const nlohmann::ordered_json& data, const std::string& name, bool add_generation_prompt) {
  for (const auto& test_case : data["cases"]) {
    if (test_case["name"] == name && test_case["add_generation_prompt"] == add_generation_prompt) return &test_case;
  }
  return nullptr;
}

// For every conversation with a system message, apply_chat_template must
// give what jinja2 renders for the folded conversation ("<name>+folded").
void check_folding(const std::string& data_name) {
  auto data = load_template_data(data_name);
  std::string text = read_fixture_template(data);
  int checked = 0;
  for (const auto& test_case : data["cases"]) {
    std::string name = test_case["name"];
    const auto* folded = find_case(data, name + "+folded", test_case["add_generation_prompt"].get<bool>());
    if (folded == nullptr) continue;
    ++checked;
    auto apply = [&] {
      return apply_chat_template(text, data["bos_token"], data["eos_token"], messages_of(test_case),
                                 test_case["add_generation_prompt"], "gemma2");
    };
    if (folded->contains("expected")) {
      EXPECT_EQ(apply(), (*folded)["expected"].get<std::string>()) << name;
    } else {
      try {
        apply();
        ADD_FAILURE() << name << ": rendered, but jinja2 raised on the folded conversation";
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find((*folded)["expected_error"].get<std::string>()), std::string::npos)
            << name << ": " << e.what();
      }
    }
  }
  EXPECT_GE(checked, 16);
}

TEST(ChatTemplate, GemmaFoldsSystemMessage) { check_folding("gemma-2"); }

TEST(ChatTemplate, TinyGemmaFoldsSystemMessage) { check_folding("tiny-gemma2"); }

TEST(ChatTemplate, FoldedSystemText) {
  auto data = load_template_data("gemma-2");
  std::string prompt = apply_chat_template(read_fixture_template(data), "<bos>", "<eos>",
                                           {{"system", "Be brief."}, {"user", "Hello"}}, true, "");
  EXPECT_EQ(prompt, "<bos><start_of_turn>user\nBe brief.\n\nHello<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplate, RaiseIsUserError) {
  auto data = load_template_data("gemma-2");
  std::string text = read_fixture_template(data);
  try {
    apply_chat_template(text, "<bos>", "<eos>", {{"user", "a"}, {"user", "b"}}, true, "gemma2");
    FAIL() << "two user turns in a row must be rejected";
  } catch (const jinja::TemplateError& e) {
    FAIL() << "expected a plain Error, got TemplateError " << e.what();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("Conversation roles must alternate user/assistant/user/assistant/..."),
              std::string::npos)
        << e.what();
  }
}

TEST(ChatTemplate, NoFoldingWithoutSystemMessage) {
  auto data = load_template_data("mistral-nemo");
  EXPECT_THROW(apply_chat_template(read_fixture_template(data), "<s>", "</s>", {{"assistant", "first"}}, false, ""), Error);
}

// The built-in template of each family gives what the model's template gives
// for the conversations both can render.
struct BuiltinCase {
  std::string data_name;
  std::string hint;
  bool needs_leading_system;  // Qwen adds its own system prompt when there is none
};

class BuiltinTemplate : public ::testing::TestWithParam<BuiltinCase> {};

TEST_P(BuiltinTemplate, MatchesModelTemplate) {
  const BuiltinCase& param = GetParam();
  auto data = load_template_data(param.data_name);
  QuietLog quiet;
  int compared = 0;
  for (const auto& test_case : data["cases"]) {
    if (!test_case.contains("expected")) continue;
    std::vector<ChatMessage> messages = messages_of(test_case);
    bool plain_roles = std::all_of(messages.begin(), messages.end(), [](const ChatMessage& m) {
      return m.role == "system" || m.role == "user" || m.role == "assistant";
    });
    if (!plain_roles) continue;
    if (param.needs_leading_system && (messages.empty() || messages[0].role != "system")) continue;

    ++compared;
    std::string prompt = apply_chat_template("", data["bos_token"], data["eos_token"], messages,
                                             test_case["add_generation_prompt"], param.hint);
    EXPECT_EQ(prompt, test_case["expected"].get<std::string>()) << test_case["name"];
  }
  EXPECT_GE(compared, 10);
}

INSTANTIATE_TEST_SUITE_P(Families, BuiltinTemplate,
                         ::testing::Values(BuiltinCase{"gemma-2", "gemma2", false}, BuiltinCase{"llama-3.1", "llama", false},
                                           BuiltinCase{"mistral-nemo", "llama", false}, BuiltinCase{"qwen-2.5", "qwen2", true}),
                         [](const ::testing::TestParamInfo<BuiltinCase>& info) {
                           std::string name = info.param.data_name.substr(0, info.param.data_name.find('-'));
                           return name;
                         });

TEST(ChatTemplate, BrokenTemplateFallsBackWithWarning) {
  LogCapture log;
  std::string prompt = apply_chat_template("{# <start_of_turn> #}{% if %}", "<bos>", "<eos>", kConversation, true, "");
  EXPECT_EQ(prompt,
            "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
            "<start_of_turn>user\nHow are you?<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_NE(log.text().find("using the built-in gemma template"), std::string::npos) << log.text();
}

TEST(ChatTemplate, RuntimeFailureFallsBack) {
  std::string prompt = apply_chat_template("<|im_start|>{{ messages | nosuchfilter }}", "", "<|im_end|>",
                                           {{"user", "Hi"}}, true, "");
  EXPECT_EQ(prompt, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplate, MissingTemplateUsesArchitecture) {
  LogCapture log;
  std::string prompt = apply_chat_template("", "<bos>", "<eos>", {{"user", "Hi"}}, true, "gemma2");
  EXPECT_EQ(prompt, "<bos><start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_NE(log.text().find("no chat template"), std::string::npos) << log.text();
}

TEST(ChatTemplate, MissingTemplateUnknownFamilyFails) {
  try {
    apply_chat_template("", "[CLS]", "[SEP]", kConversation, true, "bert");
    FAIL() << "no template and no family must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'bert'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--template"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, BrokenTemplateUnknownFamilyFails) {
  try {
    apply_chat_template("{{ messages | nosuchfilter }}", "", "", kConversation, true, "");
    FAIL() << "a broken template without a family must be an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("No filter named 'nosuchfilter'"), std::string::npos) << e.what();
  }
}

TEST(ChatTemplate, DetectsFamily) {
  EXPECT_EQ(detect_chat_family("{{ '<start_of_turn>' }}", "", "", ""), ChatFamily::gemma);
  EXPECT_EQ(detect_chat_family("<|start_header_id|>", "gemma2", "", ""), ChatFamily::llama3);
  EXPECT_EQ(detect_chat_family("[INST]", "", "", ""), ChatFamily::mistral);
  EXPECT_EQ(detect_chat_family("<|im_start|>", "", "", ""), ChatFamily::chatml);
  EXPECT_EQ(detect_chat_family("", "gemma2", "", ""), ChatFamily::gemma);
  EXPECT_EQ(detect_chat_family("", "qwen2", "", ""), ChatFamily::chatml);
  EXPECT_EQ(detect_chat_family("", "llama", "<|begin_of_text|>", "<|eot_id|>"), ChatFamily::llama3);
  EXPECT_EQ(detect_chat_family("", "llama", "<s>", "</s>"), ChatFamily::mistral);
  EXPECT_EQ(detect_chat_family("", "mistral", "", ""), ChatFamily::mistral);
  EXPECT_EQ(detect_chat_family("", "llama", "", ""), ChatFamily::unknown);
  EXPECT_EQ(detect_chat_family("plain", "bert", "", ""), ChatFamily::unknown);
}

TEST(ChatTemplate, DateString) {
  auto data = load_template_data("llama-3.1");
  ChatTemplate chat_template(read_fixture_template(data), "<|begin_of_text|>", "<|eot_id|>");
  EXPECT_NE(chat_template.render({{"user", "Hi"}}, false).find("Today Date: 26 Jul 2024"), std::string::npos);
  chat_template.set_date_string("04 Dec 2026");
  EXPECT_NE(chat_template.render({{"user", "Hi"}}, false).find("Today Date: 04 Dec 2026"), std::string::npos);
}

TEST(ChatTemplate, FoldSystemMessage) {
  std::vector<ChatMessage> folded = fold_system_message({{"system", "S"}, {"user", "U"}, {"assistant", "A"}});
  ASSERT_EQ(folded.size(), 2u);
  EXPECT_EQ(folded[0].role, "user");
  EXPECT_EQ(folded[0].content, "S\n\nU");
  EXPECT_EQ(folded[1].content, "A");

  folded = fold_system_message({{"system", "S"}, {"assistant", "A"}});
  ASSERT_EQ(folded.size(), 2u);
  EXPECT_EQ(folded[0].role, "user");
  EXPECT_EQ(folded[0].content, "S");

  folded = fold_system_message({{"user", "U"}});
  ASSERT_EQ(folded.size(), 1u);
  EXPECT_EQ(folded[0].content, "U");
}

}  // namespace
}  // namespace edgelm
