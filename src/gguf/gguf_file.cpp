#include "gguf/gguf_file.h"

#include <filesystem>
#include <limits>
#include <system_error>

#include "core/error.h"
#include "gguf/gguf_parser.h"

namespace edgelm {
namespace {

bool is_unsigned(GgufType type) {
  return type == GgufType::UINT8 || type == GgufType::UINT16 || type == GgufType::UINT32 || type == GgufType::UINT64;
}

bool is_signed(GgufType type) {
  return type == GgufType::INT8 || type == GgufType::INT16 || type == GgufType::INT32 || type == GgufType::INT64;
}

bool is_float(GgufType type) { return type == GgufType::FLOAT32 || type == GgufType::FLOAT64; }

constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

}  // namespace

std::string_view gguf_type_name(GgufType type) {
  switch (type) {
    case GgufType::UINT8:
      return "uint8";
    case GgufType::INT8:
      return "int8";
    case GgufType::UINT16:
      return "uint16";
    case GgufType::INT16:
      return "int16";
    case GgufType::UINT32:
      return "uint32";
    case GgufType::INT32:
      return "int32";
    case GgufType::FLOAT32:
      return "float32";
    case GgufType::BOOL:
      return "bool";
    case GgufType::STRING:
      return "string";
    case GgufType::ARRAY:
      return "array";
    case GgufType::UINT64:
      return "uint64";
    case GgufType::INT64:
      return "int64";
    case GgufType::FLOAT64:
      return "float64";
  }
  return "unknown";
}

uint64_t GgufTensor::n_elements() const {
  uint64_t n = 1;
  for (uint64_t dim : dims) n *= dim;
  return n;
}

uint64_t GgufTensor::n_rows() const {
  uint64_t n = 1;
  for (size_t i = 1; i < dims.size(); ++i) n *= dims[i];
  return n;
}

void check_model_path_exists(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error) && !error) {
    fail("model file '{}' not found; check the path (a GGUF file or a Hugging Face model directory)", path);
  }
}

std::unique_ptr<GgufFile> GgufFile::open(const std::string& path, FileAccess access) {
  check_model_path_exists(path);
  auto mapping = std::make_unique<MappedFile>(path, access);
  std::unique_ptr<GgufFile> file = parse(mapping->data(), mapping->size(), path);
  file->mapping_ = std::move(mapping);
  return file;
}

std::unique_ptr<GgufFile> GgufFile::parse(const uint8_t* data, size_t size, const std::string& name) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  GgufParser parser(data, size, name);
  parser.parse_into(*file);
  return file;
}

std::unique_ptr<GgufFile> GgufFile::assemble(std::string name,
                                             std::vector<std::pair<std::string, GgufValue>> metadata,
                                             std::vector<GgufTensor> tensors, std::shared_ptr<const void> keep_alive) {
  std::unique_ptr<GgufFile> file(new GgufFile());
  file->path_ = std::move(name);
  file->version_ = 3;
  file->metadata_ = std::move(metadata);
  file->tensors_ = std::move(tensors);
  file->keep_alive_ = std::move(keep_alive);

  for (size_t i = 0; i < file->metadata_.size(); ++i) {
    if (!file->metadata_index_.emplace(file->metadata_[i].first, i).second) {
      fail("{}: metadata key '{}' appears twice", file->path_, file->metadata_[i].first);
    }
  }
  for (size_t i = 0; i < file->tensors_.size(); ++i) {
    if (!file->tensor_index_.emplace(file->tensors_[i].name, i).second) {
      fail("{}: tensor '{}' appears twice", file->path_, file->tensors_[i].name);
    }
  }
  return file;
}

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = metadata_index_.find(key);
  if (it == metadata_index_.end()) return nullptr;
  return &metadata_[it->second].second;
}

const GgufTensor* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  if (it == tensor_index_.end()) return nullptr;
  return &tensors_[it->second];
}

// ---- Typed getters -------------------------------------------------------

namespace {

[[noreturn]] void fail_missing(const std::string& path, std::string_view key) {
  fail(
      "{}: metadata key '{}' is missing. The file was converted for another model or with an old converter, "
      "so re-convert it.",
      path, key);
}

[[noreturn]] void fail_type(const std::string& path, std::string_view key, GgufType type, std::string_view expected) {
  fail("{}: metadata '{}' has type {} but {} is expected. Re-convert the model.", path, key, gguf_type_name(type),
       expected);
}

// Converts an integer value to uint64, or returns false when it is negative
// or not an integer.
bool to_uint(const GgufValue& value, uint64_t& out) {
  if (is_unsigned(value.type)) {
    out = std::get<uint64_t>(value.value);
    return true;
  }
  if (is_signed(value.type) && std::get<int64_t>(value.value) >= 0) {
    out = static_cast<uint64_t>(std::get<int64_t>(value.value));
    return true;
  }
  return false;
}

bool to_int(const GgufValue& value, int64_t& out) {
  if (is_signed(value.type)) {
    out = std::get<int64_t>(value.value);
    return true;
  }
  if (is_unsigned(value.type) && std::get<uint64_t>(value.value) <= kInt64Max) {
    out = static_cast<int64_t>(std::get<uint64_t>(value.value));
    return true;
  }
  return false;
}

// Floats also accept integer values, which some converters write for
// settings such as a rope base.
bool to_float(const GgufValue& value, double& out) {
  if (is_float(value.type)) {
    out = std::get<double>(value.value);
    return true;
  }
  if (is_unsigned(value.type)) {
    out = static_cast<double>(std::get<uint64_t>(value.value));
    return true;
  }
  if (is_signed(value.type)) {
    out = static_cast<double>(std::get<int64_t>(value.value));
    return true;
  }
  return false;
}

std::string describe_integer(const GgufValue& value) {
  if (is_unsigned(value.type)) return fmt::format("{} {}", gguf_type_name(value.type), std::get<uint64_t>(value.value));
  if (is_signed(value.type)) return fmt::format("{} {}", gguf_type_name(value.type), std::get<int64_t>(value.value));
  return std::string(gguf_type_name(value.type));
}

}  // namespace

std::string GgufFile::get_string(std::string_view key) const {
  std::optional<std::string> value = find_string(key);
  if (!value) fail_missing(path_, key);
  return *value;
}

uint64_t GgufFile::get_uint(std::string_view key) const {
  std::optional<uint64_t> value = find_uint(key);
  if (!value) fail_missing(path_, key);
  return *value;
}

int64_t GgufFile::get_int(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) fail_missing(path_, key);
  int64_t out = 0;
  if (!to_int(*value, out)) fail_type(path_, key, value->type, "an integer that fits in int64");
  return out;
}

double GgufFile::get_float(std::string_view key) const {
  std::optional<double> value = find_float(key);
  if (!value) fail_missing(path_, key);
  return *value;
}

bool GgufFile::get_bool(std::string_view key) const {
  std::optional<bool> value = find_bool(key);
  if (!value) fail_missing(path_, key);
  return *value;
}

std::optional<std::string> GgufFile::find_string(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (value->type != GgufType::STRING) fail_type(path_, key, value->type, "string");
  return std::get<std::string>(value->value);
}

std::optional<uint64_t> GgufFile::find_uint(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return std::nullopt;
  uint64_t out = 0;
  if (!to_uint(*value, out)) {
    fail("{}: metadata '{}' is {} but a non-negative integer is expected. Re-convert the model.", path_, key,
         describe_integer(*value));
  }
  return out;
}

std::optional<double> GgufFile::find_float(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return std::nullopt;
  double out = 0;
  if (!to_float(*value, out)) fail_type(path_, key, value->type, "a number");
  return out;
}

std::optional<bool> GgufFile::find_bool(std::string_view key) const {
  const GgufValue* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (value->type != GgufType::BOOL) fail_type(path_, key, value->type, "bool");
  return std::get<bool>(value->value);
}

// ---- Array getters -------------------------------------------------------

namespace {

const GgufArray& get_array(const GgufFile& file, std::string_view key, std::string_view expected) {
  const GgufValue* value = file.find(key);
  if (value == nullptr) fail_missing(file.path(), key);
  if (value->type != GgufType::ARRAY) fail_type(file.path(), key, value->type, expected);
  return std::get<GgufArray>(value->value);
}

[[noreturn]] void fail_element_type(const GgufFile& file, std::string_view key, const GgufArray& array,
                                    std::string_view expected) {
  fail("{}: metadata '{}' is an array of {} but {} is expected. Re-convert the model.", file.path(), key,
       gguf_type_name(array.element_type), expected);
}

}  // namespace

std::vector<std::string> GgufFile::get_string_array(std::string_view key) const {
  const GgufArray& array = get_array(*this, key, "an array of strings");
  if (array.element_type != GgufType::STRING) fail_element_type(*this, key, array, "an array of strings");

  std::vector<std::string> out;
  out.reserve(array.items.size());
  for (const GgufValue& item : array.items) out.push_back(std::get<std::string>(item.value));
  return out;
}

std::vector<float> GgufFile::get_float_array(std::string_view key) const {
  const GgufArray& array = get_array(*this, key, "an array of numbers");
  if (array.element_type == GgufType::STRING || array.element_type == GgufType::ARRAY ||
      array.element_type == GgufType::BOOL) {
    fail_element_type(*this, key, array, "an array of numbers");
  }

  std::vector<float> out;
  out.reserve(array.items.size());
  for (const GgufValue& item : array.items) {
    double number = 0;
    to_float(item, number);
    out.push_back(static_cast<float>(number));
  }
  return out;
}

std::vector<int64_t> GgufFile::get_int_array(std::string_view key) const {
  const GgufArray& array = get_array(*this, key, "an array of integers");
  if (!is_signed(array.element_type) && !is_unsigned(array.element_type)) {
    fail_element_type(*this, key, array, "an array of integers");
  }

  std::vector<int64_t> out;
  out.reserve(array.items.size());
  for (size_t i = 0; i < array.items.size(); ++i) {
    int64_t number = 0;
    if (!to_int(array.items[i], number)) {
      fail("{}: metadata '{}'[{}] is {}, which does not fit in int64. Re-convert the model.", path_, key, i,
           describe_integer(array.items[i]));
    }
    out.push_back(number);
  }
  return out;
}

}  // namespace edgelm
