#pragma once
// Synthetic models: GGUF files with the published shape of a well-known
// model, the metadata llama.cpp's converter and llama-quantize would write
// for it, a synthetic tokenizer and random weights, for speed benchmarks
// without the real weights.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hf/hf_metadata.h"
#include "plan/model_shapes.h"
#include "quant/presets.h"

namespace edgelm::synth {

struct SynthRequest {
  std::string shape_name;   // a name from model_shapes(), any case
  std::string type;         // f32, f16, bf16 or a llama-quantize preset such as q4_k_m, any case
  std::string output_path;
  uint64_t seed = 1;
  uint32_t n_layer = 0;     // 0: the shape's block count; else at most that
  uint32_t n_vocab = 0;     // 0: the shape's vocabulary; else at most that
  size_t threads = 0;       // 0: one per online CPU
  bool show_progress = true;  // a progress bar on stderr
};

// The contents of a synthetic model file, decided without generating any weights.
struct SyntheticModel {
  ModelShape shape;         // with the layer and vocabulary overrides applied
  std::string type;         // the request's type in lower case
  std::vector<TensorDesc> tensors;  // shape_tensors(shape, type)
  GgufMetadata metadata;
  uint64_t n_params = 0;    // elements of every tensor
  uint64_t tensor_bytes = 0;  // tensor data without padding
};

// Resolves the shape and type and builds the tensor list and the metadata.
// Throws Error for an unknown shape or type (listing the valid names) and
// for an override outside the shape's range.
SyntheticModel plan_synthetic_model(const SynthRequest& request);

struct SynthSummary {
  uint64_t file_bytes = 0;
  size_t n_threads = 0;
  double seconds = 0.0;
};

// Writes `model` to request.output_path, one tensor at a time, with random
// weights drawn from request.seed: matrices of root mean square 0.02, norm
// vectors near 1, and Llama 3.1's real rope_freqs factors. The same request
// always gives the same bytes. The file appears only when complete. Throws
// Error when the output cannot be written.
SynthSummary write_synthetic_model(const SyntheticModel& model, const SynthRequest& request);

}  // namespace edgelm::synth
