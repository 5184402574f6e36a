#include "gguf/gguf_parser.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "core/error.h"

namespace edgelm {
namespace {

// Smallest encodings, used to bound counts by the bytes left: a key or name
// is a length and at least one byte, an array is a type and a count.
constexpr uint64_t kMinStringBytes = sizeof(uint64_t) + 1;
constexpr uint64_t kMinKeyValueBytes = kMinStringBytes + sizeof(uint32_t) + 1;
constexpr uint64_t kMinTensorInfoBytes =
    kMinStringBytes + sizeof(uint32_t) + sizeof(uint64_t) + sizeof(uint32_t) + sizeof(uint64_t);

constexpr uint32_t kLastGgufType = static_cast<uint32_t>(GgufType::FLOAT64);

// Bytes of one value of a fixed-size type, 0 for strings and arrays.
uint64_t scalar_bytes(GgufType type) {
  switch (type) {
    case GgufType::UINT8:
    case GgufType::INT8:
    case GgufType::BOOL:
      return 1;
    case GgufType::UINT16:
    case GgufType::INT16:
      return 2;
    case GgufType::UINT32:
    case GgufType::INT32:
    case GgufType::FLOAT32:
      return 4;
    case GgufType::UINT64:
    case GgufType::INT64:
    case GgufType::FLOAT64:
      return 8;
    case GgufType::STRING:
    case GgufType::ARRAY:
      return 0;
  }
  return 0;
}

// Bytes the smallest value of `type` takes in the file.
uint64_t min_value_bytes(GgufType type) {
  if (type == GgufType::STRING) return sizeof(uint64_t);
  if (type == GgufType::ARRAY) return sizeof(uint32_t) + sizeof(uint64_t);
  return scalar_bytes(type);
}

// Decodes one fixed-size value; the caller has checked that its bytes are there.
GgufValue read_scalar(ByteReader& reader, GgufType type) {
  GgufValue value;
  value.type = type;
  switch (type) {
    case GgufType::UINT8:
      value.value = uint64_t{reader.read_unchecked<uint8_t>()};
      break;
    case GgufType::INT8:
      value.value = int64_t{reader.read_unchecked<int8_t>()};
      break;
    case GgufType::UINT16:
      value.value = uint64_t{reader.read_unchecked<uint16_t>()};
      break;
    case GgufType::INT16:
      value.value = int64_t{reader.read_unchecked<int16_t>()};
      break;
    case GgufType::UINT32:
      value.value = uint64_t{reader.read_unchecked<uint32_t>()};
      break;
    case GgufType::INT32:
      value.value = int64_t{reader.read_unchecked<int32_t>()};
      break;
    case GgufType::UINT64:
      value.value = reader.read_unchecked<uint64_t>();
      break;
    case GgufType::INT64:
      value.value = reader.read_unchecked<int64_t>();
      break;
    case GgufType::FLOAT32:
      value.value = double{reader.read_unchecked<float>()};
      break;
    case GgufType::FLOAT64:
      value.value = reader.read_unchecked<double>();
      break;
    case GgufType::BOOL:
      // Writers emit 0 or 1; any other byte also reads as true.
      value.value = reader.read_unchecked<uint8_t>() != 0;
      break;
    case GgufType::STRING:
    case GgufType::ARRAY:
      break;
  }
  return value;
}

std::string format_dims(const std::vector<uint64_t>& dims) { return fmt::format("[{}]", fmt::join(dims, ", ")); }

}  // namespace

GgufParser::GgufParser(const uint8_t* data, size_t size, const std::string& name)
    : data_(data), size_(size), name_(name), reader_(data, size, name) {}

void GgufParser::parse_into(GgufFile& file) {
  file_ = &file;
  file.path_ = name_;

  read_header();
  read_metadata();
  read_alignment();
  read_tensor_infos();

  // The data section starts at the next multiple of the alignment. A file
  // without tensors may end before that point.
  uint64_t end_of_infos = reader_.offset();
  file.data_offset_ = (end_of_infos + file.alignment_ - 1) / file.alignment_ * file.alignment_;

  place_tensors();
  check_overlaps();
}

void GgufParser::read_header() {
  if (size_ < 4) {
    fail("'{}' is not a GGUF file: it is only {} bytes long. Check the path or re-download the model.", name_, size_);
  }
  std::string_view magic(reinterpret_cast<const char*>(data_), 4);
  if (magic != "GGUF") {
    fail(
        "'{}' is not a GGUF file: it starts with the bytes {:02x} {:02x} {:02x} {:02x} (\"{}\") instead of "
        "\"GGUF\". Check the path, or convert the model to GGUF first.",
        name_, data_[0], data_[1], data_[2], data_[3], printable(magic));
  }
  reader_.read<uint32_t>(named("magic"));

  uint32_t version = reader_.read<uint32_t>(named("version"));
  if (version == 0x02000000 || version == 0x03000000) {
    fail(
        "{}: GGUF version field is {:#010x}, so this is a big-endian GGUF file. edgelm reads only "
        "little-endian files, so convert the model again without the big-endian option.",
        name_, version);
  }
  if (version == 1) {
    fail(
        "{}: GGUF version 1 is not supported (only versions 2 and 3). Re-convert the model with a current "
        "llama.cpp.",
        name_);
  }
  if (version != 2 && version != 3) {
    fail("{}: GGUF version {} is not supported (only versions 2 and 3). {}", name_, version, kDamagedFileAdvice);
  }
  file_->version_ = version;

  tensor_count_ = reader_.read_count(named("tensor_count"), kMinTensorInfoBytes);
  kv_count_ = reader_.read_count(named("kv_count"), kMinKeyValueBytes);
}

void GgufParser::read_metadata() {
  file_->metadata_.reserve(kv_count_);
  for (uint64_t i = 0; i < kv_count_; ++i) {
    size_t key_offset = reader_.offset();
    std::string key(reader_.read_string([i] { return fmt::format("metadata key {}", i); }));
    if (key.empty() || key.size() > kMaxKeyBytes || !is_valid_utf8(key)) {
      fail("{}: metadata key {} (at byte {}) is \"{}\" ({} bytes), but a key must be 1 to {} bytes of UTF-8. {}", name_,
           i, key_offset, printable(key), key.size(), kMaxKeyBytes, kDamagedFileAdvice);
    }
    auto [it, inserted] = file_->metadata_index_.emplace(key, file_->metadata_.size());
    if (!inserted) {
      fail("{}: metadata key '{}' appears twice (entries {} and {}). {}", name_, printable(key), it->second, i,
           kDamagedFileAdvice);
    }

    FieldName field = [&key] { return fmt::format("metadata '{}'", printable(key)); };
    uint32_t type_id = reader_.read<uint32_t>([&] { return field() + " value type"; });
    if (type_id > kLastGgufType) {
      fail("{}: metadata '{}' has unknown value type {} (valid types are 0 to {}). {}", name_, printable(key), type_id,
           kLastGgufType, kDamagedFileAdvice);
    }
    ++value_count_;
    GgufValue value = read_value(static_cast<GgufType>(type_id), 0, field);
    file_->metadata_.emplace_back(std::move(key), std::move(value));
  }
}

GgufValue GgufParser::read_value(GgufType type, int depth, const FieldName& field) {
  if (type == GgufType::STRING) {
    GgufValue value;
    value.type = type;
    value.value = std::string(reader_.read_string(field));
    return value;
  }
  if (type == GgufType::ARRAY) {
    GgufValue value;
    value.type = type;
    value.value = read_array(depth + 1, field);
    return value;
  }
  reader_.require(scalar_bytes(type), field);
  return read_scalar(reader_, type);
}

GgufArray GgufParser::read_array(int depth, const FieldName& field) {
  if (depth > kMaxArrayDepth) {
    fail("{}: {} nests arrays {} levels deep, more than the limit of {}. {}", name_, field(), depth, kMaxArrayDepth,
         kDamagedFileAdvice);
  }

  GgufArray array;
  uint32_t type_id = reader_.read<uint32_t>([&] { return field() + " array element type"; });
  if (type_id > kLastGgufType) {
    fail("{}: {} is an array of unknown value type {} (valid types are 0 to {}). {}", name_, field(), type_id,
         kLastGgufType, kDamagedFileAdvice);
  }
  array.element_type = static_cast<GgufType>(type_id);

  uint64_t count = reader_.read_count([&] { return field() + " array length"; }, min_value_bytes(array.element_type));
  value_count_ += count;
  if (value_count_ > kMaxMetadataValues) {
    fail("{}: {} brings the metadata to {} values, more than the limit of {}. {}", name_, field(), value_count_,
         kMaxMetadataValues, kDamagedFileAdvice);
  }
  array.items.reserve(count);

  // read_count has checked that all fixed-size elements are present.
  if (scalar_bytes(array.element_type) > 0) {
    for (uint64_t i = 0; i < count; ++i) array.items.push_back(read_scalar(reader_, array.element_type));
    return array;
  }
  for (uint64_t i = 0; i < count; ++i) {
    FieldName element = [&field, i] { return fmt::format("{}[{}]", field(), i); };
    array.items.push_back(read_value(array.element_type, depth, element));
  }
  return array;
}

void GgufParser::read_alignment() {
  const GgufValue* value = file_->find("general.alignment");
  if (value == nullptr) {
    file_->alignment_ = kDefaultAlignment;
    return;
  }
  if (value->type != GgufType::UINT32) {
    fail("{}: metadata 'general.alignment' has type {} but must be uint32. {}", name_, gguf_type_name(value->type),
         kDamagedFileAdvice);
  }
  uint64_t alignment = std::get<uint64_t>(value->value);
  if (alignment == 0 || (alignment & (alignment - 1)) != 0) {
    fail("{}: metadata 'general.alignment' is {} but must be a power of two. {}", name_, alignment, kDamagedFileAdvice);
  }
  file_->alignment_ = alignment;
}

void GgufParser::read_tensor_infos() {
  file_->tensors_.reserve(tensor_count_);
  for (uint64_t i = 0; i < tensor_count_; ++i) {
    GgufTensor tensor = read_tensor_info(i);
    auto [it, inserted] = file_->tensor_index_.emplace(tensor.name, file_->tensors_.size());
    if (!inserted) {
      fail("{}: tensor name '{}' appears twice (tensors {} and {}). {}", name_, printable(tensor.name), it->second, i,
           kDamagedFileAdvice);
    }
    file_->tensors_.push_back(std::move(tensor));
  }
}

GgufTensor GgufParser::read_tensor_info(uint64_t index) {
  GgufTensor tensor;
  size_t name_offset = reader_.offset();
  tensor.name = reader_.read_string([index] { return fmt::format("tensor {} name", index); });
  if (tensor.name.empty() || tensor.name.size() > kMaxTensorNameBytes || !is_valid_utf8(tensor.name)) {
    fail("{}: tensor {} name (at byte {}) is \"{}\" ({} bytes), but a name must be 1 to {} bytes of UTF-8. {}", name_,
         index, name_offset, printable(tensor.name), tensor.name.size(), kMaxTensorNameBytes, kDamagedFileAdvice);
  }
  std::string name = printable(tensor.name);

  // Shape: 1 to 4 nonzero dims whose product fits in int64, as ggml counts elements.
  uint32_t n_dims = reader_.read<uint32_t>([&] { return fmt::format("tensor '{}' n_dims", name); });
  if (n_dims == 0 || n_dims > kMaxTensorDims) {
    fail("{}: tensor '{}' n_dims is {} but must be 1 to {}. {}", name_, name, n_dims, kMaxTensorDims,
         kDamagedFileAdvice);
  }
  uint64_t n_elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t dim = reader_.read<uint64_t>([&] { return fmt::format("tensor '{}' dims[{}]", name, d); });
    tensor.dims.push_back(dim);
    if (dim == 0) {
      fail("{}: tensor '{}' dims[{}] is 0 (dims {}). {}", name_, name, d, format_dims(tensor.dims), kDamagedFileAdvice);
    }
    if (__builtin_mul_overflow(n_elements, dim, &n_elements) ||
        n_elements > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail("{}: tensor '{}' dims {} hold more than 2^63 elements. {}", name_, name, format_dims(tensor.dims),
           kDamagedFileAdvice);
    }
  }

  uint32_t type_id = reader_.read<uint32_t>([&] { return fmt::format("tensor '{}' type", name); });
  const DTypeInfo* info = find_dtype(type_id);
  if (info == nullptr) {
    fail(
        "{}: tensor '{}' has unknown type id {}. Convert the model to a supported type (f32, f16, bf16, "
        "q8_0, q4_0, q4_k, q5_k, q6_k, ...) or use a newer edgelm.",
        name_, name, type_id);
  }
  tensor.type = info->type;
  if (tensor.dims[0] % info->block_size != 0) {
    fail("{}: tensor '{}' row length dims[0] = {} is not a multiple of the {} block size {}. {}", name_, name,
         tensor.dims[0], info->name, info->block_size, kDamagedFileAdvice);
  }

  // Bytes: whole blocks per row, times the rows.
  uint64_t row_bytes = 0;
  uint64_t n_rows = n_elements / tensor.dims[0];
  if (__builtin_mul_overflow(tensor.dims[0] / info->block_size, uint64_t{info->block_bytes}, &row_bytes) ||
      __builtin_mul_overflow(row_bytes, n_rows, &tensor.n_bytes)) {
    fail("{}: tensor '{}' with dims {} and type {} needs more than 2^64 bytes. {}", name_, name,
         format_dims(tensor.dims), info->name, kDamagedFileAdvice);
  }

  tensor.offset = reader_.read<uint64_t>([&] { return fmt::format("tensor '{}' offset", name); });
  return tensor;
}

void GgufParser::place_tensors() {
  uint64_t data_offset = file_->data_offset_;
  for (GgufTensor& tensor : file_->tensors_) {
    std::string name = printable(tensor.name);
    if (tensor.offset % file_->alignment_ != 0) {
      fail("{}: tensor '{}' offset {} is not a multiple of the alignment {}. {}", name_, name, tensor.offset,
           file_->alignment_, kDamagedFileAdvice);
    }

    uint64_t start = 0;
    uint64_t end = 0;
    if (__builtin_add_overflow(data_offset, tensor.offset, &start) ||
        __builtin_add_overflow(start, tensor.n_bytes, &end) || end > size_) {
      fail(
          "{}: tensor '{}' offset {} with {} bytes of data ends past the end of the file ({} bytes, data "
          "section from byte {}). {}",
          name_, name, tensor.offset, tensor.n_bytes, size_, data_offset, kDamagedFileAdvice);
    }
    tensor.data = data_ + start;
  }
}

void GgufParser::check_overlaps() const {
  std::vector<const GgufTensor*> by_offset;
  by_offset.reserve(file_->tensors_.size());
  for (const GgufTensor& tensor : file_->tensors_) by_offset.push_back(&tensor);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const GgufTensor* a, const GgufTensor* b) { return a->offset < b->offset; });

  // Both ends are below the file size, so these sums do not overflow.
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensor& before = *by_offset[i - 1];
    const GgufTensor& after = *by_offset[i];
    if (before.offset + before.n_bytes > after.offset) {
      fail("{}: tensor '{}' (offset {}, {} bytes) overlaps tensor '{}' (offset {}). {}", name_, printable(before.name),
           before.offset, before.n_bytes, printable(after.name), after.offset, kDamagedFileAdvice);
    }
  }
}

}  // namespace edgelm
