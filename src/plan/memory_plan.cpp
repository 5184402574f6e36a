// Memory predictions for weights, KV cache, scratch and runtime overhead.

#include "plan/memory_plan.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "kernels/matvec.h"
#include "tensor/dtype.h"

namespace edgelm {
namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

uint64_t elements_of(const TensorDesc& tensor) {
  uint64_t n = 1;
  for (uint64_t dim : tensor.dims) n *= dim;
  return n;
}

// The number of entries of a metadata array, or 0 when the key is absent.
uint64_t array_length(const GgufFile& file, std::string_view key) {
  const GgufValue* value = file.find(key);
  if (value == nullptr || value->type != GgufType::ARRAY) return 0;
  return std::get<GgufArray>(value->value).items.size();
}

// Heap bytes of the parsed metadata values, the tokenizer's copies and its
// lookup tables: a fixed part, then per vocabulary entry and per BPE merge.
// Estimates fitted to the RSS growth of opening the GGUF vocabularies of a
// Gemma-style SentencePiece model (8192 tokens), Llama 2 (32000 tokens) and
// Llama 3 (128256 tokens, 280147 merges) on x86-64 Linux with glibc.
constexpr uint64_t kVocabFixedBytes = 512 << 10;
constexpr uint64_t kBytesPerToken = 241;
constexpr uint64_t kBytesPerMerge = 170;

// GGUF header bytes per vocabulary entry and per merge, for a shape without
// a file: the averages of the same three files (a length-prefixed piece with
// its score and type, and a merge of two pieces).
constexpr uint64_t kHeaderBytesPerToken = 23;
constexpr uint64_t kHeaderBytesPerMerge = 19;

}  // namespace

KvType parse_kv_type(std::string_view name) {
  const std::string requested = lower(name);
  if (requested == "f32") return KvType::kF32;
  if (requested == "bf16") return KvType::kBF16;
  if (requested == "q8_0") return KvType::kQ8_0;
  fail("--kv-type '{}' is invalid; give f32, bf16 or q8_0", name);
}

std::string_view kv_type_name(KvType type) {
  switch (type) {
    case KvType::kF32:
      return "f32";
    case KvType::kBF16:
      return "bf16";
    case KvType::kQ8_0:
      return "q8_0";
  }
  return "f32";
}

uint64_t kv_type_bytes(KvType type, uint64_t n_elements) {
  switch (type) {
    case KvType::kF32:
      return n_elements * 4;
    case KvType::kBF16:
      return n_elements * 2;
    case KvType::kQ8_0:
      return (n_elements + 31) / 32 * 34;
  }
  return n_elements * 4;
}

Deployment default_deployment(uint32_t n_ctx, uint32_t n_parallel, KvType kv_type, uint32_t n_threads) {
  Deployment deployment;
  deployment.n_ctx = n_ctx;
  deployment.n_parallel = n_parallel;
  deployment.kv_type = kv_type;
  deployment.n_threads = std::max<uint32_t>(1, n_threads);

  // Context's default batch, and the scheduler's batch_tokens and rewind defaults.
  if (n_parallel <= 1) {
    deployment.batch_rows = 64;
    deployment.rewind = 0;
  } else {
    deployment.batch_rows = std::max<uint32_t>(256, n_parallel);
    deployment.rewind = 64;
  }
  return deployment;
}

KvPlan plan_kv_cache(const HParams& hp, const Deployment& deployment) {
  const uint64_t position_bytes =
      kv_type_bytes(deployment.kv_type, hp.k_dim()) + kv_type_bytes(deployment.kv_type, hp.v_dim());

  KvPlan plan;
  for (uint32_t il = 0; il < hp.n_layer; ++il) {
    const bool sliding = il < hp.layer_is_sliding.size() && hp.layer_is_sliding[il] && hp.sliding_window > 0;
    if (sliding) {
      const uint64_t capacity =
          std::min<uint64_t>(uint64_t{hp.sliding_window} + deployment.rewind, deployment.n_ctx);
      plan.sliding_bytes += capacity * position_bytes;
    } else {
      plan.global_bytes += uint64_t{deployment.n_ctx} * position_bytes;
    }
    plan.without_swa_bytes += uint64_t{deployment.n_ctx} * position_bytes;
  }

  plan.global_bytes *= deployment.n_parallel;
  plan.sliding_bytes *= deployment.n_parallel;
  plan.without_swa_bytes *= deployment.n_parallel;
  return plan;
}

uint64_t plan_compute_bytes(const HParams& hp, const Deployment& deployment, std::span<const TensorDesc> tensors) {
  const uint64_t rows = deployment.batch_rows;

  // BatchForward's float scratch per row: x, xn and proj (n_embd each), q, k,
  // v, the attention output, gate and up (n_ff each), and the RoPE cos and sin.
  const uint64_t floats_per_row = 3 * uint64_t{hp.n_embd} + hp.q_dim() + hp.k_dim() + hp.v_dim() +
                                  uint64_t{hp.n_head} * hp.head_dim_v + 2 * uint64_t{hp.n_ff} + hp.n_rot;
  uint64_t bytes = rows * floats_per_row * sizeof(float);

  // Per-row bookkeeping: the row origin (five 32-bit fields with a pointer), token id and logits index.
  bytes += rows * (24 + sizeof(int32_t) + sizeof(size_t));

  // One logits row per sequence, since run, chat and serve ask for the last token's logits only.
  bytes += uint64_t{deployment.n_parallel} * hp.n_vocab * sizeof(float);

  // Attention scores: each pool thread keeps a buffer as long as the most keys it met (the context).
  bytes += uint64_t{deployment.n_threads} * deployment.n_ctx * sizeof(float);

  // The calling thread quantizes a whole batch of activations for the integer kernels.
  uint64_t widest_activation_row = 0;
  for (const TensorDesc& tensor : tensors) {
    if (tensor.dims.size() != 2) continue;
    const DType activations = activation_type(tensor.type);
    if (activations == DType::F32) continue;
    const uint64_t block = dtype_info(activations).block_size;
    const uint64_t cols = (tensor.dims[0] + block - 1) / block * block;
    widest_activation_row = std::max<uint64_t>(widest_activation_row, row_bytes(activations, cols));
  }
  bytes += rows * widest_activation_row;
  return bytes;
}

RuntimeOverhead estimate_runtime_overhead(std::span<const TensorDesc> tensors, uint64_t n_vocab, uint64_t n_merges,
                                          uint64_t metadata_bytes) {
  RuntimeOverhead overhead;
  overhead.baseline_bytes = kBaselineRssBytes;
  overhead.load_bytes = kModelLoadRssBytes;
  overhead.vocab_bytes = kVocabFixedBytes + n_vocab * kBytesPerToken + n_merges * kBytesPerMerge;
  overhead.metadata_bytes =
      metadata_bytes > 0 ? metadata_bytes : n_vocab * kHeaderBytesPerToken + n_merges * kHeaderBytesPerMerge;

  // ModelWeights keeps every 1-D tensor (norms, rope_freqs) as a float vector.
  for (const TensorDesc& tensor : tensors) {
    if (tensor.dims.size() == 1) overhead.norm_copy_bytes += elements_of(tensor) * sizeof(float);
  }
  return overhead;
}

RuntimeOverhead estimate_runtime_overhead(const GgufFile& file, std::span<const TensorDesc> tensors) {
  const uint64_t n_vocab = array_length(file, "tokenizer.ggml.tokens");
  const uint64_t n_merges = array_length(file, "tokenizer.ggml.merges");
  // A Hugging Face directory has no GGUF header (data offset 0), so its size is estimated.
  return estimate_runtime_overhead(tensors, n_vocab, n_merges, file.data_offset());
}

uint64_t tensor_bytes(const TensorDesc& tensor) {
  if (tensor.dims.empty()) return 0;
  uint64_t rows = 1;
  for (size_t i = 1; i < tensor.dims.size(); ++i) rows *= tensor.dims[i];
  return rows * row_bytes(tensor.type, tensor.dims[0]);
}

MemoryPlan plan_memory(std::string model, const HParams& hp, std::span<const TensorDesc> tensors,
                       const Deployment& deployment, const RuntimeOverhead& overhead) {
  MemoryPlan plan;
  plan.model = std::move(model);
  for (const TensorDesc& tensor : tensors) {
    const uint64_t bytes = tensor_bytes(tensor);
    plan.weights_by_type[std::string(dtype_name(tensor.type))] += bytes;
    plan.weights_bytes += bytes;
  }
  plan.deployment = deployment;
  plan.kv = plan_kv_cache(hp, deployment);
  plan.compute_bytes = plan_compute_bytes(hp, deployment, tensors);
  plan.overhead = overhead;
  return plan;
}

}  // namespace edgelm
