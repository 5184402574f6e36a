#pragma once
// Opens what a user passes with -m: a GGUF file, or a Hugging Face model
// directory read as the GGUF file llama.cpp's converter would write.

#include <memory>
#include <string>

#include "gguf/gguf_file.h"

namespace edgelm {

// Throws Error naming the path when it is neither, or is damaged.
std::unique_ptr<GgufFile> open_model_file(const std::string& path);

// The same without the weights of a Hugging Face directory (their tensors are
// absent), for the tokenizer and chat template alone.
std::unique_ptr<GgufFile> open_model_metadata(const std::string& path);

}  // namespace edgelm
