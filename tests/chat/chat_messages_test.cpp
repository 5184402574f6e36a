// Reading OpenAI chat messages.

#include <gtest/gtest.h>

#include "chat/chat_messages.h"
#include "core/error.h"

namespace edgelm {
namespace {

std::string error_of(const std::string& json) {
  try {
    messages_from_json(nlohmann::json::parse(json));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ChatMessages, StringContent) {
  auto messages = messages_from_json(nlohmann::json::parse(R"([{"role": "system", "content": "S"}, {"role": "user", "content": ""}])"));
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].role, "system");
  EXPECT_EQ(messages[0].content, "S");
  EXPECT_EQ(messages[1].content, "");
}

TEST(ChatMessages, TextPartsJoinedWithNewlines) {
  auto messages = messages_from_json(nlohmann::json::parse(
      R"([{"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}])"));
  ASSERT_EQ(messages.size(), 1u);
  EXPECT_EQ(messages[0].content, "one\ntwo");
}

TEST(ChatMessages, EmptyArrayRejected) { EXPECT_THROW(messages_from_json(nlohmann::json::array()), Error); }

TEST(ChatMessages, Errors) {
  EXPECT_NE(error_of(R"({"role": "user"})").find("JSON array"), std::string::npos);
  EXPECT_NE(error_of(R"([{"content": "x"}])").find("messages[0].role"), std::string::npos);
  EXPECT_NE(error_of(R"([{"role": "user"}])").find("messages[0].content is missing"), std::string::npos);
  EXPECT_NE(error_of(R"([{"role": "user", "content": "a"}, {"role": "user", "content": 5}])").find("messages[1].content"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}])")
                .find("messages[0].content[0] is not a text part"),
            std::string::npos);
  EXPECT_NE(error_of(R"([{"role": "user", "content": [{"type": "text"}]}])").find("content[0].text"), std::string::npos);
  EXPECT_NE(error_of(R"(["user"])").find("messages[0] must be an object"), std::string::npos);
}

}  // namespace
}  // namespace edgelm
