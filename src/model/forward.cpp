// The decoder forward pass of one batch of tokens, written as the model's equations.

#include <cmath>

#include "kernels/matvec.h"
#include "kernels/ops.h"
#include "model/batch_forward.h"

namespace edgelm {

void BatchForward::forward(size_t n, const std::vector<size_t>& logit_rows, float* logits) {
  const size_t d = hp_.n_embd;
  float* x = x_.data();
  float* xn = xn_.data();

  // Token embeddings, scaled by sqrt(d_model) for Gemma.
  float embd_scale = hp_.scale_embeddings ? std::sqrt(static_cast<float>(d)) : 1.0f;
  for (size_t t = 0; t < n; ++t) {
    dequantize_row(w_.token_embd.type, w_.token_embd.row(tokens_[t]), x + t * d, d);
    if (hp_.scale_embeddings) {
      for (size_t i = 0; i < d; ++i) x[t * d + i] *= embd_scale;
    }
  }

  // RoPE angles depend only on the position, so every head and layer shares them.
  const size_t half_rot = hp_.n_rot / 2;
  const float* freq_factors = w_.rope_freq_factors.empty() ? nullptr : w_.rope_freq_factors.data();
  for (size_t t = 0; t < n; ++t) {
    rope_angles(hp_.n_rot, rows_[t].pos, hp_.rope_base, freq_factors, rope_cos_.data() + t * half_rot,
                rope_sin_.data() + t * half_rot);
  }

  for (uint32_t il = 0; il < hp_.n_layer; ++il) {
    const LayerWeights& lw = w_.layers[il];

    // Attention block: xn = RMSNorm(x); q, k, v = projections; RoPE on q and k.
    norm_rows(x, lw.attn_norm, xn, n);
    const MatmulOutput qkv[] = {{&lw.wq, q_.data()}, {&lw.wk, k_.data()}, {&lw.wv, v_.data()}};
    matmul_shared_input(qkv, xn, n, pool_);

    bool halves = hp_.rope_style == RopeStyle::kHalves;
    for (size_t t = 0; t < n; ++t) {
      const float* cos = rope_cos_.data() + t * half_rot;
      const float* sin = rope_sin_.data() + t * half_rot;
      for (uint32_t h = 0; h < hp_.n_head; ++h) {
        rope_rotate(q_.data() + t * hp_.q_dim() + h * hp_.head_dim, hp_.n_rot, halves, cos, sin);
      }
      for (uint32_t h = 0; h < hp_.n_head_kv; ++h) {
        rope_rotate(k_.data() + t * hp_.k_dim() + h * hp_.head_dim, hp_.n_rot, halves, cos, sin);
      }
    }

    // softmax(softcap(q·k * scale)) · v over the cache and this pass, then the output projection.
    attention(il, n);
    store_kv(il, n);
    matmul(lw.wo, attn_out_.data(), n, proj_.data(), pool_);

    // Gemma normalizes the attention output before the residual add.
    if (hp_.post_norms) {
      norm_rows(proj_.data(), lw.post_attn_norm, proj_.data(), n);
    }
    add_rows(x, proj_.data(), n);

    // Feed-forward block: down(act(gate(xn)) * up(xn)).
    norm_rows(x, lw.ffn_norm, xn, n);
    const MatmulOutput gate_up[] = {{&lw.w_gate, gate_.data()}, {&lw.w_up, up_.data()}};
    matmul_shared_input(gate_up, xn, n, pool_);
    activate_rows(n);
    matmul(lw.w_down, gate_.data(), n, proj_.data(), pool_);

    if (hp_.post_norms) {
      norm_rows(proj_.data(), lw.post_ffn_norm, proj_.data(), n);
    }
    add_rows(x, proj_.data(), n);
  }

  // Final norm and output head, only for the rows whose logits are wanted.
  const size_t n_out = logit_rows.size();
  if (n_out == 0) return;
  for (size_t i = 0; i < n_out; ++i) {
    rms_norm(x + logit_rows[i] * d, w_.output_norm.data(), hp_.rms_eps, xn + i * d, d);
  }
  matmul(w_.output, xn, n_out, logits, pool_);
  if (hp_.final_softcap > 0.0f) soft_cap(logits, n_out * hp_.n_vocab, hp_.final_softcap);
}

}  // namespace edgelm
