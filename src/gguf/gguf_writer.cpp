#include "gguf/gguf_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <limits>

#include "core/error.h"
#include "gguf/gguf_parser.h"

namespace edgelm {
namespace {

constexpr uint32_t kGgufVersion = 3;
constexpr char kAlignmentKey[] = "general.alignment";

// Appends little-endian numbers and GGUF strings to a byte buffer.
class ByteSink {
 public:
  template <typename T>
  void put(T value) {
    append(&value, sizeof(T));
  }

  void put_string(std::string_view text) {
    put<uint64_t>(text.size());
    append(text.data(), text.size());
  }

  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  // resize and memcpy in place of vector::insert, which trips GCC 12's
  // -Wstringop-overflow false positive at -O3.
  void append(const void* data, size_t size) {
    if (size == 0) return;
    const size_t at = bytes_.size();
    bytes_.resize(at + size);
    std::memcpy(bytes_.data() + at, data, size);
  }

  std::vector<uint8_t> bytes_;
};

uint64_t align_up(uint64_t offset, uint64_t alignment) { return (offset + alignment - 1) / alignment * alignment; }

// Returns the value held as an unsigned integer, checked against the declared type's range.
uint64_t unsigned_value(const std::string& key, const GgufValue& value, uint64_t max) {
  const auto* v = std::get_if<uint64_t>(&value.value);
  if (v == nullptr) fail("metadata '{}' is declared {} but does not hold an unsigned integer", key, gguf_type_name(value.type));
  if (*v > max) fail("metadata '{}' is {} but a {} holds at most {}", key, *v, gguf_type_name(value.type), max);
  return *v;
}

int64_t signed_value(const std::string& key, const GgufValue& value, int64_t min, int64_t max) {
  const auto* v = std::get_if<int64_t>(&value.value);
  if (v == nullptr) fail("metadata '{}' is declared {} but does not hold a signed integer", key, gguf_type_name(value.type));
  if (*v < min || *v > max) {
    fail("metadata '{}' is {} but a {} holds {} to {}", key, *v, gguf_type_name(value.type), min, max);
  }
  return *v;
}

double float_value(const std::string& key, const GgufValue& value) {
  const auto* v = std::get_if<double>(&value.value);
  if (v == nullptr) fail("metadata '{}' is declared {} but does not hold a float", key, gguf_type_name(value.type));
  return *v;
}

// Encodes the payload of one value of its declared type (no type id).
void encode_value(ByteSink& sink, const std::string& key, const GgufValue& value, int depth) {
  switch (value.type) {
    case GgufType::UINT8:
      sink.put(static_cast<uint8_t>(unsigned_value(key, value, std::numeric_limits<uint8_t>::max())));
      return;
    case GgufType::UINT16:
      sink.put(static_cast<uint16_t>(unsigned_value(key, value, std::numeric_limits<uint16_t>::max())));
      return;
    case GgufType::UINT32:
      sink.put(static_cast<uint32_t>(unsigned_value(key, value, std::numeric_limits<uint32_t>::max())));
      return;
    case GgufType::UINT64:
      sink.put(unsigned_value(key, value, std::numeric_limits<uint64_t>::max()));
      return;
    case GgufType::INT8:
      sink.put(static_cast<int8_t>(signed_value(key, value, INT8_MIN, INT8_MAX)));
      return;
    case GgufType::INT16:
      sink.put(static_cast<int16_t>(signed_value(key, value, INT16_MIN, INT16_MAX)));
      return;
    case GgufType::INT32:
      sink.put(static_cast<int32_t>(signed_value(key, value, INT32_MIN, INT32_MAX)));
      return;
    case GgufType::INT64:
      sink.put(signed_value(key, value, INT64_MIN, INT64_MAX));
      return;
    case GgufType::FLOAT32:
      // The reader widens float32 to double, so narrowing back is exact.
      sink.put(static_cast<float>(float_value(key, value)));
      return;
    case GgufType::FLOAT64:
      sink.put(float_value(key, value));
      return;
    case GgufType::BOOL: {
      const auto* v = std::get_if<bool>(&value.value);
      if (v == nullptr) fail("metadata '{}' is declared bool but does not hold a bool", key);
      sink.put(static_cast<uint8_t>(*v ? 1 : 0));
      return;
    }
    case GgufType::STRING: {
      const auto* v = std::get_if<std::string>(&value.value);
      if (v == nullptr) fail("metadata '{}' is declared string but does not hold a string", key);
      sink.put_string(*v);
      return;
    }
    case GgufType::ARRAY: {
      const auto* v = std::get_if<GgufArray>(&value.value);
      if (v == nullptr) fail("metadata '{}' is declared array but does not hold an array", key);
      if (depth >= kMaxArrayDepth) fail("metadata '{}' nests arrays deeper than {} levels", key, kMaxArrayDepth);
      sink.put(static_cast<uint32_t>(v->element_type));
      sink.put<uint64_t>(v->items.size());
      for (const GgufValue& item : v->items) {
        if (item.type != v->element_type) {
          fail("metadata '{}' is an array of {} but holds a {} element", key, gguf_type_name(v->element_type),
               gguf_type_name(item.type));
        }
        encode_value(sink, key, item, depth + 1);
      }
      return;
    }
  }
  fail("metadata '{}' has unknown value type {}", key, static_cast<uint32_t>(value.type));
}

std::string system_error() { return std::strerror(errno); }

// The file that `path` names after following symbolic links, even a link
// whose target does not exist yet, so that writing replaces the target and
// keeps the link. Other paths come back unchanged.
std::string follow_symlinks(const std::string& path) {
  namespace fs = std::filesystem;
  fs::path current = path;
  std::error_code error;
  // Linux gives up after 40 links (ELOOP), and so does this.
  for (int hop = 0; fs::is_symlink(fs::symlink_status(current, error)); ++hop) {
    if (hop == 40) fail("output '{}' is a loop of symbolic links; give a file path", path);
    const fs::path target = fs::read_symlink(current, error);
    if (error) fail("reading the symbolic link '{}' failed: {}", current.string(), error.message());
    current = target.is_absolute() ? target : current.parent_path() / target;
  }
  return current.string();
}

}  // namespace

GgufWriter::~GgufWriter() { discard(); }

void GgufWriter::copy_metadata(const GgufFile& file) {
  for (const auto& [key, value] : file.metadata()) set(key, value);
}

void GgufWriter::set(std::string key, GgufValue value) {
  if (file_ != nullptr) fail("cannot set metadata '{}' after the GGUF header was written", key);
  if (key.empty() || key.size() > kMaxKeyBytes) fail("metadata key '{}' must be 1 to {} bytes", key, kMaxKeyBytes);
  remove(key);
  metadata_.emplace_back(std::move(key), std::move(value));
}

void GgufWriter::set_uint32(std::string key, uint32_t value) {
  set(std::move(key), GgufValue{GgufType::UINT32, uint64_t{value}});
}

void GgufWriter::set_string(std::string key, std::string value) {
  set(std::move(key), GgufValue{GgufType::STRING, std::move(value)});
}

bool GgufWriter::remove(std::string_view key) {
  auto it = std::find_if(metadata_.begin(), metadata_.end(), [key](const auto& entry) { return entry.first == key; });
  if (it == metadata_.end()) return false;
  metadata_.erase(it);
  return true;
}

void GgufWriter::add_tensor(std::string name, std::vector<uint64_t> dims, DType type) {
  if (file_ != nullptr) fail("cannot add tensor '{}' after the GGUF header was written", name);
  if (name.empty() || name.size() > kMaxTensorNameBytes) {
    fail("tensor name '{}' must be 1 to {} bytes", name, kMaxTensorNameBytes);
  }
  for (const TensorInfo& t : tensors_) {
    if (t.name == name) fail("tensor '{}' is added twice", name);
  }
  if (dims.empty() || dims.size() > kMaxTensorDims) {
    fail("tensor '{}' has {} dimensions but must have 1 to {}", name, dims.size(), kMaxTensorDims);
  }

  // Element count, refusing zero dimensions and products that overflow.
  uint64_t n_elements = 1;
  for (uint64_t d : dims) {
    if (d == 0 || n_elements > std::numeric_limits<uint64_t>::max() / d) {
      fail("tensor '{}' has an invalid dimension {} (zero, or the element count overflows)", name, d);
    }
    n_elements *= d;
  }
  const DTypeInfo& info = dtype_info(type);
  if (dims[0] % info.block_size != 0) {
    fail("tensor '{}' has rows of {} values, which is not a multiple of the {} block size {}", name, dims[0],
         info.name, info.block_size);
  }
  const uint64_t n_blocks = n_elements / info.block_size;
  if (n_blocks > std::numeric_limits<uint64_t>::max() / info.block_bytes) {
    fail("tensor '{}' is too large: {} blocks of {} bytes", name, n_blocks, info.block_bytes);
  }

  tensors_.push_back({std::move(name), std::move(dims), type, n_blocks * info.block_bytes});
}

uint64_t GgufWriter::tensor_bytes(size_t index) const { return tensors_.at(index).n_bytes; }

uint64_t GgufWriter::alignment() const {
  auto it = std::find_if(metadata_.begin(), metadata_.end(),
                         [](const auto& entry) { return entry.first == kAlignmentKey; });
  if (it == metadata_.end()) return kDefaultAlignment;

  const GgufValue& value = it->second;
  const auto* alignment = std::get_if<uint64_t>(&value.value);
  if (value.type != GgufType::UINT32 || alignment == nullptr || *alignment == 0 ||
      (*alignment & (*alignment - 1)) != 0) {
    fail("metadata '{}' must be a uint32 power of two", kAlignmentKey);
  }
  return *alignment;
}

std::vector<uint8_t> GgufWriter::encode_header() const {
  const uint64_t align = alignment();
  ByteSink sink;

  sink.put<uint32_t>(0x46554747);  // "GGUF" in file byte order
  sink.put<uint32_t>(kGgufVersion);
  sink.put<uint64_t>(tensors_.size());
  sink.put<uint64_t>(metadata_.size());

  for (const auto& [key, value] : metadata_) {
    sink.put_string(key);
    sink.put(static_cast<uint32_t>(value.type));
    encode_value(sink, key, value, 0);
  }

  // Offsets count from the start of the data section; every tensor starts aligned.
  uint64_t offset = 0;
  for (const TensorInfo& t : tensors_) {
    sink.put_string(t.name);
    sink.put(static_cast<uint32_t>(t.dims.size()));
    for (uint64_t d : t.dims) sink.put(d);
    sink.put(static_cast<uint32_t>(t.type));
    sink.put(offset);
    offset += align_up(t.n_bytes, align);
  }

  sink.bytes().resize(align_up(sink.bytes().size(), align), 0);
  return std::move(sink.bytes());
}

void GgufWriter::open(const std::string& output_path) {
  if (file_ != nullptr) fail("GGUF output '{}' is already open", path_);
  const std::string path = follow_symlinks(output_path);

  // Encode first so invalid metadata fails before anything touches the disk.
  std::vector<uint8_t> header = encode_header();

  // An existing output keeps its permission bits.
  struct stat st;
  bool exists = false;
  mode_t mode = 0;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) fail("output '{}' is a directory; give a file name", output_path);
    if (::access(path.c_str(), W_OK) != 0) {
      fail("output '{}' exists and is not writable: {}", output_path, system_error());
    }
    exists = true;
    mode = st.st_mode & 07777;
  }

  // The temporary file sits beside the output so the final rename stays on one file system.
  // A counter skips names left behind by a crashed process that had the same id.
  path_ = path;
  int fd = -1;
  std::string create_error;
  {
    // Registered in the same step as it is created, so that an interrupt
    // cannot leave the file behind unregistered.
    const CleanupSignalsBlocked blocked;
    for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
      temp_path_ = fmt::format("{}.tmp-{}-{}", path, ::getpid(), attempt);
      fd = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
      if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
      create_error = system_error();
    } else {
      temp_registration_ = TempFileRegistration(temp_path_);
    }
  }
  if (fd < 0) {
    temp_path_.clear();
    fail("cannot create output '{}': {} (check that the directory exists and is writable)", path, create_error);
  }
  if (exists && ::fchmod(fd, mode) != 0) {
    const std::string reason = system_error();
    ::close(fd);
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
    fail("setting the permissions of output '{}' failed: {}", path, reason);
  }
  file_ = ::fdopen(fd, "wb");
  if (file_ == nullptr) {
    ::close(fd);
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
    fail("cannot open output '{}' for writing: {}", path, system_error());
  }

  next_tensor_ = 0;
  bytes_written_ = 0;
  write_bytes(header.data(), header.size());
}

void GgufWriter::write_tensor(const void* data, size_t size) {
  if (file_ == nullptr) fail("GGUF output is not open; call open() before write_tensor()");
  if (next_tensor_ >= tensors_.size()) fail("{}: all {} tensors were already written", path_, tensors_.size());

  const TensorInfo& t = tensors_[next_tensor_];
  if (size != t.n_bytes) fail("{}: tensor '{}' needs {} bytes of data but {} were given", path_, t.name, t.n_bytes, size);

  write_bytes(data, size);
  write_padding(align_up(size, alignment()) - size);
  ++next_tensor_;
}

void GgufWriter::finish() {
  if (file_ == nullptr) fail("GGUF output is not open; call open() before finish()");
  if (next_tensor_ != tensors_.size()) {
    fail("{}: only {} of {} tensors were written", path_, next_tensor_, tensors_.size());
  }

  // Data must be on disk before the rename makes the file visible.
  const bool flushed = std::fflush(file_) == 0 && ::fsync(::fileno(file_)) == 0;
  const std::string reason = flushed ? "" : system_error();
  const bool closed = std::fclose(file_) == 0;
  file_ = nullptr;
  if (!flushed || !closed) {
    discard();
    fail("cannot write output '{}': {}", path_, flushed ? system_error() : reason);
  }

  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    const std::string error = system_error();
    const std::string temp_path = temp_path_;
    discard();
    fail("cannot rename '{}' to output '{}': {}", temp_path, path_, error);
  }
  temp_path_.clear();
  temp_registration_ = TempFileRegistration();
}

void GgufWriter::write_bytes(const void* data, size_t size) {
  if (size == 0) return;
  if (std::fwrite(data, 1, size, file_) != size) {
    const std::string reason = system_error();
    discard();
    fail("cannot write output '{}': {} (check the free disk space and the file size limit, ulimit -f)", path_,
         reason);
  }
  bytes_written_ += size;
}

void GgufWriter::write_padding(uint64_t size) {
  static constexpr uint8_t kZeros[256] = {};
  while (size > 0) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(size, sizeof(kZeros)));
    write_bytes(kZeros, n);
    size -= n;
  }
}

void GgufWriter::discard() {
  if (file_ != nullptr) {
    std::fclose(file_);
    file_ = nullptr;
  }
  if (!temp_path_.empty()) {
    ::unlink(temp_path_.c_str());
    temp_path_.clear();
  }
  temp_registration_ = TempFileRegistration();
}

}  // namespace edgelm
