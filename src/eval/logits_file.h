#pragma once
// The file of base-model distributions that `edgelm perplexity --save-logits`
// writes and --kl-base reads.
//
// Layout, little-endian:
//   char[8]  magic "EDGELMLG"
//   uint32   version (1)
//   uint32   n_ctx     tokens per window
//   uint32   n_vocab
//   uint32   n_chunks  windows saved
//   int32    tokens[n_chunks * n_ctx]  the text's tokens as scored (before
//            the BOS replacement), so that another text is detected
//   records  n_chunks * (n_ctx - 1 - n_ctx / 2) of log_prob_record_bytes(n_vocab)
//            bytes each (see log_prob_codes.h), window by window, in the
//            order of the scored positions
// Every part starts at a multiple of 4 bytes, so the floats of a mapped
// record are aligned.

#include <cstdint>
#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include "core/mapped_file.h"

namespace edgelm {

// Scored positions of one window: n_ctx / 2 through n_ctx - 2.
inline uint32_t scored_per_chunk(uint32_t n_ctx) { return n_ctx - 1 - n_ctx / 2; }

struct LogitsFileShape {
  uint32_t n_ctx = 0;
  uint32_t n_vocab = 0;
  uint32_t n_chunks = 0;
};

// Writes a logits file window by window. The file is removed again unless
// finish() succeeds, so a failed run leaves no partial file behind.
class LogitsFileWriter {
 public:
  // Creates `path` and writes the header and `tokens` (n_chunks * n_ctx ids).
  LogitsFileWriter(const std::string& path, const LogitsFileShape& shape, std::span<const int32_t> tokens);
  ~LogitsFileWriter();
  LogitsFileWriter(const LogitsFileWriter&) = delete;
  LogitsFileWriter& operator=(const LogitsFileWriter&) = delete;

  // Appends the records of the next window: scored_per_chunk(n_ctx) records.
  void write_chunk(std::span<const uint8_t> records);

  // Checks that every window was written and closes the file.
  void finish();

 private:
  void write_bytes(const void* data, size_t size);

  std::string path_;
  LogitsFileShape shape_;
  std::FILE* file_ = nullptr;
  uint32_t chunks_written_ = 0;
};

// A logits file mapped read-only, with its size and tokens checked on open.
class LogitsFileReader {
 public:
  // Throws Error for a missing file, a wrong magic or version, an invalid
  // shape, a size that does not match the shape (a truncated file) or a token
  // outside the vocabulary.
  explicit LogitsFileReader(const std::string& path);

  const LogitsFileShape& shape() const { return shape_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  const std::string& path() const { return file_.path(); }

  // Record `index` (0 .. scored_per_chunk - 1) of window `chunk`.
  const uint8_t* record(uint32_t chunk, uint32_t index) const;

 private:
  MappedFile file_;
  LogitsFileShape shape_;
  std::vector<int32_t> tokens_;
  size_t records_offset_ = 0;
  size_t record_bytes_ = 0;
};

}  // namespace edgelm
