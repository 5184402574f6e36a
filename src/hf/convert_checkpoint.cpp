#include "hf/convert_checkpoint.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "core/error.h"
#include "hf/hf_checkpoint.h"
#include "quant/presets.h"
#include "safetensors/safetensors_checkpoint.h"

namespace edgelm {
namespace {

// A converter output type and the general.file_type it writes (llama_ftype numbers).
struct FloatType {
  std::string_view name;
  DType type;
  uint32_t file_type;
};

constexpr FloatType kFloatTypes[] = {
    {"f32", DType::F32, 0},
    {"f16", DType::F16, 1},
    {"q8_0", DType::Q8_0, 7},
    {"bf16", DType::BF16, 32},
};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

std::optional<FloatType> find_float_type(const std::string& name) {
  for (const FloatType& t : kFloatTypes) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

// "auto": the type of the checkpoint's first matrix, as the converter's
// --outtype auto picks it (F32 stays F32, F16 stays F16, anything else BF16).
FloatType auto_type(const std::string& dir) {
  auto checkpoint = SafetensorsCheckpoint::open(dir);
  for (const SafetensorsTensor* t : checkpoint->tensors()) {
    if (t->shape.size() < 2) continue;
    if (t->dtype == SafetensorsDType::F32) return kFloatTypes[0];
    if (t->dtype == SafetensorsDType::F16) return kFloatTypes[1];
    return kFloatTypes[3];
  }
  return kFloatTypes[3];
}

// The converter's rule: 1-D tensors and norms in F32, matrices in the output
// type, Q8_0 rows that do not fill whole blocks in F16.
DType converter_tensor_type(const GgufTensor& t, DType output) {
  if (t.dims.size() <= 1 || t.name.ends_with("_norm.weight")) return DType::F32;
  if (output == DType::Q8_0 && t.dims[0] % 32 != 0) return DType::F16;
  return output;
}

}  // namespace

void check_convert_type(const std::string& type) {
  const std::string name = lower(type);
  if (name == "auto" || find_float_type(name)) return;
  try {
    find_quant_preset(name);
  } catch (const Error&) {
    std::string presets;
    for (const QuantPreset& p : quant_presets()) {
      const std::string preset = lower(std::string(p.name));
      if (!find_float_type(preset)) presets += ", " + preset;
    }
    fail("unknown output type '{}'; use one of {}{}", type, kConvertFloatTypes, presets);
  }
}

QuantizeSummary convert_checkpoint(const ConvertRequest& request) {
  check_convert_type(request.type);
  const std::string name = lower(request.type);

  QuantizeRequest write;
  write.input_path = request.input_dir;
  write.output_path = request.output_path;
  write.threads = request.threads;
  write.show_progress = request.show_progress;
  write.progress_label = "convert";

  std::optional<FloatType> float_type = find_float_type(name);
  if (name != "auto" && !float_type) {
    // A quantization preset: quantize the F32-equivalent view as llama-quantize would the F32 file.
    HfModel hf = open_hf_model(request.input_dir, HfTensorLayout::kGguf, 0);
    write.preset_name = name;
    return quantize_model(*hf.file, write);
  }

  // general.file_type is part of the metadata, so the type is chosen before the view is built.
  if (!float_type) float_type = auto_type(request.input_dir);
  HfModel hf = open_hf_model(request.input_dir, HfTensorLayout::kGguf, float_type->file_type);

  std::vector<TensorPlan> plan;
  for (const GgufTensor& t : hf.file->tensors()) plan.push_back({&t, converter_tensor_type(t, float_type->type)});

  QuantizeSummary summary = write_model(*hf.file, plan, hf.file->metadata(), write);
  summary.preset_name = std::string(float_type->name);
  return summary;
}

}  // namespace edgelm
