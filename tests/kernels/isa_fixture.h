#pragma once
// A test fixture run once per instruction set this CPU has.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/matvec.h"

namespace edgelm::testing {

// Restricts the kernels to the ISA of the parameter for one test.
class IsaTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    set_max_isa(GetParam());
    ASSERT_EQ(active_isa(), GetParam());
  }
  void TearDown() override { set_max_isa("auto"); }
};

// available_isas(), or none when EDGELM_ISA is invalid (isa_test.cpp checks that case).
inline std::vector<std::string> isa_params() {
  try {
    return available_isas();
  } catch (const Error&) {
    return {};
  }
}

inline std::string isa_param_name(const ::testing::TestParamInfo<std::string>& info) { return info.param; }

}  // namespace edgelm::testing
