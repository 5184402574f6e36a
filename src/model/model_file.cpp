#include "model/model_file.h"

#include <filesystem>

#include "core/error.h"
#include "hf/hf_checkpoint.h"

namespace edgelm {

std::unique_ptr<GgufFile> open_model_file(const std::string& path) {
  if (is_hf_model_dir(path)) return open_hf_model(path, HfTensorLayout::kGguf).file;
  return GgufFile::open(path);
}

std::unique_ptr<GgufFile> open_model_metadata(const std::string& path) {
  if (is_hf_model_dir(path)) return open_hf_metadata(path);
  return GgufFile::open(path);
}

void check_model_path_exists(const std::string& path) {
  // Other failures, such as a missing permission, are reported when the model loads.
  std::error_code error;
  if (!std::filesystem::exists(path, error) && !error) {
    fail("model file '{}' not found; check the path (a GGUF file or a Hugging Face model directory)", path);
  }
}

}  // namespace edgelm
