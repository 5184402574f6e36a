#include "model/weights.h"

#include <fmt/ranges.h>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

class Binder {
 public:
  Binder(const GgufFile& file) : file_(file) {}

  const GgufTensor* find(const std::string& name) const { return file_.find_tensor(name); }

  const GgufTensor& require(const std::string& name) const {
    const GgufTensor* t = file_.find_tensor(name);
    if (t == nullptr) fail("{}: tensor '{}' is missing; the file is incomplete or not a supported model", file_.path(), name);
    return *t;
  }

  // A 2-D weight with `rows` rows of `cols` elements in a type the kernels run.
  WeightMatrix matrix(const std::string& name, uint64_t cols, uint64_t rows) const {
    return to_matrix(require(name), cols, rows);
  }

  WeightMatrix to_matrix(const GgufTensor& t, uint64_t cols, uint64_t rows) const {
    if (t.dims.size() != 2 || t.dims[0] != cols || t.dims[1] != rows) {
      fail("{}: tensor '{}' has shape [{}], expected [{}, {}]", file_.path(), t.name,
           fmt::join(t.dims, ", "), cols, rows);
    }
    check_type(t);
    WeightMatrix m;
    m.type = t.type;
    m.data = t.data;
    m.rows = rows;
    m.cols = cols;
    m.row_stride = row_bytes(t.type, cols);
    return m;
  }

  // A 1-D vector of `n` values, converted to float.
  std::vector<float> vector(const std::string& name, uint64_t n) const {
    const GgufTensor& t = require(name);
    if (t.n_elements() != n || t.dims.size() != 1) {
      fail("{}: tensor '{}' has shape [{}], expected [{}]", file_.path(), name, fmt::join(t.dims, ", "), n);
    }
    check_type(t);
    std::vector<float> values(n);
    dequantize_row_ref(t.type, t.data, values.data(), n);
    return values;
  }

 private:
  void check_type(const GgufTensor& t) const {
    if (!dtype_supported(t.type)) {
      fail("{}: tensor '{}' has type {}, which edgelm cannot compute yet (supported: {})", file_.path(), t.name,
           dtype_name(t.type), supported_dtype_names());
    }
  }

  const GgufFile& file_;
};

}  // namespace

ModelWeights ModelWeights::bind(const GgufFile& file, const HParams& hp) {
  Binder b(file);
  ModelWeights w;

  w.token_embd = b.matrix("token_embd.weight", hp.n_embd, hp.n_vocab);
  w.output_norm = b.vector("output_norm.weight", hp.n_embd);
  w.output = b.find("output.weight") ? b.matrix("output.weight", hp.n_embd, hp.n_vocab) : w.token_embd;

  if (b.find("rope_freqs.weight") != nullptr) {
    w.rope_freq_factors = b.vector("rope_freqs.weight", hp.n_rot / 2);
  }

  w.layers.resize(hp.n_layer);
  for (uint32_t il = 0; il < hp.n_layer; ++il) {
    LayerWeights& l = w.layers[il];
    std::string p = fmt::format("blk.{}.", il);

    l.attn_norm = b.vector(p + "attn_norm.weight", hp.n_embd);
    l.wq = b.matrix(p + "attn_q.weight", hp.n_embd, hp.q_dim());
    l.wk = b.matrix(p + "attn_k.weight", hp.n_embd, hp.k_dim());
    l.wv = b.matrix(p + "attn_v.weight", hp.n_embd, hp.v_dim());
    l.wo = b.matrix(p + "attn_output.weight", hp.n_head * hp.head_dim_v, hp.n_embd);
    l.ffn_norm = b.vector(p + "ffn_norm.weight", hp.n_embd);
    l.w_gate = b.matrix(p + "ffn_gate.weight", hp.n_embd, hp.n_ff);
    l.w_up = b.matrix(p + "ffn_up.weight", hp.n_embd, hp.n_ff);
    l.w_down = b.matrix(p + "ffn_down.weight", hp.n_ff, hp.n_embd);

    if (hp.post_norms) {
      l.post_attn_norm = b.vector(p + "post_attention_norm.weight", hp.n_embd);
      l.post_ffn_norm = b.vector(p + "post_ffw_norm.weight", hp.n_embd);
    }
  }
  return w;
}

}  // namespace edgelm
