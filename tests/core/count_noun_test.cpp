#include "core/count_noun.h"

#include <gtest/gtest.h>

namespace edgelm {
namespace {

TEST(CountNoun, SingularOnlyForOne) {
  EXPECT_EQ(count_noun(1, "layer"), "1 layer");
  EXPECT_EQ(count_noun(0, "layer"), "0 layers");
  EXPECT_EQ(count_noun(26, "layer"), "26 layers");
}

TEST(CountNoun, IrregularPlural) {
  EXPECT_EQ(count_noun(1, "pass", "passes"), "1 pass");
  EXPECT_EQ(count_noun(5, "pass", "passes"), "5 passes");
}

}  // namespace
}  // namespace edgelm
