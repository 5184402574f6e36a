#include "model/model_file.h"

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

}  // namespace edgelm
