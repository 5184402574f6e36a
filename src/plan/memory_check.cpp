// Loads a model, fills its contexts and compares the resident set with the plan.

#include <cstdio>
#include "plan/memory_check.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/thread_pool.h"
#include "model/batch_forward.h"
#include "model/model.h"
#include "model/sequence.h"

namespace edgelm {

uint64_t resident_bytes() {
  // statm lists sizes in pages: total program size, then resident.
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0;
  uint64_t resident_pages = 0;
  if (!(statm >> size_pages >> resident_pages)) {
    fail("/proc/self/statm: cannot read the resident set size ({}); measuring memory needs Linux's procfs",
         std::strerror(errno));
  }
  return resident_pages * static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
}

MemoryCheck check_memory(const std::string& path, const MemoryPlan& plan, uint64_t baseline_bytes) {
  const Deployment& deployment = plan.deployment;
  if (deployment.kv_type != KvType::kF32) {
    fail("--check with --kv-type {}: edgelm's KV cache stores f32 only, so only an f32 plan can be measured",
         kv_type_name(deployment.kv_type));
  }

  auto model = Model::load(path, FileAccess::kMap);
  const HParams& hp = model->hparams();
  ThreadPool pool(deployment.n_threads);
  std::vector<std::unique_ptr<Sequence>> sequences;
  for (uint32_t i = 0; i < deployment.n_parallel; ++i) {
    sequences.push_back(std::make_unique<Sequence>(hp, deployment.n_ctx, deployment.rewind));
  }
  BatchForward forward(*model, pool, deployment.batch_rows);

  // Any valid ids do; cycling by a prime step touches many embedding rows.
  std::vector<int32_t> tokens(deployment.n_ctx);
  for (size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<int32_t>((i * 7919 + 1) % hp.n_vocab);

  std::fprintf(stderr, "plan: --check evaluates %u tokens to fill the context; this takes a while for long contexts\n",
               deployment.n_ctx * deployment.n_parallel);

  // Fill the sequences as the scheduler would: each pass takes an equal share of the batch from each.
  const uint32_t share = std::max<uint32_t>(1, deployment.batch_rows / deployment.n_parallel);
  for (uint32_t start = 0; start < deployment.n_ctx; start += share) {
    const uint32_t n = std::min(share, deployment.n_ctx - start);
    std::vector<BatchSegment> segments;
    for (auto& sequence : sequences) segments.push_back({sequence.get(), tokens.data() + start, n, LogitsMode::kLast});
    forward.eval(segments);
  }

  MemoryCheck check;
  check.baseline_bytes = baseline_bytes;
  check.measured_bytes = resident_bytes();
  check.planned_bytes = plan.total_bytes() - plan.overhead.baseline_bytes + baseline_bytes;
  check.relative_difference = (static_cast<double>(check.measured_bytes) - static_cast<double>(check.planned_bytes)) /
                              static_cast<double>(check.planned_bytes);
  return check;
}

}  // namespace edgelm
