// Causal attention of a chunk of queries over the KV cache, with GQA, the
// optional sliding window and the optional score soft-cap.

#include <algorithm>
#include <cstring>
#include <vector>

#include "kernels/matvec.h"
#include "kernels/ops.h"
#include "model/context.h"

namespace edgelm {

void Context::attention(uint32_t il, size_t n, uint32_t pos0) {
  const uint32_t hd = hp_.head_dim;
  const uint32_t hd_v = hp_.head_dim_v;
  const uint32_t group = hp_.n_head / hp_.n_head_kv;  // query heads per KV head
  const bool sliding = kv_.is_sliding(il);
  const uint32_t window = hp_.sliding_window;
  const size_t q_dim = hp_.q_dim();
  const size_t k_dim = hp_.k_dim();
  const size_t v_dim = hp_.v_dim();
  const size_t out_dim = size_t{hp_.n_head} * hd_v;

  // One task per (token, head). Keys before pos0 come from the cache, and keys
  // of this chunk from k_ and v_. Writing the chunk into a sliding layer's
  // ring first would overwrite positions that its earlier queries still need.
  pool_.parallel_for(n * hp_.n_head, [&](size_t begin, size_t end) {
    thread_local std::vector<float> scores;
    for (size_t task = begin; task < end; ++task) {
      size_t t = task / hp_.n_head;
      uint32_t h = static_cast<uint32_t>(task % hp_.n_head);
      uint32_t kvh = h / group;
      uint32_t pos = pos0 + static_cast<uint32_t>(t);

      // Keys j with pos - j < window on sliding layers, all j <= pos otherwise.
      uint32_t first = sliding && pos + 1 > window ? pos + 1 - window : 0;
      size_t n_keys = pos - first + 1;
      scores.resize(n_keys);

      const float* q = q_.data() + t * q_dim + size_t{h} * hd;
      for (uint32_t j = first; j <= pos; ++j) {
        const float* key = j < pos0 ? kv_.key(il, j) + size_t{kvh} * hd
                                    : k_.data() + (j - pos0) * k_dim + size_t{kvh} * hd;
        scores[j - first] = dot_f32(q, key, hd) * hp_.query_scale;
      }
      if (hp_.attn_softcap > 0.0f) soft_cap(scores.data(), n_keys, hp_.attn_softcap);
      softmax(scores.data(), n_keys);

      float* out = attn_out_.data() + t * out_dim + size_t{h} * hd_v;
      std::memset(out, 0, hd_v * sizeof(float));
      for (uint32_t j = first; j <= pos; ++j) {
        const float* value = j < pos0 ? kv_.value(il, j) + size_t{kvh} * hd_v
                                      : v_.data() + (j - pos0) * v_dim + size_t{kvh} * hd_v;
        axpy_f32(scores[j - first], value, out, hd_v);
      }
    }
  });
}

void Context::store_kv(uint32_t il, size_t n, uint32_t pos0) {
  // A sliding layer keeps only the last `capacity` positions of the chunk.
  size_t skip = n > kv_.capacity(il) ? n - kv_.capacity(il) : 0;
  for (size_t t = skip; t < n; ++t) {
    uint32_t pos = pos0 + static_cast<uint32_t>(t);
    std::memcpy(kv_.key(il, pos), k_.data() + t * hp_.k_dim(), hp_.k_dim() * sizeof(float));
    std::memcpy(kv_.value(il, pos), v_.data() + t * hp_.v_dim(), hp_.v_dim() * sizeof(float));
  }
}

}  // namespace edgelm
