#pragma once
// The weights of a Hugging Face model directory: one model.safetensors, or
// the shards that model.safetensors.index.json lists.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "safetensors/safetensors_file.h"

namespace edgelm {

class SafetensorsCheckpoint {
 public:
  // Opens `dir`/model.safetensors.index.json and every shard its weight_map
  // names, each once, in the order the shards first appear in the index. In
  // a directory without an index, opens `dir`/model.safetensors. Tensors that
  // a shard contains but the index does not list are kept. Throws Error
  // naming the file for any of:
  //  - a missing directory, or one without either file;
  //  - an index that is not valid JSON, a shard name with '/' or "..";
  //  - a missing or damaged shard, a tensor the index puts in a shard that
  //    lacks it, a tensor present in two shards.
  static std::unique_ptr<SafetensorsCheckpoint> open(const std::string& dir);

  const std::string& dir() const { return dir_; }

  // Every tensor, shard by shard in index order, each shard's in offset order.
  const std::vector<const SafetensorsTensor*>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(std::string_view name) const;

  // Path of the shard holding `tensor` (for error messages).
  const std::string& shard_path(const SafetensorsTensor& tensor) const;

  // Converts a whole F32, F16, BF16 or F8_E4M3 tensor to float; other dtypes
  // throw Error. A F8_E4M3 tensor "X.weight" with R rows (all dimensions but
  // the last) of C columns is multiplied by the scale tensor "X.weight_scale",
  // or else "X.weight_scale_inv" (multiplied too, as the checkpoints that use
  // that name store it). The scale is F32, BF16 or F16 and has shape [] or [1]
  // (one scale), [R] or [R, 1] (one a row), or [ceil(R/128), ceil(C/128)]
  // (one per 128 x 128 block). A missing scale or any other shape throws
  // Error naming the tensor.
  std::vector<float> to_float(const SafetensorsTensor& tensor) const;

  // True for the scale tensors of float8 checkpoints ("*.weight_scale",
  // "*.weight_scale_inv", "*.input_scale"), which are not model weights.
  static bool is_float8_scale(std::string_view name);

 private:
  SafetensorsCheckpoint() = default;

  std::string dir_;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<const SafetensorsTensor*> tensors_;
  std::map<std::string, std::pair<const SafetensorsTensor*, size_t>, std::less<>> index_;  // tensor, shard
};

}  // namespace edgelm
