#pragma once
// One forward pass over tokens of several sequences at once. Each weight
// matrix is read once per pass for all of them, which is what makes serving
// many sequences cheaper than serving them one by one.

#include <cstdint>
#include <span>
#include <vector>

#include "core/thread_pool.h"
#include "model/model.h"
#include "model/sequence.h"

namespace edgelm {

enum class LogitsMode { kNone, kLast, kAll };

// Consecutive tokens of one sequence, placed at positions n_past() onward.
struct BatchSegment {
  Sequence* sequence = nullptr;
  const int32_t* tokens = nullptr;
  size_t n = 0;
  LogitsMode logits = LogitsMode::kLast;
};

class BatchForward {
 public:
  // Scratch for passes of up to max_rows tokens in all.
  BatchForward(const Model& model, ThreadPool& pool, uint32_t max_rows);

  // Evaluates every segment, advances each sequence by its n, and returns the
  // logits rows in segment order (n rows for kAll, 1 for kLast, none for
  // kNone), each n_vocab floats, valid until the next eval. A row's values do
  // not depend on the other segments of the pass: every kernel sums each
  // token in a fixed order. Throws Error for an id outside the vocabulary, a
  // segment past its context, two segments of one sequence, more than
  // max_rows tokens, or a non-finite logit.
  const float* eval(std::span<const BatchSegment> segments);

  uint32_t max_rows() const { return max_rows_; }
  const Model& model() const { return model_; }

 private:
  // The origin of one row of the pass: its sequence and position.
  struct Row {
    Sequence* sequence;
    uint32_t pos;        // its position in the sequence
    uint32_t first_row;  // the row of its segment's first token
    uint32_t pos0;       // the position of that first token
    uint32_t end_pos;    // one past the position of its segment's last token
  };

  void check(std::span<const BatchSegment> segments) const;
  void forward(size_t n, const std::vector<size_t>& logit_rows, float* logits);
  void attention(uint32_t il, size_t n);
  void store_kv(uint32_t il, size_t n);

  // Row-wise steps of the pass, split across the pool for more than one row:
  // out row t = RMSNorm(in row t) * weight (in place when out == in), the
  // gated activation of gate_ and up_, and x += proj_.
  void norm_rows(const float* in, const std::vector<float>& weight, float* out, size_t n);
  void activate_rows(size_t n);
  void add_rows(float* x, const float* y, size_t n);

  const Model& model_;
  const HParams& hp_;
  const ModelWeights& w_;
  ThreadPool& pool_;
  uint32_t max_rows_;

  std::vector<Row> rows_;
  std::vector<int32_t> tokens_;
  std::vector<size_t> logit_rows_;

  // Scratch, one row per token of the pass.
  std::vector<float> x_;         // residual stream [rows, n_embd]
  std::vector<float> xn_;        // normalized input [rows, n_embd]
  std::vector<float> q_;         // [rows, q_dim]
  std::vector<float> k_;         // [rows, k_dim]
  std::vector<float> v_;         // [rows, v_dim]
  std::vector<float> attn_out_;  // [rows, n_head * head_dim_v]
  std::vector<float> proj_;      // block output before the residual add [rows, n_embd]
  std::vector<float> gate_;      // [rows, n_ff]
  std::vector<float> up_;        // [rows, n_ff]
  std::vector<float> rope_cos_;  // [rows, n_rot / 2]
  std::vector<float> rope_sin_;
  std::vector<float> logits_;
};

}  // namespace edgelm
