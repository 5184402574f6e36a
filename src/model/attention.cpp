// Causal attention of a batch of queries over their sequences' KV caches,
// with GQA, the optional sliding window and the optional score soft-cap.

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/matvec.h"
#include "kernels/ops.h"
#include "model/batch_forward.h"

namespace edgelm {

void BatchForward::attention(uint32_t il, size_t n) {
  const uint32_t hd = hp_.head_dim;
  const uint32_t hd_v = hp_.head_dim_v;
  const uint32_t group = hp_.n_head / hp_.n_head_kv;  // query heads per KV head
  const uint32_t window = hp_.sliding_window;
  const size_t q_dim = hp_.q_dim();
  const size_t k_dim = hp_.k_dim();
  const size_t v_dim = hp_.v_dim();
  const size_t out_dim = size_t{hp_.n_head} * hd_v;

  // One task per (token, head). Keys before the segment's first position come
  // from the cache, and keys of the segment from k_ and v_. Writing the
  // segment into a sliding layer's ring first would overwrite positions that
  // its earlier queries still need.
  pool_.parallel_for(n * hp_.n_head, [&](size_t begin, size_t end) {
    thread_local std::vector<float> scores;
    for (size_t task = begin; task < end; ++task) {
      const size_t t = task / hp_.n_head;
      const uint32_t h = static_cast<uint32_t>(task % hp_.n_head);
      const uint32_t kvh = h / group;
      const Row& row = rows_[t];
      const KvCache& kv = row.sequence->kv();
      const uint32_t pos = row.pos;
      const uint32_t pos0 = row.pos0;
      const bool sliding = kv.is_sliding(il);

      // Keys j with pos - j < window on sliding layers, all j <= pos otherwise.
      uint32_t first = sliding && pos + 1 > window ? pos + 1 - window : 0;
      size_t n_keys = pos - first + 1;
      scores.resize(n_keys);

      const float* q = q_.data() + t * q_dim + size_t{h} * hd;
      for (uint32_t j = first; j <= pos; ++j) {
        const float* key = j < pos0 ? kv.key(il, j) + size_t{kvh} * hd
                                    : k_.data() + (row.first_row + j - pos0) * k_dim + size_t{kvh} * hd;
        scores[j - first] = dot_f32(q, key, hd) * hp_.query_scale;
      }
      if (hp_.attn_softcap > 0.0f) soft_cap(scores.data(), n_keys, hp_.attn_softcap);
      softmax(scores.data(), n_keys);

      float* out = attn_out_.data() + t * out_dim + size_t{h} * hd_v;
      std::memset(out, 0, hd_v * sizeof(float));
      for (uint32_t j = first; j <= pos; ++j) {
        const float* value = j < pos0 ? kv.value(il, j) + size_t{kvh} * hd_v
                                      : v_.data() + (row.first_row + j - pos0) * v_dim + size_t{kvh} * hd_v;
        axpy_f32(scores[j - first], value, out, hd_v);
      }
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
