// Choice of the Highway target (instruction set) the kernels run on.

#include <cctype>
#include <cstdlib>
#include <string>

#include "core/error.h"
#include "hwy/targets.h"
#include "kernels/dot_kernels.h"
#include "kernels/matvec.h"

namespace edgelm {
namespace {

std::string target_name(int64_t target) {
  std::string name = hwy::TargetName(target);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

// Names of the targets in `targets`, best first: Highway gives better targets lower bits.
std::vector<std::string> target_names(int64_t targets) {
  std::vector<std::string> names;
  for (int64_t rest = targets; rest != 0; rest &= rest - 1) names.push_back(target_name(rest & -rest));
  return names;
}

std::string list_names(int64_t targets) {
  std::string list;
  for (const std::string& name : target_names(targets)) list += name + ", ";
  return list + "auto";
}

// Makes `name` and the targets below it the only ones dispatch may choose.
void restrict_targets(int64_t available, std::string_view requested, std::string_view source) {
  std::string name(requested);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  // A mask of 0 ends the restriction, so dispatch uses CPU detection again.
  if (name == "auto") {
    hwy::SetSupportedTargetsForTest(0);
    return;
  }

  for (int64_t rest = available; rest != 0; rest &= rest - 1) {
    const int64_t target = rest & -rest;
    if (target_name(target) != name) continue;

    // The mock replaces CPU detection, so it lists the allowed targets
    // themselves. Setting it also makes the next dispatch choose again.
    hwy::SetSupportedTargetsForTest(available & ~(target - 1));
    return;
  }
  fail("instruction set '{}' in {} is unknown or not supported by this CPU. Valid names: {}", requested,
       source, list_names(available));
}

// Returns the targets compiled into the kernels that this CPU runs, detected
// once before any restriction. The first call also applies EDGELM_ISA.
int64_t available_targets() {
  static const int64_t available = [] {
    const int64_t detected = (hwy::SupportedTargets() | HWY_SCALAR) & HWY_TARGETS;
    const char* requested = std::getenv("EDGELM_ISA");
    if (requested != nullptr && *requested != '\0') {
      restrict_targets(detected, requested, "environment variable EDGELM_ISA");
    }
    return detected;
  }();
  return available;
}

}  // namespace

void init_isa() { available_targets(); }

std::vector<std::string> available_isas() { return target_names(available_targets()); }

std::string active_isa() {
  init_isa();
  return target_name(kernels::dispatched_target());
}

void set_max_isa(std::string_view name) { restrict_targets(available_targets(), name, "--isa"); }

}  // namespace edgelm
