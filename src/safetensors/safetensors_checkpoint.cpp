#include "safetensors/safetensors_checkpoint.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "gguf/byte_reader.h"
#include "safetensors/safetensors_json.h"

namespace edgelm {
namespace {

constexpr const char* kIndexName = "model.safetensors.index.json";
constexpr const char* kSingleFileName = "model.safetensors";

// An index lists one line per tensor, so even 100,000 tensors take a few MiB.
constexpr uintmax_t kMaxIndexBytes = 100ull << 20;

// Float8 weights are stored in blocks of 128 x 128 when the scale is block-wise.
constexpr uint64_t kScaleBlock = 128;

// A shard of the index: its file name and the first tensor the index puts there.
struct IndexShard {
  std::string file_name;
  std::string first_tensor;
};

// The weight_map of model.safetensors.index.json: tensor name to shard file name.
struct CheckpointIndex {
  std::map<std::string, std::string> shard_of_tensor;
  std::vector<IndexShard> shards;  // in order of first appearance
};

std::string read_text_file(const std::string& path) {
  std::error_code error;
  uintmax_t size = std::filesystem::file_size(path, error);
  if (error) fail("{}: cannot read the file: {}", path, error.message());
  if (size > kMaxIndexBytes) {
    fail("{}: the file is {} bytes, more than the limit of {} bytes for an index. Check that it is a "
         "model.safetensors.index.json.",
         path, size, kMaxIndexBytes);
  }

  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in && !in.eof()) fail("{}: cannot read the file", path);
  return text;
}

// A shard name must be a plain file name inside the checkpoint directory.
void check_shard_name(const std::string& shard, const std::string& tensor, const std::string& index_path) {
  bool bad = shard.empty() || shard.find('/') != std::string::npos || shard.find("..") != std::string::npos ||
             shard.find('\0') != std::string::npos;
  if (bad) {
    fail("{}: tensor '{}' is in shard '{}', but a shard must be a file name in the model directory (no '/' or "
         "'..'). Fix weight_map in the index.",
         index_path, printable(tensor), printable(shard));
  }
}

CheckpointIndex read_index(const std::string& index_path) {
  CheckpointIndex index;

  // nlohmann::json sorts object keys, so the document order of the shards is
  // taken from the values as the parser reads them.
  auto record_shard = [&](const std::vector<std::string>& key_path, const nlohmann::json& value) {
    if (key_path.size() != 2 || key_path[0] != "weight_map" || !value.is_string()) return;
    const std::string& shard = value.get_ref<const std::string&>();
    for (const IndexShard& known : index.shards) {
      if (known.file_name == shard) return;
    }
    index.shards.push_back({shard, key_path[1]});
  };
  nlohmann::json root = parse_json_object(read_text_file(index_path), index_path, "the index", record_shard);

  auto weight_map = root.find("weight_map");
  if (weight_map == root.end()) {
    fail("{}: the index has no \"weight_map\", which lists the shard of every tensor. Re-download the index.",
         index_path);
  }
  if (!weight_map->is_object()) {
    fail("{}: \"weight_map\" is a JSON {}, but it must be an object of tensor name to shard file name.", index_path,
         weight_map->type_name());
  }
  if (weight_map->empty()) fail("{}: \"weight_map\" is empty, so the checkpoint has no tensors.", index_path);

  for (const auto& [tensor, shard] : weight_map->items()) {
    if (!shard.is_string()) {
      fail("{}: weight_map entry for tensor '{}' is a JSON {}, but it must be a shard file name.", index_path,
           printable(tensor), shard.type_name());
    }
    check_shard_name(shard.get<std::string>(), tensor, index_path);
    index.shard_of_tensor.emplace(tensor, shard.get<std::string>());
  }
  return index;
}

// Multiplies float8 values (already converted) by their scale tensor.
void apply_float8_scale(const SafetensorsTensor& weight, const SafetensorsTensor& scale, const std::string& shard_path,
                        std::vector<float>& values) {
  if (scale.dtype != SafetensorsDType::F32 && scale.dtype != SafetensorsDType::BF16 &&
      scale.dtype != SafetensorsDType::F16) {
    fail("{}: scale tensor '{}' of '{}' has dtype {}, but a scale must be F32, BF16 or F16.", shard_path,
         printable(scale.name), printable(weight.name), printable(scale.dtype_name));
  }
  std::vector<float> factors(scale.n_elements());
  safetensors_to_float(scale, 0, factors.size(), factors.data());

  // Rows are everything but the last dimension, which is the contiguous row.
  const uint64_t cols = weight.shape.empty() ? 1 : weight.shape.back();
  uint64_t rows = 1;
  for (size_t d = 0; d + 1 < weight.shape.size(); ++d) rows *= weight.shape[d];
  const std::vector<uint64_t>& shape = scale.shape;

  const bool scalar = shape.empty() || (shape.size() == 1 && shape[0] == 1);
  const bool per_row = (shape.size() == 1 && shape[0] == rows) || (shape.size() == 2 && shape[0] == rows && shape[1] == 1);
  const uint64_t block_rows = (rows + kScaleBlock - 1) / kScaleBlock;
  const uint64_t block_cols = (cols + kScaleBlock - 1) / kScaleBlock;
  const bool block = shape.size() == 2 && shape[0] == block_rows && shape[1] == block_cols;

  if (scalar) {
    for (float& value : values) value *= factors[0];
  } else if (per_row) {
    for (uint64_t r = 0; r < rows; ++r) {
      for (uint64_t c = 0; c < cols; ++c) values[r * cols + c] *= factors[r];
    }
  } else if (block) {
    for (uint64_t r = 0; r < rows; ++r) {
      const float* row_factors = factors.data() + (r / kScaleBlock) * block_cols;
      for (uint64_t c = 0; c < cols; ++c) values[r * cols + c] *= row_factors[c / kScaleBlock];
    }
  } else {
    fail("{}: scale tensor '{}' has shape [{}], but for '{}' ({} rows of {}) it must be [] or [1] (one scale), [{}] "
         "or [{}, 1] (one a row), or [{}, {}] (one per 128 x 128 block).",
         shard_path, printable(scale.name), fmt::join(shape, ", "), printable(weight.name), rows, cols, rows, rows,
         block_rows, block_cols);
  }
}

}  // namespace

std::unique_ptr<SafetensorsCheckpoint> SafetensorsCheckpoint::open(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::exists(dir, error)) fail("{}: directory not found. Check the model path.", dir);
  if (!fs::is_directory(dir, error)) fail("{}: not a directory. Give the directory that holds the model files.", dir);

  auto checkpoint = std::unique_ptr<SafetensorsCheckpoint>(new SafetensorsCheckpoint());
  checkpoint->dir_ = dir;

  const std::string index_path = dir + "/" + kIndexName;
  const std::string single_path = dir + "/" + kSingleFileName;
  CheckpointIndex index;
  std::vector<std::string> shard_names;  // file names, parallel to shards_
  if (fs::exists(index_path, error)) {
    index = read_index(index_path);
    for (const IndexShard& shard : index.shards) {
      std::string shard_path = dir + "/" + shard.file_name;
      if (!fs::exists(shard_path, error)) {
        fail("{}: shard '{}' not found, but the index {} puts tensors such as '{}' in it. Download the missing shard.",
             shard_path, printable(shard.file_name), index_path, printable(shard.first_tensor));
      }
      checkpoint->shards_.push_back(SafetensorsFile::open(shard_path));
      shard_names.push_back(shard.file_name);
    }
  } else if (fs::exists(single_path, error)) {
    checkpoint->shards_.push_back(SafetensorsFile::open(single_path));
  } else {
    fail("{}: the directory has no {} or {}, so it holds no safetensors weights. Download the model's weights.", dir,
         kSingleFileName, kIndexName);
  }

  // Every tensor of every shard, each name once.
  for (size_t s = 0; s < checkpoint->shards_.size(); ++s) {
    const SafetensorsFile& shard = *checkpoint->shards_[s];
    for (const SafetensorsTensor& tensor : shard.tensors()) {
      auto [it, inserted] = checkpoint->index_.emplace(tensor.name, std::make_pair(&tensor, s));
      if (!inserted) {
        fail("{}: tensor '{}' is in two shards, {} and {}. Re-download the checkpoint.", dir,
             printable(tensor.name), checkpoint->shards_[it->second.second]->path(), shard.path());
      }
      checkpoint->tensors_.push_back(&tensor);
    }
  }

  // Every tensor the index lists must be in the shard it names.
  for (const auto& [tensor, shard_name] : index.shard_of_tensor) {
    auto it = checkpoint->index_.find(tensor);
    if (it == checkpoint->index_.end()) {
      fail("{}: tensor '{}' is listed in shard {}, but that shard does not contain it. Re-download the checkpoint.",
           index_path, printable(tensor), printable(shard_name));
    }
    const std::string& found_in = shard_names[it->second.second];
    if (found_in != shard_name) {
      fail("{}: tensor '{}' is listed in shard {}, but it is in shard {}. Re-download the checkpoint.", index_path,
           printable(tensor), printable(shard_name), printable(found_in));
    }
  }
  return checkpoint;
}

const SafetensorsTensor* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : it->second.first;
}

const std::string& SafetensorsCheckpoint::shard_path(const SafetensorsTensor& tensor) const {
  auto it = index_.find(tensor.name);
  if (it == index_.end() || it->second.first != &tensor) {
    fail("{}: tensor '{}' is not a tensor of this checkpoint", dir_, printable(tensor.name));
  }
  return shards_[it->second.second]->path();
}

std::vector<float> SafetensorsCheckpoint::to_float(const SafetensorsTensor& tensor) const {
  const std::string& path = shard_path(tensor);
  if (tensor.dtype == SafetensorsDType::kOther) {
    fail("{}: tensor '{}' has dtype {}, which edgelm cannot convert to float (supported: F32, F16, BF16, F8_E4M3).",
         path, printable(tensor.name), printable(tensor.dtype_name));
  }

  std::vector<float> values(tensor.n_elements());
  safetensors_to_float(tensor, 0, values.size(), values.data());
  if (tensor.dtype != SafetensorsDType::F8_E4M3) return values;

  const SafetensorsTensor* scale = find(tensor.name + "_scale");
  if (scale == nullptr) scale = find(tensor.name + "_scale_inv");
  if (scale == nullptr) {
    fail("{}: float8 tensor '{}' has no scale tensor '{}_scale' or '{}_scale_inv', so its values cannot be "
         "dequantized. The checkpoint is incomplete.",
         path, printable(tensor.name), printable(tensor.name), printable(tensor.name));
  }
  apply_float8_scale(tensor, *scale, shard_path(*scale), values);
  return values;
}

bool SafetensorsCheckpoint::is_float8_scale(std::string_view name) {
  return name.ends_with(".weight_scale") || name.ends_with(".weight_scale_inv") || name.ends_with(".input_scale");
}

}  // namespace edgelm
