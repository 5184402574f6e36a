#include "safetensors/safetensors_file.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "gguf/byte_reader.h"
#include "safetensors/safetensors_json.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

// The fixture checkpoint's header takes about 110 bytes per tensor, so this
// limit leaves room for about a million tensors. A longer header means a
// damaged file.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

constexpr std::string_view kMetadataKey = "__metadata__";
constexpr std::string_view kAdvice = "The file is truncated or corrupt, so re-download or re-convert it.";

SafetensorsDType dtype_from_name(std::string_view name) {
  if (name == "F32") return SafetensorsDType::F32;
  if (name == "F16") return SafetensorsDType::F16;
  if (name == "BF16") return SafetensorsDType::BF16;
  if (name == "F8_E4M3") return SafetensorsDType::F8_E4M3;
  return SafetensorsDType::kOther;
}

// Bytes of one element of the types that edgelm lists but does not convert,
// or nullopt for names it does not know (or sub-byte types such as F4), whose
// byte counts are not checked.
std::optional<uint64_t> other_dtype_size(std::string_view name) {
  if (name == "F64" || name == "I64" || name == "U64" || name == "C64") return 8;
  if (name == "I32" || name == "U32") return 4;
  if (name == "I16" || name == "U16") return 2;
  if (name == "I8" || name == "U8" || name == "BOOL" || name == "F8_E5M2" || name == "F8_E8M0") return 1;
  return std::nullopt;
}

std::string format_shape(const std::vector<uint64_t>& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

// A tensor while parsing: its entry and its offsets in the data section.
struct TensorEntry {
  SafetensorsTensor tensor;
  uint64_t begin = 0;
  uint64_t end = 0;
};

class HeaderParser {
 public:
  HeaderParser(const std::string& file, uint64_t data_size) : file_(file), data_size_(data_size) {}

  TensorEntry parse_tensor(const std::string& name, const nlohmann::json& entry) const;
  std::map<std::string, std::string> parse_metadata(const nlohmann::json& entry) const;

 private:
  uint64_t read_uint(const nlohmann::json& number, std::string_view tensor, std::string_view field) const;

  const std::string& file_;
  uint64_t data_size_;
};

// Reads a JSON number that must be a non-negative integer.
uint64_t HeaderParser::read_uint(const nlohmann::json& number, std::string_view tensor, std::string_view field) const {
  if (number.is_number_unsigned()) return number.get<uint64_t>();

  std::string reason;
  if (number.is_number_integer()) {
    reason = "is negative";
  } else if (number.is_number_float()) {
    reason = "is not an integer (or is above 2^64 - 1)";
  } else {
    reason = fmt::format("is a JSON {}, not a number", number.type_name());
  }
  fail("{}: tensor '{}' {} value {} {}, but it must be a non-negative integer. {}", file_, printable(tensor), field,
       printable(number.dump(), 40), reason, kAdvice);
}

TensorEntry HeaderParser::parse_tensor(const std::string& name, const nlohmann::json& entry) const {
  const std::string printable_name = printable(name);
  if (!entry.is_object()) {
    fail("{}: tensor '{}' entry is a JSON {}, but it must be an object with dtype, shape and data_offsets. {}", file_,
         printable_name, entry.type_name(), kAdvice);
  }

  auto field = [&](const char* key, nlohmann::json::value_t type, const char* type_name) -> const nlohmann::json& {
    auto it = entry.find(key);
    if (it == entry.end()) {
      fail("{}: tensor '{}' has no \"{}\". Each tensor entry needs dtype, shape and data_offsets. {}", file_, printable_name,
           key, kAdvice);
    }
    if (it->type() != type) {
      fail("{}: tensor '{}' \"{}\" is a JSON {}, but it must be {}. {}", file_, printable_name, key, it->type_name(),
           type_name, kAdvice);
    }
    return *it;
  };

  TensorEntry result;
  SafetensorsTensor& tensor = result.tensor;
  tensor.name = name;

  // dtype: any string. Unknown names become kOther.
  tensor.dtype_name = field("dtype", nlohmann::json::value_t::string, "a string such as \"BF16\"").get<std::string>();
  tensor.dtype = dtype_from_name(tensor.dtype_name);

  // shape: non-negative integers whose product fits in 64 bits.
  const nlohmann::json& shape = field("shape", nlohmann::json::value_t::array, "an array of integers");
  uint64_t n_elements = 1;
  for (size_t d = 0; d < shape.size(); ++d) {
    uint64_t dim = read_uint(shape[d], name, fmt::format("shape[{}]", d));
    tensor.shape.push_back(dim);
    if (__builtin_mul_overflow(n_elements, dim, &n_elements)) {
      fail("{}: tensor '{}' shape {} has more than 2^64 elements. {}", file_, printable_name, format_shape(tensor.shape),
           kAdvice);
    }
  }

  // data_offsets: [begin, end) inside the data section.
  const nlohmann::json& offsets = field("data_offsets", nlohmann::json::value_t::array, "an array [begin, end]");
  if (offsets.size() != 2) {
    fail("{}: tensor '{}' data_offsets has {} values, but it must be [begin, end]. {}", file_, printable_name, offsets.size(),
         kAdvice);
  }
  result.begin = read_uint(offsets[0], name, "data_offsets[0]");
  result.end = read_uint(offsets[1], name, "data_offsets[1]");
  if (result.begin > result.end) {
    fail("{}: tensor '{}' data_offsets [{}, {}] ends before it begins. {}", file_, printable_name, result.begin, result.end,
         kAdvice);
  }
  if (result.end > data_size_) {
    fail("{}: tensor '{}' data_offsets [{}, {}] end past the data section, which is {} bytes. {}", file_, printable_name,
         result.begin, result.end, data_size_, kAdvice);
  }
  tensor.n_bytes = result.end - result.begin;

  // The byte count must match dtype and shape wherever the element size is known.
  std::optional<uint64_t> element_size;
  if (tensor.dtype != SafetensorsDType::kOther) {
    element_size = safetensors_dtype_size(tensor.dtype);
  } else {
    element_size = other_dtype_size(tensor.dtype_name);
  }
  if (element_size) {
    uint64_t expected_bytes = 0;
    bool overflow = __builtin_mul_overflow(n_elements, *element_size, &expected_bytes);
    if (overflow || expected_bytes != tensor.n_bytes) {
      fail("{}: tensor '{}' has {} bytes (data_offsets [{}, {}]), but dtype {} and shape {} need {} bytes. {}", file_,
           printable_name, tensor.n_bytes, result.begin, result.end, printable(tensor.dtype_name), format_shape(tensor.shape),
           overflow ? std::string("more than 2^64") : std::to_string(expected_bytes), kAdvice);
    }
  }
  return result;
}

std::map<std::string, std::string> HeaderParser::parse_metadata(const nlohmann::json& entry) const {
  if (!entry.is_object()) {
    fail("{}: \"__metadata__\" is a JSON {}, but it must be an object of strings. {}", file_, entry.type_name(),
         kAdvice);
  }
  std::map<std::string, std::string> metadata;
  for (const auto& [key, value] : entry.items()) {
    if (!value.is_string()) {
      fail("{}: \"__metadata__\" key '{}' is a JSON {}, but metadata values must be strings. {}", file_,
           printable(key), value.type_name(), kAdvice);
    }
    metadata.emplace(key, value.get<std::string>());
  }
  return metadata;
}

// Tensors that share bytes would alias each other's data. Empty tensors
// occupy no bytes, so they overlap nothing.
void check_overlaps(std::vector<TensorEntry>& entries, const std::string& file) {
  std::sort(entries.begin(), entries.end(), [](const TensorEntry& a, const TensorEntry& b) {
    if (a.begin != b.begin) return a.begin < b.begin;
    if (a.end != b.end) return a.end < b.end;
    return a.tensor.name < b.tensor.name;
  });

  const TensorEntry* previous = nullptr;
  for (const TensorEntry& entry : entries) {
    if (entry.begin == entry.end) continue;
    if (previous != nullptr && previous->end > entry.begin) {
      fail("{}: tensor '{}' (data_offsets [{}, {}]) overlaps tensor '{}' (data_offsets [{}, {}]). {}", file,
           printable(previous->tensor.name), previous->begin, previous->end, printable(entry.tensor.name),
           entry.begin, entry.end, kAdvice);
    }
    previous = &entry;
  }
}

// Float8 E4M3 "fn" (PyTorch's float8_e4m3fn): sign, 4 exponent bits with
// bias 7, 3 mantissa bits. There are no infinities: S.1111.111 is NaN, so
// the largest value is 1.75 * 2^8 = 448. Exponent bits 0 give subnormals
// m * 2^-9.
std::array<float, 256> make_f8_e4m3_table() {
  std::array<float, 256> table{};
  for (uint32_t bits = 0; bits < 256; ++bits) {
    const uint32_t exponent = (bits >> 3) & 0xf;
    const uint32_t mantissa = bits & 0x7;
    float magnitude;
    if (exponent == 0xf && mantissa == 0x7) {
      magnitude = std::numeric_limits<float>::quiet_NaN();
    } else if (exponent == 0) {
      magnitude = std::ldexp(static_cast<float>(mantissa), -9);
    } else {
      magnitude = std::ldexp(1.0f + static_cast<float>(mantissa) / 8.0f, static_cast<int>(exponent) - 7);
    }
    table[bits] = (bits & 0x80) != 0 ? -magnitude : magnitude;
  }
  return table;
}

uint16_t load_u16(const uint8_t* p) {
  uint16_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

}  // namespace

size_t safetensors_dtype_size(SafetensorsDType type) {
  switch (type) {
    case SafetensorsDType::F32:
      return 4;
    case SafetensorsDType::F16:
    case SafetensorsDType::BF16:
      return 2;
    case SafetensorsDType::F8_E4M3:
      return 1;
    case SafetensorsDType::kOther:
      return 0;
  }
  return 0;
}

uint64_t SafetensorsTensor::n_elements() const {
  uint64_t n = 1;
  for (uint64_t dim : shape) n *= dim;
  return n;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  auto mapping = std::make_unique<MappedFile>(path);
  auto file = parse(mapping->data(), mapping->size(), path);
  file->mapping_ = std::move(mapping);
  return file;
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::parse(const uint8_t* data, size_t size, const std::string& name) {
  // 8-byte little-endian header length, then the JSON header, then the data.
  if (size < 8) {
    fail("'{}' is not a safetensors file: it is {} bytes long, shorter than the 8-byte header length. {}", name, size,
         kAdvice);
  }
  uint64_t header_length = 0;
  for (int i = 7; i >= 0; --i) header_length = (header_length << 8) | data[i];

  const uint64_t after_length = size - 8;
  if (header_length > kMaxHeaderBytes) {
    fail("{}: the header length is {} bytes, more than the limit of {} bytes, so this is not a safetensors file. {}",
         name, header_length, kMaxHeaderBytes, kAdvice);
  }
  if (header_length > after_length) {
    fail("{}: the header length is {} bytes, but only {} bytes follow it. {}", name, header_length, after_length,
         kAdvice);
  }

  std::string_view header_text(reinterpret_cast<const char*>(data + 8), header_length);
  nlohmann::json header = parse_json_object(header_text, name, "the header");

  auto file = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  file->path_ = name;
  const uint8_t* data_section = data + 8 + header_length;
  const uint64_t data_size = after_length - header_length;

  // Entries: "__metadata__" and one per tensor. parse_json_object has
  // already rejected a name that appears twice.
  HeaderParser parser(name, data_size);
  std::vector<TensorEntry> entries;
  for (const auto& [key, entry] : header.items()) {
    if (key == kMetadataKey) {
      file->metadata_ = parser.parse_metadata(entry);
    } else {
      entries.push_back(parser.parse_tensor(key, entry));
    }
  }

  check_overlaps(entries, name);

  file->tensors_.reserve(entries.size());
  for (TensorEntry& entry : entries) {
    entry.tensor.data = data_section + entry.begin;
    file->index_.emplace(entry.tensor.name, file->tensors_.size());
    file->tensors_.push_back(std::move(entry.tensor));
  }
  return file;
}

const SafetensorsTensor* SafetensorsFile::find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

void safetensors_to_float(const SafetensorsTensor& tensor, uint64_t first, uint64_t n, float* out) {
  const size_t element_size = safetensors_dtype_size(tensor.dtype);
  if (element_size == 0) {
    fail("tensor '{}' has dtype {}, which edgelm cannot convert to float (supported: F32, F16, BF16, F8_E4M3)",
         printable(tensor.name), printable(tensor.dtype_name));
  }

  // Bounds: the range must lie inside both the shape and the bytes.
  uint64_t last = 0;
  const uint64_t n_elements = tensor.n_elements();
  if (__builtin_add_overflow(first, n, &last) || last > n_elements || last > tensor.n_bytes / element_size) {
    fail("tensor '{}': {} elements from element {} requested, but it has {} elements ({} bytes)",
         printable(tensor.name), n, first, n_elements, tensor.n_bytes);
  }

  const uint8_t* src = tensor.data + first * element_size;
  switch (tensor.dtype) {
    case SafetensorsDType::F32:
      if (n > 0) std::memcpy(out, src, n * sizeof(float));
      break;
    case SafetensorsDType::F16:
      for (uint64_t i = 0; i < n; ++i) out[i] = f16_to_f32(load_u16(src + 2 * i));
      break;
    case SafetensorsDType::BF16:
      for (uint64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(load_u16(src + 2 * i));
      break;
    case SafetensorsDType::F8_E4M3: {
      static const std::array<float, 256> table = make_f8_e4m3_table();
      for (uint64_t i = 0; i < n; ++i) out[i] = table[src[i]];
      break;
    }
    case SafetensorsDType::kOther:
      break;
  }
}

}  // namespace edgelm
