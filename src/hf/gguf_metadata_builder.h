#pragma once
// Collects GGUF metadata in insertion order with the typed setters of
// gguf-py's GGUFWriter: setting a key again replaces its value in place, and
// empty strings and empty arrays are not written.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "gguf/gguf_file.h"

namespace edgelm {

class GgufMetadataBuilder {
 public:
  void add_uint32(const std::string& key, uint32_t value);
  void add_int32(const std::string& key, int32_t value);
  // Rounds `value` to float32, as the file stores it.
  void add_float32(const std::string& key, double value);
  void add_bool(const std::string& key, bool value);
  void add_string(const std::string& key, std::string value);

  void add_string_array(const std::string& key, std::vector<std::string> values);
  void add_float32_array(const std::string& key, const std::vector<float>& values);
  void add_int32_array(const std::string& key, const std::vector<int32_t>& values);

  bool has(const std::string& key) const;

  std::vector<std::pair<std::string, GgufValue>> take() { return std::move(entries_); }

 private:
  void set(const std::string& key, GgufValue value);

  std::vector<std::pair<std::string, GgufValue>> entries_;
};

}  // namespace edgelm
