#pragma once
// edgelm convert: writes a Hugging Face model directory as a GGUF file that
// llama.cpp's convert_hf_to_gguf.py (float types and q8_0) or its
// llama-quantize (the other presets) would write.

#include <cstddef>
#include <string>

#include "quant/quantize_model.h"

namespace edgelm {

struct ConvertRequest {
  std::string input_dir;
  std::string output_path;
  // "auto" (the checkpoint's float type), "f32", "f16", "bf16", "q8_0", or
  // any quantization preset such as "q4_k_m"; any case.
  std::string type = "auto";
  size_t threads = 0;  // 0: one per online CPU
  bool show_progress = true;
};

// The output types convert accepts besides the quantization presets.
inline constexpr const char* kConvertFloatTypes = "auto, f32, f16, bf16, q8_0";

// Checks a type name without reading anything. Throws Error listing the valid names.
void check_convert_type(const std::string& type);

// Converts the checkpoint. Float types and q8_0 follow the converter: norms
// and other 1-D tensors stay F32, every matrix takes the type (q8_0 falls
// back to F16 for rows that are not a multiple of 32). Other presets quantize
// as llama-quantize does from the F32 file. Throws Error naming the file and
// tensor for anything the checkpoint lacks or cannot be converted.
QuantizeSummary convert_checkpoint(const ConvertRequest& request);

}  // namespace edgelm
