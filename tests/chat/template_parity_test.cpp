// edgelm's Jinja interpreter against Python's jinja2 as Hugging Face
// configures it: the renders stored by tests/tools/render_templates.py must
// come out byte for byte, and jinja2's errors must be errors here too.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "chat/chat_template.h"
#include "chat/jinja/json_value.h"
#include "chat/jinja/template.h"
#include "support/run_command.h"
#include "template_data.h"

namespace edgelm {
namespace {

using jinja::TemplateError;
using jinja::TemplateErrorKind;
using testing::kind_name;

struct ParityCount {
  int matched = 0;
  int total = 0;
};

// Checks an error against jinja2's: the same kind, the same message for
// raise_exception() and the same line for syntax errors.
bool error_matches(const TemplateError& e, const nlohmann::ordered_json& test_case, const std::string& label) {
  TemplateErrorKind kind = testing::expected_kind(test_case["error_type"].get<std::string>());
  std::string expected = test_case["expected_error"].get<std::string>();
  EXPECT_STREQ(kind_name(e.kind()), kind_name(kind)) << label << ": got '" << e.what() << "', jinja2 raised "
                                                      << test_case["error_type"] << ": " << expected;
  bool matched = e.kind() == kind;
  if (kind == TemplateErrorKind::raised) {
    EXPECT_EQ(e.message(), expected) << label;
    matched = matched && e.message() == expected;
  }
  if (kind == TemplateErrorKind::syntax && test_case.contains("error_line")) {
    EXPECT_EQ(e.line(), test_case["error_line"].get<int>()) << label << ": " << e.what();
    matched = matched && e.line() == test_case["error_line"].get<int>();
  }
  return matched;
}

// Renders every case with `render` and compares it with jinja2's result.
template <typename Render>
ParityCount check_cases(const nlohmann::ordered_json& cases, Render render, const std::string& file) {
  ParityCount count;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& test_case = cases[i];
    std::string label = file + " case " + std::to_string(i);
    if (test_case.contains("name")) label += " (" + test_case["name"].get<std::string>() + ")";
    ++count.total;
    try {
      std::string output = render(test_case);
      if (test_case.contains("expected")) {
        EXPECT_EQ(output, test_case["expected"].get<std::string>()) << label;
        count.matched += output == test_case["expected"].get<std::string>();
      } else {
        ADD_FAILURE() << label << ": rendered '" << output << "', but jinja2 raised " << test_case["error_type"] << ": "
                      << test_case["expected_error"];
      }
    } catch (const TemplateError& e) {
      if (test_case.contains("expected")) {
        ADD_FAILURE() << label << ": unexpected error: " << e.what();
      } else {
        count.matched += error_matches(e, test_case, label);
      }
    }
  }
  return count;
}

ParityCount check_template_file(const nlohmann::ordered_json& data, const std::string& name) {
  ChatTemplate chat_template(testing::read_fixture_template(data), data["bos_token"].get<std::string>(),
                             data["eos_token"].get<std::string>());
  auto render = [&](const nlohmann::ordered_json& test_case) {
    return chat_template.render(testing::messages_of(test_case), test_case["add_generation_prompt"].get<bool>());
  };
  return check_cases(data["cases"], render, name);
}

class TemplateParity : public ::testing::TestWithParam<std::string> {};

TEST_P(TemplateParity, MatchesJinja2) {
  auto data = testing::load_template_data(GetParam());
  ParityCount count = check_template_file(data, GetParam());
  EXPECT_GE(count.total, 40);
  EXPECT_EQ(count.matched, count.total);
  std::printf("[ parity   ] %s: %d/%d cases match jinja2 %s\n", GetParam().c_str(), count.matched, count.total,
              data["jinja2_version"].get<std::string>().c_str());
}

INSTANTIATE_TEST_SUITE_P(Fixtures, TemplateParity, ::testing::ValuesIn(testing::fixture_template_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (c == '-' || c == '.') c = '_';
                           }
                           return name;
                         });

TEST(JinjaSnippets, MatchJinja2) {
  auto data = testing::load_template_data("snippets");
  auto render = [](const nlohmann::ordered_json& test_case) {
    jinja::Template parsed(test_case["template"].get<std::string>());
    return parsed.render(jinja::from_json(test_case["context"]).as_dict());
  };
  ParityCount count = check_cases(data["cases"], render, "snippets");
  EXPECT_GE(count.total, 150);
  EXPECT_EQ(count.matched, count.total);
  std::printf("[ parity   ] snippets: %d/%d cases match jinja2\n", count.matched, count.total);
}

// Random conversations rendered by jinja2 now, when python3 and jinja2 are installed.
TEST(TemplateParityLive, RandomConversationsMatchJinja2) {
  if (std::system("python3 -c 'import jinja2' >/dev/null 2>&1") != 0) GTEST_SKIP() << "python3 with jinja2 is not installed";
  std::string out_dir = ::testing::TempDir() + "edgelm_templates_" + std::to_string(::getpid());
  std::string command = "python3 " + testing::shell_quote(std::string(EDGELM_SOURCE_DIR) + "/tests/tools/render_templates.py") +
                        " --random 60 --seed 7 --fixtures " + testing::shell_quote(testing::fixtures_dir()) + " --out " +
                        testing::shell_quote(out_dir) + " 2>/dev/null";
  ASSERT_EQ(std::system(command.c_str()), 0) << command;

  for (const std::string& name : testing::fixture_template_names()) {
    auto data = testing::load_template_data(name, out_dir);
    ParityCount count = check_template_file(data, name + " (random)");
    EXPECT_EQ(count.matched, count.total);
    std::printf("[ parity   ] %s random: %d/%d cases match jinja2\n", name.c_str(), count.matched, count.total);
  }
  std::filesystem::remove_all(out_dir);
}

}  // namespace
}  // namespace edgelm
