#pragma once
// One sequence with its own forward pass: the simple way to evaluate a single
// prompt or conversation.

#include <cstdint>

#include "core/thread_pool.h"
#include "model/batch_forward.h"
#include "model/model.h"
#include "model/sequence.h"

namespace edgelm {

class Context {
 public:
  // A context of n_ctx positions over `model`, using `pool` for every kernel.
  // Prompts are evaluated in chunks of at most max_batch tokens.
  Context(const Model& model, uint32_t n_ctx, ThreadPool& pool, uint32_t max_batch = 64);

  // Appends `tokens` at positions n_past() onward and returns their logits:
  // one row of n_vocab floats per token (kAll), for the last token only
  // (kLast) or none (kNone). The pointer is valid until the next eval. Throws
  // Error when a token id is out of range or the context would overflow.
  const float* eval(const int32_t* tokens, size_t n, LogitsMode mode);

  uint32_t n_past() const { return sequence_.n_past(); }
  uint32_t n_ctx() const { return sequence_.n_ctx(); }
  const KvCache& kv_cache() const { return sequence_.kv(); }
  const Model& model() const { return model_; }

  // Forgets every position (the next eval starts at 0).
  void reset() { sequence_.reset(); }

  // See Sequence::truncate.
  bool truncate(uint32_t n) { return sequence_.truncate(n); }

 private:
  const Model& model_;
  Sequence sequence_;
  BatchForward forward_;
  std::vector<float> logits_;
};

}  // namespace edgelm
