#include "model/sequence.h"

namespace edgelm {

bool Sequence::truncate(uint32_t n) {
  if (n >= n_past_) return n == n_past_;

  // Position n attends to the keys from n + 1 - window on. A ring of
  // `capacity` slots still contains positions n_past - capacity onward.
  const uint32_t first_needed = n + 1 > window_ ? n + 1 - window_ : 0;
  for (uint32_t il = 0; il < kv_.n_layers(); ++il) {
    const uint32_t capacity = kv_.capacity(il);
    if (kv_.is_sliding(il) && n_past_ > capacity && first_needed < n_past_ - capacity) return false;
  }
  n_past_ = n;
  return true;
}

}  // namespace edgelm
