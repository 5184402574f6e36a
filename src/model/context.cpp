#include "model/context.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"

namespace edgelm {

Context::Context(const Model& model, uint32_t n_ctx, ThreadPool& pool, uint32_t max_batch)
    : model_(model), sequence_(model.hparams(), n_ctx), forward_(model, pool, max_batch) {}

const float* Context::eval(const int32_t* tokens, size_t n, LogitsMode mode) {
  if (n == 0) fail("nothing to evaluate: the token list is empty");
  if (sequence_.n_past() + n > sequence_.n_ctx()) {
    fail("{} tokens at position {} exceed the context of {} tokens; use a larger -c or a shorter prompt", n,
         sequence_.n_past(), sequence_.n_ctx());
  }

  // Chunks of at most max_rows tokens; with kAll their logits are gathered.
  const size_t n_vocab = model_.hparams().n_vocab;
  const size_t max_rows = forward_.max_rows();
  if (mode == LogitsMode::kAll) logits_.resize(n * n_vocab);
  const float* last = nullptr;
  for (size_t start = 0; start < n; start += max_rows) {
    const size_t chunk = std::min(max_rows, n - start);
    const bool last_chunk = start + chunk == n;
    LogitsMode chunk_mode = mode == LogitsMode::kLast && !last_chunk ? LogitsMode::kNone : mode;
    BatchSegment segment{&sequence_, tokens + start, chunk, chunk_mode};
    last = forward_.eval({&segment, 1});
    if (mode == LogitsMode::kAll) std::memcpy(logits_.data() + start * n_vocab, last, chunk * n_vocab * sizeof(float));
  }
  if (mode == LogitsMode::kAll) return logits_.data();
  return mode == LogitsMode::kLast ? last : nullptr;
}

}  // namespace edgelm
