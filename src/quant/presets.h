#pragma once
// Quantization presets (llama.cpp's file types such as Q4_K_M) and the
// per-tensor type each one picks. The rules are llama-quantize's
// (llama_tensor_get_type in src/llama-quant.cpp) as of llama.cpp release
// v0.5.0, the build that wrote the test fixtures. Older releases differ in
// fallbacks: Q2_K and Q3_K fell back to IQ4_NL, and rows that fit no
// 32-value block were rejected for Q4_0 to Q8_0 rather than stored as F16.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gguf/gguf_file.h"
#include "tensor/dtype.h"

namespace edgelm {

struct QuantPreset {
  std::string_view name;  // as llama-quantize spells it: "Q4_K_M"
  uint32_t file_type;     // llama.cpp's LLAMA_FTYPE value, stored as general.file_type
  DType default_type;     // type of the tensors no rule singles out
};

// All presets, in llama.cpp's file type order.
std::span<const QuantPreset> quant_presets();

// Finds a preset by name, ignoring case. Throws Error listing the valid names.
const QuantPreset& find_quant_preset(std::string_view name);

// Model facts the type rules depend on, read from GGUF metadata.
struct QuantModelInfo {
  std::string architecture;
  uint32_t n_layer = 0;
  uint32_t n_head = 0;
  uint32_t n_head_kv = 0;
  uint32_t n_expert = 0;
};

// Reads general.architecture and its block_count, head counts and expert
// count. Throws Error when the architecture or block count is missing.
QuantModelInfo read_quant_model_info(const GgufFile& file);

// A tensor as the rules see it: name, shape in ggml order and current type.
struct TensorDesc {
  std::string name;
  std::vector<uint64_t> dims;
  DType type = DType::F32;
};

// Whether llama-quantize quantizes this tensor at all: weights of two or
// more dimensions except norms and a few small special tensors. The others
// keep their type.
bool tensor_is_quantizable(const TensorDesc& tensor);

// Returns the output type of every tensor under `preset`, in the order
// given. The order matters: llama.cpp counts attn_v and ffn_down tensors as
// it meets them, so pass the tensors sorted by llama_tensor_order.
std::vector<DType> choose_tensor_types(const QuantPreset& preset, const QuantModelInfo& model,
                                       std::span<const TensorDesc> tensors);

// llama.cpp's tensor order: tensors outside the "blk.N." layers first, then
// by layer number, and by name within each group.
bool llama_tensor_order(std::string_view a, std::string_view b);

}  // namespace edgelm
