#pragma once
// One sequence's state between forward passes: its KV cache and how many
// positions of it are filled.

#include <cstdint>

#include "kv/kv_cache.h"
#include "model/hparams.h"

namespace edgelm {

class Sequence {
 public:
  // `rewind`: extra sliding-window positions kept, see truncate.
  Sequence(const HParams& hp, uint32_t n_ctx, uint32_t rewind = 0)
      : kv_(hp, n_ctx, rewind), window_(hp.sliding_window) {}

  uint32_t n_past() const { return n_past_; }
  uint32_t n_ctx() const { return kv_.n_ctx(); }
  KvCache& kv() { return kv_; }
  const KvCache& kv() const { return kv_; }

  // Forgets every position (the next token goes to position 0).
  void reset() { n_past_ = 0; }

  // Forgets the positions from n on, when the cache still contains every key
  // that position n will attend to: always without sliding-window layers.
  // A sliding layer's ring keeps the last window + rewind positions, so after
  // it wrapped a sequence can step back by at most rewind + 1 positions.
  // Returns false, changing nothing, when needed positions were overwritten.
  bool truncate(uint32_t n);

  // Called by the forward pass after it stored n more positions.
  void advance(uint32_t n) { n_past_ += n; }

 private:
  KvCache kv_;
  uint32_t window_;
  uint32_t n_past_ = 0;
};

}  // namespace edgelm
