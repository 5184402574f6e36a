#include "hf/gguf_metadata_builder.h"

#include <algorithm>

namespace edgelm {

void GgufMetadataBuilder::set(const std::string& key, GgufValue value) {
  const auto it = std::find_if(entries_.begin(), entries_.end(), [&](const auto& entry) { return entry.first == key; });
  if (it != entries_.end()) {
    it->second = std::move(value);
  } else {
    entries_.emplace_back(key, std::move(value));
  }
}

bool GgufMetadataBuilder::has(const std::string& key) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const auto& entry) { return entry.first == key; });
}

void GgufMetadataBuilder::add_uint32(const std::string& key, uint32_t value) {
  set(key, GgufValue{GgufType::UINT32, uint64_t{value}});
}

void GgufMetadataBuilder::add_int32(const std::string& key, int32_t value) {
  set(key, GgufValue{GgufType::INT32, int64_t{value}});
}

void GgufMetadataBuilder::add_float32(const std::string& key, double value) {
  set(key, GgufValue{GgufType::FLOAT32, double{static_cast<float>(value)}});
}

void GgufMetadataBuilder::add_bool(const std::string& key, bool value) { set(key, GgufValue{GgufType::BOOL, value}); }

void GgufMetadataBuilder::add_string(const std::string& key, std::string value) {
  if (!value.empty()) {
    set(key, GgufValue{GgufType::STRING, std::move(value)});
  }
}

void GgufMetadataBuilder::add_string_array(const std::string& key, std::vector<std::string> values) {
  if (values.empty()) {
    return;
  }
  GgufArray array{GgufType::STRING, {}};
  array.items.reserve(values.size());
  for (std::string& value : values) {
    array.items.push_back(GgufValue{GgufType::STRING, std::move(value)});
  }
  set(key, GgufValue{GgufType::ARRAY, std::move(array)});
}

void GgufMetadataBuilder::add_float32_array(const std::string& key, const std::vector<float>& values) {
  if (values.empty()) {
    return;
  }
  GgufArray array{GgufType::FLOAT32, {}};
  array.items.reserve(values.size());
  for (float value : values) {
    array.items.push_back(GgufValue{GgufType::FLOAT32, double{value}});
  }
  set(key, GgufValue{GgufType::ARRAY, std::move(array)});
}

void GgufMetadataBuilder::add_int32_array(const std::string& key, const std::vector<int32_t>& values) {
  if (values.empty()) {
    return;
  }
  GgufArray array{GgufType::INT32, {}};
  array.items.reserve(values.size());
  for (int32_t value : values) {
    array.items.push_back(GgufValue{GgufType::INT32, int64_t{value}});
  }
  set(key, GgufValue{GgufType::ARRAY, std::move(array)});
}

}  // namespace edgelm
