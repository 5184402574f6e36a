// Causal attention of a batch of queries over their sequences' KV caches,
// with GQA, the optional sliding window and the optional score soft-cap.

#include <algorithm>
#include <cstring>

#include "kernels/attention.h"
#include "model/batch_forward.h"

namespace edgelm {

void BatchForward::attention(uint32_t il, size_t n) {
  // The lambda captures one pointer, so std::function stores it without allocating.
  struct Job {
    BatchForward* self;
    uint32_t il;
    size_t n;
  };
  const Job job{this, il, n};

  // One task per (token, KV head), which attends all query heads of that KV
  // head's group. Keys before the segment's first position come
  // from the cache, and keys of the segment from k_ and v_. Writing the
  // segment into a sliding layer's ring first would overwrite positions that
  // its earlier queries still need.
  pool_.parallel_for(n * hp_.n_head_kv, [&job](size_t begin, size_t end) {
    BatchForward& self = *job.self;
    const HParams& hp = self.hp_;
    const uint32_t il = job.il;
    const uint32_t hd = hp.head_dim;
    const uint32_t hd_v = hp.head_dim_v;
    const uint32_t group = hp.n_head / hp.n_head_kv;  // query heads per KV head
    const size_t k_dim = hp.k_dim();
    const size_t v_dim = hp.v_dim();
    const size_t out_dim = size_t{hp.n_head} * hd_v;

    for (size_t task = begin; task < end; ++task) {
      // Tokens alternate from both ends (0, n-1, 1, n-2, ...), so that each
      // thread's contiguous range gets as many long causal rows as short ones.
      const size_t order = task / hp.n_head_kv;
      const size_t t = order % 2 == 0 ? order / 2 : job.n - 1 - order / 2;
      const uint32_t kv_head = static_cast<uint32_t>(task % hp.n_head_kv);
      const uint32_t h = kv_head * group;  // first query head of the group
      const size_t k_offset = size_t{kv_head} * hd;
      const size_t v_offset = size_t{kv_head} * hd_v;
      const Row& row = self.rows_[t];
      const KvCache& kv = row.sequence->kv();
      const uint32_t pos = row.pos;
      const uint32_t pos0 = row.pos0;

      // Keys j with pos - j < window on sliding layers, all j <= pos otherwise.
      const uint32_t window = hp.sliding_window;
      const uint32_t first = kv.is_sliding(il) && pos + 1 > window ? pos + 1 - window : 0;

      // Cached positions [first, pos0) are contiguous up to the end of a
      // sliding layer's ring. KvCache gives that ring min(window + rewind, n_ctx)
      // slots and fewer than min(window, n_ctx) positions are read here, so
      // they wrap at most once and fill at most two runs.
      KeyValueRun runs[3];
      size_t n_runs = 0;
      const uint32_t capacity = kv.capacity(il);
      for (uint32_t p = first; p < pos0;) {
        const uint32_t count = std::min(pos0 - p, capacity - p % capacity);
        runs[n_runs++] = {kv.key(il, p) + k_offset, kv.value(il, p) + v_offset, k_dim, v_dim, count};
        p += count;
      }

      // Positions [max(first, pos0), pos] are this segment's rows of k_ and v_.
      const uint32_t segment_first = std::max(first, pos0);
      const size_t segment_row = row.first_row + (segment_first - pos0);
      runs[n_runs++] = {self.k_.data() + segment_row * k_dim + k_offset,
                        self.v_.data() + segment_row * v_dim + v_offset, k_dim, v_dim, pos - segment_first + 1};

      const float* q = self.q_.data() + t * hp.q_dim() + size_t{h} * hd;
      float* out = self.attn_out_.data() + t * out_dim + size_t{h} * hd_v;
      attend_heads(q, group, hd, {runs, n_runs}, hd_v, hp.query_scale, hp.attn_softcap, out);
    }
  });
}

void BatchForward::store_kv(uint32_t il, size_t n) {
  for (size_t t = 0; t < n; ++t) {
    const Row& row = rows_[t];
    KvCache& kv = row.sequence->kv();

    // A sliding layer keeps only the last `capacity` positions of a segment;
    // the earlier ones would land in slots that later rows overwrite.
    if (row.end_pos - row.pos > kv.capacity(il)) continue;

    std::memcpy(kv.key(il, row.pos), k_.data() + t * hp_.k_dim(), hp_.k_dim() * sizeof(float));
    std::memcpy(kv.value(il, row.pos), v_.data() + t * hp_.v_dim(), hp_.v_dim() * sizeof(float));
  }
}

}  // namespace edgelm
