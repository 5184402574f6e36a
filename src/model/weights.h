#pragma once
// The model's tensors, bound by name to the memory-mapped GGUF data.

#include <string>
#include <vector>

#include "model/hparams.h"
#include "tensor/weight_matrix.h"

namespace edgelm {

class GgufFile;

struct LayerWeights {
  std::vector<float> attn_norm;       // [n_embd], (1 + w) already folded for Gemma
  WeightMatrix wq;                    // [q_dim rows, n_embd cols]
  WeightMatrix wk;                    // [k_dim, n_embd]
  WeightMatrix wv;                    // [v_dim, n_embd]
  WeightMatrix wo;                    // [n_embd, q_dim]
  std::vector<float> post_attn_norm;  // Gemma only
  std::vector<float> ffn_norm;
  WeightMatrix w_gate;                // [n_ff, n_embd]
  WeightMatrix w_up;                  // [n_ff, n_embd]
  WeightMatrix w_down;                // [n_embd, n_ff]
  std::vector<float> post_ffn_norm;   // Gemma only
};

struct ModelWeights {
  WeightMatrix token_embd;  // [n_vocab rows, n_embd cols]
  std::vector<LayerWeights> layers;
  std::vector<float> output_norm;
  WeightMatrix output;  // the token embedding when the head is tied
  std::vector<float> rope_freq_factors;  // Llama 3.1 "rope_freqs": divides each RoPE frequency; empty if absent

  // Binds every tensor the architecture needs, checking names, shapes and
  // types. Throws Error naming the tensor on any mismatch.
  static ModelWeights bind(const GgufFile& file, const HParams& hp);
};

}  // namespace edgelm
