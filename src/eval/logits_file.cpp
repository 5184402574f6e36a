#include "eval/logits_file.h"

#include <bit>
#include <cerrno>
#include <cstring>

#include "core/error.h"
#include "eval/log_prob_codes.h"

namespace edgelm {
namespace {

static_assert(std::endian::native == std::endian::little, "logits files are written in the host's byte order");

constexpr char kMagic[8] = {'E', 'D', 'G', 'E', 'L', 'M', 'L', 'G'};
constexpr uint32_t kVersion = 1;
constexpr size_t kHeaderBytes = sizeof(kMagic) + 4 * sizeof(uint32_t);

uint32_t read_u32(const uint8_t* data) {
  uint32_t value = 0;
  std::memcpy(&value, data, sizeof(value));
  return value;
}

// a * b + c, or false when it does not fit in size_t.
bool checked_multiply_add(size_t a, size_t b, size_t c, size_t& result) {
  size_t product = 0;
  return !__builtin_mul_overflow(a, b, &product) && !__builtin_add_overflow(product, c, &result);
}

}  // namespace

LogitsFileWriter::LogitsFileWriter(const std::string& path, const LogitsFileShape& shape,
                                   std::span<const int32_t> tokens)
    : path_(path), shape_(shape) {
  if (tokens.size() != static_cast<size_t>(shape.n_ctx) * shape.n_chunks) {
    fail("{}: {} tokens given for {} windows of {} tokens", path, tokens.size(), shape.n_chunks, shape.n_ctx);
  }
  file_ = std::fopen(path.c_str(), "wb");
  if (file_ == nullptr) fail("{}: cannot create the logits file: {}", path, std::strerror(errno));

  write_bytes(kMagic, sizeof(kMagic));
  const uint32_t header[4] = {kVersion, shape.n_ctx, shape.n_vocab, shape.n_chunks};
  write_bytes(header, sizeof(header));
  write_bytes(tokens.data(), tokens.size_bytes());
}

LogitsFileWriter::~LogitsFileWriter() {
  if (file_ == nullptr) return;
  std::fclose(file_);
  std::remove(path_.c_str());
}

void LogitsFileWriter::write_bytes(const void* data, size_t size) {
  if (size > 0 && std::fwrite(data, 1, size, file_) != size) {
    fail("{}: writing the logits file failed: {}", path_, std::strerror(errno));
  }
}

void LogitsFileWriter::write_chunk(std::span<const uint8_t> records) {
  const size_t expected = scored_per_chunk(shape_.n_ctx) * log_prob_record_bytes(shape_.n_vocab);
  if (records.size() != expected) fail("{}: a window has {} bytes of records, expected {}", path_, records.size(), expected);
  if (chunks_written_ == shape_.n_chunks) fail("{}: all {} windows are already written", path_, shape_.n_chunks);
  write_bytes(records.data(), records.size());
  ++chunks_written_;
}

void LogitsFileWriter::finish() {
  if (chunks_written_ != shape_.n_chunks) {
    fail("{}: only {} of {} windows were written", path_, chunks_written_, shape_.n_chunks);
  }
  std::FILE* file = file_;
  file_ = nullptr;
  if (std::fclose(file) != 0) {
    int error = errno;
    std::remove(path_.c_str());
    fail("{}: writing the logits file failed: {}", path_, std::strerror(error));
  }
}

LogitsFileReader::LogitsFileReader(const std::string& path) : file_(path) {
  const uint8_t* data = file_.data();
  const size_t size = file_.size();
  if (size < kHeaderBytes || std::memcmp(data, kMagic, sizeof(kMagic)) != 0) {
    fail("{}: not an edgelm logits file (it does not start with \"EDGELMLG\"); "
         "write one with 'edgelm perplexity --save-logits'",
         path);
  }

  const uint32_t version = read_u32(data + 8);
  if (version != kVersion) {
    fail("{}: logits file version {} is not supported (this edgelm reads version {}); save the logits again",
         path, version, kVersion);
  }
  shape_.n_ctx = read_u32(data + 12);
  shape_.n_vocab = read_u32(data + 16);
  shape_.n_chunks = read_u32(data + 20);
  if (shape_.n_ctx < 4 || shape_.n_vocab == 0 || shape_.n_chunks == 0) {
    fail("{}: invalid logits file header: n_ctx {}, n_vocab {}, n_chunks {} (each must be positive, n_ctx at least 4)",
         path, shape_.n_ctx, shape_.n_vocab, shape_.n_chunks);
  }

  // The size must match the header exactly, which also catches a truncated file.
  record_bytes_ = log_prob_record_bytes(shape_.n_vocab);
  const size_t n_tokens = static_cast<size_t>(shape_.n_ctx) * shape_.n_chunks;
  const size_t n_records = static_cast<size_t>(scored_per_chunk(shape_.n_ctx)) * shape_.n_chunks;
  size_t expected_size = 0;
  if (!checked_multiply_add(n_tokens, sizeof(int32_t), kHeaderBytes, records_offset_) ||
      !checked_multiply_add(n_records, record_bytes_, records_offset_, expected_size)) {
    fail("{}: invalid logits file header: {} windows of {} tokens over {} entries is too large", path,
         shape_.n_chunks, shape_.n_ctx, shape_.n_vocab);
  }
  if (size != expected_size) {
    fail("{}: logits file is {} bytes but its header (n_ctx {}, n_vocab {}, n_chunks {}) needs {}; "
         "the file is truncated or damaged, so save the logits again",
         path, size, shape_.n_ctx, shape_.n_vocab, shape_.n_chunks, expected_size);
  }

  tokens_.resize(n_tokens);
  std::memcpy(tokens_.data(), data + kHeaderBytes, n_tokens * sizeof(int32_t));
  for (size_t i = 0; i < n_tokens; ++i) {
    if (tokens_[i] < 0 || static_cast<uint32_t>(tokens_[i]) >= shape_.n_vocab) {
      fail("{}: token {} at position {} is outside the vocabulary of {} entries; the file is damaged", path,
           tokens_[i], i, shape_.n_vocab);
    }
  }
}

const uint8_t* LogitsFileReader::record(uint32_t chunk, uint32_t index) const {
  const uint32_t per_chunk = scored_per_chunk(shape_.n_ctx);
  if (chunk >= shape_.n_chunks || index >= per_chunk) {
    fail("{}: record {} of window {} is out of range ({} windows of {} records)", path(), index, chunk,
         shape_.n_chunks, per_chunk);
  }
  return file_.data() + records_offset_ + (static_cast<size_t>(chunk) * per_chunk + index) * record_bytes_;
}

}  // namespace edgelm
