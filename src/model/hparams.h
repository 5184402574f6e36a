#pragma once
// Model hyperparameters as data: everything the decoder needs to know about an architecture.

#include <cstdint>
#include <string>
#include <vector>

namespace edgelm {

class GgufFile;

enum class Architecture { kGemma2, kLlama };

// Pairing of a head's dimensions in RoPE. GGUF Llama files have their Q/K rows
// permuted by the converter so that adjacent pairs rotate. Gemma rotates
// dimension i with i + n_rot/2.
enum class RopeStyle { kAdjacentPairs, kHalves };

enum class FfnActivation { kGeluTanh, kSilu };

struct HParams {
  Architecture arch = Architecture::kLlama;
  std::string arch_name;  // general.architecture

  uint32_t n_vocab = 0;
  uint32_t n_ctx_train = 0;  // trained context length
  uint32_t n_embd = 0;       // d_model
  uint32_t n_layer = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t head_dim = 0;  // of queries and keys
  uint32_t head_dim_v = 0;
  uint32_t n_ff = 0;
  float rms_eps = 1e-5f;

  float rope_base = 10000.0f;
  uint32_t n_rot = 0;  // leading dimensions of each head that RoPE rotates
  RopeStyle rope_style = RopeStyle::kAdjacentPairs;

  float query_scale = 1.0f;    // multiplies q before q·k
  float attn_softcap = 0.0f;   // 0: none; else scores = c * tanh(scores / c)
  float final_softcap = 0.0f;  // same for the output logits

  // Sliding-window attention: on the layers marked true, a query at position i
  // attends to keys j with 0 <= i - j < sliding_window.
  uint32_t sliding_window = 0;
  std::vector<bool> layer_is_sliding;

  bool scale_embeddings = false;  // multiply token embeddings by sqrt(n_embd)
  bool post_norms = false;        // RMSNorm after attention and after the FFN
  FfnActivation activation = FfnActivation::kSilu;

  uint32_t q_dim() const { return n_head * head_dim; }
  uint32_t k_dim() const { return n_head_kv * head_dim; }
  uint32_t v_dim() const { return n_head_kv * head_dim_v; }

  // Reads the hyperparameters of a gemma2 or llama GGUF file, applying the
  // rules the file does not store. Throws Error for other architectures or
  // missing and inconsistent values.
  static HParams from_gguf(const GgufFile& file);
};

}  // namespace edgelm
