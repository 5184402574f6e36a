#pragma once
// A Hugging Face model directory read as a GGUF file: llama.cpp's tensor
// names and shapes over the memory-mapped safetensors data, with the
// conventions that differ between the two formats applied.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gguf/gguf_file.h"
#include "hf/hf_config.h"

namespace edgelm {

// Layout of the Q and K projections of Llama-architecture models. Hugging
// Face stores them for RoPE over halves of each head; llama.cpp's converter
// permutes their rows so that adjacent pairs rotate.
enum class HfTensorLayout {
  kRun,   // rows as stored, so the engine rotates halves; no copy of Q and K
  kGguf,  // rows permuted as the converter writes them
};

struct HfModel {
  HfConfig config;
  std::unique_ptr<GgufFile> file;  // named after the directory
  bool rotates_halves = false;     // run with RopeStyle::kHalves whatever the architecture
  uint64_t n_params = 0;           // elements of every tensor in `file`
};

// Whether `path` is a directory, which edgelm reads as a Hugging Face model
// directory (open_hf_model names config.json when it is missing).
bool is_hf_model_dir(const std::string& path);

// Reads config.json, the tokenizer files and the safetensors weights of `dir`.
// Tensors keep their F32, F16 or BF16 type and point into the mapped shards.
// Norm weights become F32 copies, with 1 added for Gemma, whose checkpoints
// store w of the scale 1 + w. Float8 weights are dequantized with their
// scales, to BF16 for kRun and F32 for kGguf. `file_type` is written as
// general.file_type. Throws Error naming the file and tensor: a missing or
// extra weight, a shape that does not match config.json, an unsupported dtype.
HfModel open_hf_model(const std::string& dir, HfTensorLayout layout, uint32_t file_type = 0);

// Llama 3.1's RoPE frequency divisors, stored as the rope_freqs.weight
// tensor: one per rotated pair of a head, from config.rope_scaling (which
// must be set), config.rope_theta and config.head_dim.
std::vector<float> llama3_rope_factors(const HfConfig& config);

// The metadata of `dir` as a GGUF file without tensors, for commands that
// need only the tokenizer and chat template; the weights are not opened.
std::unique_ptr<GgufFile> open_hf_metadata(const std::string& dir);

}  // namespace edgelm
