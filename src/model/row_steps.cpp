// The row-wise steps of the forward pass (norms, the gated activation, the
// residual add), split across the pool by token rows. Each row's result does
// not depend on the split, so a batch gives the same floats as single tokens.

#include <algorithm>

#include "kernels/ops.h"
#include "model/batch_forward.h"

namespace edgelm {
namespace {

// Runs step(row) for rows [0, n): on the calling thread for one row, where a
// hand-off to the pool would cost more than the work, else across the pool.
template <class Step>
void for_each_row(ThreadPool& pool, size_t n, const Step& step) {
  if (n == 1) return step(0);
  // The lambda captures one pointer, so std::function stores it without allocating.
  const Step* job = &step;
  pool.parallel_for(n, [job](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) (*job)(t);
  });
}

}  // namespace

void BatchForward::norm_rows(const float* in, const std::vector<float>& weight, float* out, size_t n) {
  const size_t d = hp_.n_embd;
  const float eps = hp_.rms_eps;
  const float* w = weight.data();
  for_each_row(pool_, n, [=](size_t t) { rms_norm(in + t * d, w, eps, out + t * d, d); });
}

void BatchForward::activate_rows(size_t n) {
  const size_t n_ff = hp_.n_ff;
  float* gate = gate_.data();
  const float* up = up_.data();
  if (hp_.activation == FfnActivation::kGeluTanh) {
    for_each_row(pool_, n, [=](size_t t) { gelu_tanh_mul(gate + t * n_ff, up + t * n_ff, n_ff); });
  } else {
    for_each_row(pool_, n, [=](size_t t) { silu_mul(gate + t * n_ff, up + t * n_ff, n_ff); });
  }
}

void BatchForward::add_rows(float* x, const float* y, size_t n) {
  const size_t d = hp_.n_embd;
  for_each_row(pool_, n, [=](size_t t) { add_in_place(x + t * d, y + t * d, d); });
}

}  // namespace edgelm
