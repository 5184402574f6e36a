#pragma once
// Builds safetensors images in memory for tests, and writes them as files and
// checkpoint directories.

#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "tensor/reference.h"

namespace edgelm::testing {

// Writes `bytes` to `path`, replacing the file. Throws Error when that fails.
inline void write_file_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) fail("cannot write '{}'", path);
}

inline void write_file_text(const std::string& path, std::string_view text) {
  write_file_bytes(path, std::vector<uint8_t>(text.begin(), text.end()));
}

// Little-endian bytes of `values`, for add().
template <typename T>
std::vector<uint8_t> to_bytes(const std::vector<T>& values) {
  std::vector<uint8_t> bytes(values.size() * sizeof(T));
  if (!bytes.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
  return bytes;
}

// A safetensors image: tensors laid out one after another in the order they
// were added, the header padded with spaces to a multiple of 8 bytes as the
// safetensors library writes it.
class SafetensorsBuilder {
 public:
  // Adds a tensor with its raw bytes. The byte count is not checked, so
  // tests can build mismatched entries.
  SafetensorsBuilder& add(std::string name, std::string dtype, std::vector<uint64_t> shape,
                          std::vector<uint8_t> bytes) {
    tensors_.push_back({std::move(name), std::move(dtype), std::move(shape), std::move(bytes)});
    return *this;
  }

  SafetensorsBuilder& add_f32(std::string name, std::vector<uint64_t> shape, const std::vector<float>& values) {
    return add(std::move(name), "F32", std::move(shape), to_bytes(values));
  }

  // Rounds `values` to bfloat16 (to nearest even).
  SafetensorsBuilder& add_bf16(std::string name, std::vector<uint64_t> shape, const std::vector<float>& values) {
    std::vector<uint16_t> halves;
    for (float value : values) halves.push_back(f32_to_bf16(value));
    return add(std::move(name), "BF16", std::move(shape), to_bytes(halves));
  }

  SafetensorsBuilder& set_metadata(std::string key, std::string value) {
    metadata_[std::move(key)] = std::move(value);
    return *this;
  }

  // The JSON header without padding.
  std::string header() const {
    nlohmann::json header = nlohmann::json::object();
    if (!metadata_.empty()) header["__metadata__"] = metadata_;
    uint64_t offset = 0;
    for (const Tensor& tensor : tensors_) {
      header[tensor.name] = {{"dtype", tensor.dtype},
                             {"shape", tensor.shape},
                             {"data_offsets", {offset, offset + tensor.bytes.size()}}};
      offset += tensor.bytes.size();
    }
    return header.dump();
  }

  std::vector<uint8_t> build() const {
    std::string text = header();
    text.append((8 - text.size() % 8) % 8, ' ');
    std::vector<uint8_t> data;
    for (const Tensor& tensor : tensors_) {
      size_t at = data.size();
      data.resize(at + tensor.bytes.size());
      if (!tensor.bytes.empty()) std::memcpy(data.data() + at, tensor.bytes.data(), tensor.bytes.size());
    }
    return image(text, data);
  }

  void write(const std::string& path) const { write_file_bytes(path, build()); }

  // An image from a header written by hand: the 8-byte little-endian length
  // of `header`, the header, then `data`.
  static std::vector<uint8_t> image(std::string_view header, const std::vector<uint8_t>& data) {
    return image_with_length(header.size(), header, data);
  }

  // Like image(), but with any value in the length field.
  static std::vector<uint8_t> image_with_length(uint64_t length, std::string_view header,
                                                const std::vector<uint8_t>& data) {
    std::vector<uint8_t> out(8 + header.size() + data.size());
    for (int i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(length >> (8 * i));
    // memcpy in place of vector::insert, which trips GCC 12's -Warray-bounds
    // false positive at -O3.
    if (!header.empty()) std::memcpy(out.data() + 8, header.data(), header.size());
    if (!data.empty()) std::memcpy(out.data() + 8 + header.size(), data.data(), data.size());
    return out;
  }

 private:
  struct Tensor {
    std::string name;
    std::string dtype;
    std::vector<uint64_t> shape;
    std::vector<uint8_t> bytes;
  };

  std::vector<Tensor> tensors_;
  std::map<std::string, std::string> metadata_;
};

// model.safetensors.index.json text with the weight_map entries in the given
// order (tensor name, shard file name).
inline std::string safetensors_index(const std::vector<std::pair<std::string, std::string>>& weight_map) {
  nlohmann::ordered_json index;
  index["metadata"] = {{"total_size", 0}};
  index["weight_map"] = nlohmann::ordered_json::object();
  for (const auto& [tensor, shard] : weight_map) index["weight_map"][tensor] = shard;
  return index.dump(2);
}

}  // namespace edgelm::testing
