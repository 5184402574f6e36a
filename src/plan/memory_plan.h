#pragma once
// Predicts the memory of a deployment from a model's hyperparameters and
// tensor list alone: weights, KV cache, forward-pass scratch and a runtime
// overhead, sized the way edgelm's own classes size them.

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "model/hparams.h"
#include "quant/presets.h"

namespace edgelm {

class GgufFile;

// Element type of the KV cache. NOTE: edgelm's KvCache stores float32 only;
// the other types size the cache of engines that store keys and values narrower.
enum class KvType { kF32, kBF16, kQ8_0 };

// Parses "f32", "bf16" or "q8_0". Throws Error naming the value and the valid ones.
KvType parse_kv_type(std::string_view name);
std::string_view kv_type_name(KvType type);

// Bytes of n keys or values in `type`: 4 or 2 per element, or 34 per block of
// 32 for q8_0 (a partial block counts whole).
uint64_t kv_type_bytes(KvType type, uint64_t n_elements);

// How edgelm would run the model, which decides the cache and scratch sizes.
struct Deployment {
  uint32_t n_ctx = 0;       // positions per sequence
  uint32_t n_parallel = 1;  // sequences, each with its own KV cache
  uint32_t batch_rows = 0;  // tokens per forward pass at most
  uint32_t rewind = 0;      // positions that sliding-window rings keep beyond the window
  uint32_t n_threads = 1;   // thread pool size; each thread keeps its own attention scores
  KvType kv_type = KvType::kF32;
};

// The deployment of `edgelm run` and `chat` for one sequence (a Context:
// batches of 64 tokens, no rewind), and of `edgelm serve --parallel N` for
// more (batches of max(256, N) tokens, rewind 64, the scheduler's defaults).
Deployment default_deployment(uint32_t n_ctx, uint32_t n_parallel, KvType kv_type, uint32_t n_threads);

// KV cache bytes over all sequences.
struct KvPlan {
  uint64_t global_bytes = 0;       // layers that keep the whole context
  uint64_t sliding_bytes = 0;      // ring buffers of the sliding-window layers
  uint64_t without_swa_bytes = 0;  // the cache if every layer kept the whole context
  uint64_t total_bytes() const { return global_bytes + sliding_bytes; }
};

// Sizes the cache as KvCache does. Each layer stores capacity x (k_dim +
// v_dim) elements per sequence. The capacity is n_ctx on global layers and
// min(window + rewind, n_ctx) on sliding ones.
KvPlan plan_kv_cache(const HParams& hp, const Deployment& deployment);

// Bytes that BatchForward and the kernels allocate for forward passes of
// batch_rows tokens. They are the activations per row, one row of logits per
// sequence, each thread's attention scores, and the quantized activations of
// the widest matrix in `tensors`, whose types decide the kernels' activation type.
uint64_t plan_compute_bytes(const HParams& hp, const Deployment& deployment, std::span<const TensorDesc> tensors);

// Memory the process uses besides the weights, cache and scratch: the
// program and its libraries, the parsed metadata and tokenizer, and the
// float copies of the norm vectors.
struct RuntimeOverhead {
  uint64_t baseline_bytes = 0;   // the program before it opens a model
  uint64_t load_bytes = 0;       // code and allocator pages first touched by loading and running a model
  uint64_t vocab_bytes = 0;      // parsed vocabulary and tokenizer tables (estimate)
  uint64_t metadata_bytes = 0;   // the GGUF header, read through the mapping
  uint64_t norm_copy_bytes = 0;  // 1-D weights converted to float vectors
  uint64_t total_bytes() const {
    return baseline_bytes + load_bytes + vocab_bytes + metadata_bytes + norm_copy_bytes;
  }
};

// The resident memory of the edgelm binary before it opens a model, and what
// loading and running a model adds besides its own data. Both are estimates
// measured with `edgelm plan --check` (which prints the baseline) on x86-64
// Linux with glibc. Other builds and systems differ.
inline constexpr uint64_t kBaselineRssBytes = 10ull << 20;
inline constexpr uint64_t kModelLoadRssBytes = 1ull << 20;

// Estimates the overhead from the vocabulary size and BPE merge count.
// `metadata_bytes` is the file's header size, or 0 when there is no file.
RuntimeOverhead estimate_runtime_overhead(std::span<const TensorDesc> tensors, uint64_t n_vocab, uint64_t n_merges,
                                          uint64_t metadata_bytes);

// The same from an opened model file: vocabulary and merges read from its metadata.
RuntimeOverhead estimate_runtime_overhead(const GgufFile& file, std::span<const TensorDesc> tensors);

// The predicted memory of one deployment.
struct MemoryPlan {
  std::string model;  // the file or shape name
  std::map<std::string, uint64_t> weights_by_type;  // type name as llama.cpp prints it -> bytes
  uint64_t weights_bytes = 0;
  Deployment deployment;
  KvPlan kv;
  uint64_t compute_bytes = 0;
  RuntimeOverhead overhead;

  uint64_t total_bytes() const { return weights_bytes + kv.total_bytes() + compute_bytes + overhead.total_bytes(); }
};

// Combines the parts above. Tensor bytes are row_bytes of their type and
// shape, which is what GGUF stores.
MemoryPlan plan_memory(std::string model, const HParams& hp, std::span<const TensorDesc> tensors,
                       const Deployment& deployment, const RuntimeOverhead& overhead);

// Bytes of one tensor in its type.
uint64_t tensor_bytes(const TensorDesc& tensor);

}  // namespace edgelm
