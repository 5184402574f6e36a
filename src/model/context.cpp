#include "model/context.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace edgelm {

Context::Context(const Model& model, uint32_t n_ctx, ThreadPool& pool, uint32_t max_batch)
    : model_(model),
      hp_(model.hparams()),
      w_(model.weights()),
      pool_(pool),
      kv_(model.hparams(), n_ctx),
      max_batch_(std::max<uint32_t>(1, max_batch)) {
  size_t b = max_batch_;
  x_.resize(b * hp_.n_embd);
  xn_.resize(b * hp_.n_embd);
  q_.resize(b * hp_.q_dim());
  k_.resize(b * hp_.k_dim());
  v_.resize(b * hp_.v_dim());
  attn_out_.resize(b * hp_.n_head * hp_.head_dim_v);
  proj_.resize(b * hp_.n_embd);
  gate_.resize(b * hp_.n_ff);
  up_.resize(b * hp_.n_ff);
  rope_cos_.resize(b * hp_.n_rot / 2);
  rope_sin_.resize(b * hp_.n_rot / 2);
}

bool Context::truncate(uint32_t n) {
  if (n >= n_past_) return n == n_past_;
  for (uint32_t il = 0; il < hp_.n_layer; ++il) {
    if (kv_.is_sliding(il) && n_past_ > kv_.capacity(il)) return false;
  }
  n_past_ = n;
  return true;
}

const float* Context::eval(const int32_t* tokens, size_t n, LogitsMode mode) {
  if (n == 0) fail("nothing to evaluate: the token list is empty");
  if (n_past_ + n > kv_.n_ctx()) {
    fail("{} tokens at position {} exceed the context of {} tokens; use a larger -c or a shorter prompt", n,
         n_past_, kv_.n_ctx());
  }
  for (size_t i = 0; i < n; ++i) {
    if (tokens[i] < 0 || static_cast<uint32_t>(tokens[i]) >= hp_.n_vocab) {
      fail("token id {} at index {} is outside the vocabulary of {} tokens", tokens[i], i, hp_.n_vocab);
    }
  }

  size_t n_rows = mode == LogitsMode::kAll ? n : 1;
  logits_.resize(n_rows * hp_.n_vocab);

  for (size_t start = 0; start < n; start += max_batch_) {
    size_t chunk = std::min<size_t>(max_batch_, n - start);
    if (mode == LogitsMode::kAll) {
      forward_chunk(tokens + start, chunk, 0, logits_.data() + start * hp_.n_vocab);
    } else {
      bool last_chunk = start + chunk == n;
      forward_chunk(tokens + start, chunk, last_chunk ? chunk - 1 : chunk, logits_.data());
    }
    n_past_ += static_cast<uint32_t>(chunk);
  }

  // Invalid weights surface here rather than as silent empty output.
  for (size_t i = 0; i < logits_.size(); ++i) {
    if (!std::isfinite(logits_[i])) {
      fail("the model produced a non-finite logit ({}) for token {} at position {}; its weights or metadata are invalid",
           logits_[i], i % hp_.n_vocab, n_past_ - n_rows + i / hp_.n_vocab);
    }
  }
  return logits_.data();
}

}  // namespace edgelm
