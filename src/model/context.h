#pragma once
// The state of one sequence being evaluated: its KV cache, position and scratch buffers.

#include <cstdint>
#include <vector>

#include "core/thread_pool.h"
#include "kv/kv_cache.h"
#include "model/model.h"

namespace edgelm {

enum class LogitsMode { kLast, kAll };

class Context {
 public:
  // A context of n_ctx positions over `model`, using `pool` for every kernel.
  // Prompts are evaluated in chunks of at most max_batch tokens.
  Context(const Model& model, uint32_t n_ctx, ThreadPool& pool, uint32_t max_batch = 64);

  // Appends `tokens` at positions n_past() onward and returns their logits:
  // one row of n_vocab floats per token (kAll) or for the last token only
  // (kLast). The pointer is valid until the next eval. Throws Error when a
  // token id is out of range or the context would overflow.
  const float* eval(const int32_t* tokens, size_t n, LogitsMode mode);

  uint32_t n_past() const { return n_past_; }
  uint32_t n_ctx() const { return kv_.n_ctx(); }
  const KvCache& kv_cache() const { return kv_; }
  const Model& model() const { return model_; }

  // Forgets every position (the next eval starts at 0).
  void reset() { n_past_ = 0; }

  // Forgets the positions from n on, when the cache still contains everything
  // before n: always without sliding-window layers, and with them only while
  // no ring has wrapped yet (n_past <= window). Returns false, changing
  // nothing, when positions before n have been overwritten.
  bool truncate(uint32_t n);

 private:
  // Runs one chunk of at most max_batch tokens at positions n_past_... and
  // writes the logits of the rows in [first_logit_row, n) to `logits`.
  void forward_chunk(const int32_t* tokens, size_t n, size_t first_logit_row, float* logits);

  void attention(uint32_t il, size_t n, uint32_t pos0);
  void store_kv(uint32_t il, size_t n, uint32_t pos0);

  const Model& model_;
  const HParams& hp_;
  const ModelWeights& w_;
  ThreadPool& pool_;
  KvCache kv_;
  uint32_t max_batch_;
  uint32_t n_past_ = 0;

  // Scratch, one row per token of a chunk.
  std::vector<float> x_;         // residual stream [batch, n_embd]
  std::vector<float> xn_;        // normalized input [batch, n_embd]
  std::vector<float> q_;         // [batch, q_dim]
  std::vector<float> k_;         // [batch, k_dim]
  std::vector<float> v_;         // [batch, v_dim]
  std::vector<float> attn_out_;  // [batch, n_head * head_dim_v]
  std::vector<float> proj_;      // block output before the residual add [batch, n_embd]
  std::vector<float> gate_;      // [batch, n_ff]
  std::vector<float> up_;        // [batch, n_ff]
  std::vector<float> rope_cos_;  // [batch, n_rot / 2]
  std::vector<float> rope_sin_;
  std::vector<float> logits_;
};

}  // namespace edgelm
