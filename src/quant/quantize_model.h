#pragma once
// Quantizes a whole GGUF model file to a preset, as llama-quantize does
// without an importance matrix.

#include <cstddef>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "quant/presets.h"

namespace edgelm {

// One output tensor: the input tensor it comes from and its output type.
struct TensorPlan {
  const GgufTensor* tensor;
  DType type;
};

// Returns the output tensors in llama.cpp's order (see llama_tensor_order)
// with the type `preset` gives each. Throws Error naming the tensor when
// one would need a conversion edgelm does not do: from a type other than
// f32, f16 or bf16, or from an already quantized type to another one.
std::vector<TensorPlan> plan_quantization(const GgufFile& input, const QuantPreset& preset);

struct QuantizeRequest {
  std::string input_path;
  std::string output_path;
  std::string preset_name;  // any case: "q4_k_m"
  size_t threads = 0;       // 0: one per online CPU
  bool show_progress = true;  // a progress bar on stderr
  std::string progress_label = "quantize";
};

struct QuantizeSummary {
  std::string preset_name;
  size_t n_tensors = 0;
  size_t n_threads = 0;
  uint64_t input_file_bytes = 0;
  uint64_t output_file_bytes = 0;
  uint64_t n_elements = 0;           // all tensors
  uint64_t output_tensor_bytes = 0;  // tensor data without padding
  double seconds = 0.0;
  std::map<DType, size_t> tensors_per_type;
};

// Reads the input, quantizes every tensor the preset selects (others are
// copied), and writes the output with general.file_type and
// general.quantization_version set. The output appears only when complete.
// Throws Error for a missing or damaged input, an unknown preset, an output
// that is the input or cannot be written, and non-finite weights.
QuantizeSummary quantize_model(const QuantizeRequest& request);

// The same for a file already open, such as a converted checkpoint;
// request.input_path is not read.
QuantizeSummary quantize_model(const GgufFile& input, const QuantizeRequest& request);

// Writes request.output_path with `metadata` and the tensors of `plan`, each
// converted from its float type to the planned type (F32, F16, BF16 or any
// type quantize_row produces) or copied when the types are equal. The
// output appears only when complete. Throws Error for an output that is the
// input or cannot be written, and for non-finite weights.
QuantizeSummary write_model(const GgufFile& input, std::span<const TensorPlan> plan,
                            const std::vector<std::pair<std::string, GgufValue>>& metadata,
                            const QuantizeRequest& request);

}  // namespace edgelm
