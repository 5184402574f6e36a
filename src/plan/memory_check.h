#pragma once
// Measures what a deployment really uses, to compare with its memory plan:
// loads the model, fills every sequence's context and reads the resident set.

#include <cstdint>
#include <string>

#include "plan/memory_plan.h"

namespace edgelm {

// Resident set size of this process in bytes, from /proc/self/statm. Throws
// Error when the file cannot be read (a system without procfs).
uint64_t resident_bytes();

struct MemoryCheck {
  uint64_t baseline_bytes = 0;  // resident before the model was opened
  uint64_t measured_bytes = 0;  // resident after every context was filled
  uint64_t planned_bytes = 0;   // the plan's total with the measured baseline in place of the estimate
  double relative_difference = 0.0;  // (measured - planned) / planned
};

// Loads `path`, creates the plan's sequences and forward pass, evaluates
// n_ctx tokens in every sequence (ids cycling through the vocabulary, in
// batches of the plan's size) and reads the resident set. `baseline_bytes`
// is resident_bytes() taken before anything of the model was opened. Throws
// Error for a KV type other than f32, which edgelm cannot run.
MemoryCheck check_memory(const std::string& path, const MemoryPlan& plan, uint64_t baseline_bytes);

}  // namespace edgelm
