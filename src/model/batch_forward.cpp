#include "model/batch_forward.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace edgelm {

BatchForward::BatchForward(const Model& model, ThreadPool& pool, uint32_t max_rows)
    : model_(model),
      hp_(model.hparams()),
      w_(model.weights()),
      pool_(pool),
      max_rows_(std::max<uint32_t>(1, max_rows)) {
  size_t b = max_rows_;
  rows_.reserve(b);
  tokens_.reserve(b);
  logit_rows_.reserve(b);
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

void BatchForward::check(std::span<const BatchSegment> segments) const {
  size_t total = 0;
  for (size_t s = 0; s < segments.size(); ++s) {
    const BatchSegment& seg = segments[s];
    if (seg.sequence == nullptr) fail("batch segment {} has no sequence", s);
    if (seg.n == 0) fail("batch segment {} is empty", s);
    for (size_t other = 0; other < s; ++other) {
      if (segments[other].sequence == seg.sequence) fail("batch segments {} and {} extend the same sequence", other, s);
    }
    const Sequence& sequence = *seg.sequence;
    if (sequence.n_past() + seg.n > sequence.n_ctx()) {
      fail("{} tokens at position {} exceed the context of {} tokens; use a larger -c or a shorter prompt", seg.n,
           sequence.n_past(), sequence.n_ctx());
    }
    for (size_t i = 0; i < seg.n; ++i) {
      if (seg.tokens[i] < 0 || static_cast<uint32_t>(seg.tokens[i]) >= hp_.n_vocab) {
        fail("token id {} at index {} is outside the vocabulary of {} tokens", seg.tokens[i], i, hp_.n_vocab);
      }
    }
    total += seg.n;
  }
  if (total > max_rows_) fail("a forward pass of {} tokens exceeds the batch size of {}", total, max_rows_);
}

const float* BatchForward::eval(std::span<const BatchSegment> segments) {
  check(segments);

  // Lay the segments out as rows and note which rows want logits.
  rows_.clear();
  tokens_.clear();
  logit_rows_.clear();
  for (const BatchSegment& seg : segments) {
    const uint32_t first_row = static_cast<uint32_t>(rows_.size());
    const uint32_t pos0 = seg.sequence->n_past();
    for (size_t i = 0; i < seg.n; ++i) {
      rows_.push_back(Row{seg.sequence, pos0 + static_cast<uint32_t>(i), first_row, pos0,
                          pos0 + static_cast<uint32_t>(seg.n)});
      tokens_.push_back(seg.tokens[i]);
      bool with_logits = seg.logits == LogitsMode::kAll || (seg.logits == LogitsMode::kLast && i + 1 == seg.n);
      if (with_logits) logit_rows_.push_back(rows_.size() - 1);
    }
  }

  logits_.resize(logit_rows_.size() * hp_.n_vocab);
  forward(rows_.size(), logit_rows_, logits_.data());
  for (const BatchSegment& seg : segments) seg.sequence->advance(static_cast<uint32_t>(seg.n));

  // Invalid weights surface here rather than as silent empty output.
  for (size_t i = 0; i < logits_.size(); ++i) {
    if (!std::isfinite(logits_[i])) {
      const Row& row = rows_[logit_rows_[i / hp_.n_vocab]];
      fail("the model produced a non-finite logit ({}) for token {} at position {}; its weights or metadata are invalid",
           logits_[i], i % hp_.n_vocab, row.pos);
    }
  }
  return logits_.data();
}

}  // namespace edgelm
