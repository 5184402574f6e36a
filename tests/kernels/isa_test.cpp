#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "kernels/matvec.h"

namespace edgelm {
namespace {

TEST(Isa, AvailableEndsWithScalar) {
  const std::vector<std::string> isas = available_isas();
  ASSERT_FALSE(isas.empty());
  EXPECT_EQ(isas.back(), "scalar");
  for (const std::string& name : isas) EXPECT_NE(name, "unknown");
}

TEST(Isa, AutoSelectsBest) {
  set_max_isa("scalar");
  EXPECT_EQ(active_isa(), "scalar");
  set_max_isa("auto");
  EXPECT_EQ(active_isa(), available_isas().front());
}

TEST(Isa, NamesIgnoreCase) {
  set_max_isa("SCALAR");
  EXPECT_EQ(active_isa(), "scalar");
  set_max_isa("auto");
}

TEST(Isa, RejectsUnknownName) {
  const std::string before = active_isa();
  try {
    set_max_isa("avx9");
    FAIL() << "set_max_isa accepted avx9";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("'avx9'"), std::string::npos) << message;
    for (const std::string& name : available_isas()) EXPECT_NE(message.find(name), std::string::npos) << message;
  }
  EXPECT_EQ(active_isa(), before);
}

// EDGELM_ISA is read once per process, so each case runs in a fresh child
// process that inherits the variable ("threadsafe" death tests re-execute the binary).
TEST(IsaDeathTest, EnvironmentVariable) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");

  setenv("EDGELM_ISA", "scalar", 1);
  EXPECT_EXIT(std::exit(active_isa() == "scalar" ? 0 : 1), ::testing::ExitedWithCode(0), "");

  setenv("EDGELM_ISA", "avx9", 1);
  EXPECT_EXIT(
      {
        try {
          init_isa();
        } catch (const Error& e) {
          std::fprintf(stderr, "%s\n", e.what());
          std::exit(0);
        }
        std::exit(1);
      },
      ::testing::ExitedWithCode(0), "instruction set 'avx9' in environment variable EDGELM_ISA is unknown.*scalar");

  unsetenv("EDGELM_ISA");
}

}  // namespace
}  // namespace edgelm
