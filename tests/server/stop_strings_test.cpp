#include "server/stop_strings.h"

#include <gtest/gtest.h>

namespace edgelm::server {
namespace {

TEST(StopMatcher, CutsAtTheFirstStopAcrossPieces) {
  StopMatcher matcher({"END", "\n\n"});
  EXPECT_EQ(matcher.push("Hello E"), "Hello ");  // "E" may start "END"
  EXPECT_EQ(matcher.push("N"), "");
  EXPECT_EQ(matcher.push("D and more"), "");
  EXPECT_TRUE(matcher.stopped());
  EXPECT_EQ(matcher.push("ignored"), "");
  EXPECT_EQ(matcher.flush(), "");
}

TEST(StopMatcher, ReleasesTextThatStopsMatching) {
  StopMatcher matcher({"END"});
  EXPECT_EQ(matcher.push("EN"), "");
  EXPECT_EQ(matcher.push("X"), "ENX");
  EXPECT_EQ(matcher.push("E"), "");
  EXPECT_FALSE(matcher.stopped());
  EXPECT_EQ(matcher.flush(), "E");
}

TEST(StopMatcher, EarliestStopWins) {
  StopMatcher matcher({"cd", "b"});
  EXPECT_EQ(matcher.push("abcd"), "a");
  EXPECT_TRUE(matcher.stopped());
}

TEST(StopMatcher, NoStopsPassesEverything) {
  StopMatcher matcher({});
  EXPECT_EQ(matcher.push("abc"), "abc");
  EXPECT_EQ(matcher.flush(), "");
}

}  // namespace
}  // namespace edgelm::server
