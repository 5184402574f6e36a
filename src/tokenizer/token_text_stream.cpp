#include "tokenizer/tokenizer.h"
#include "tokenizer/utf8.h"

namespace edgelm {

namespace {

// Moves the complete characters at the front of `pending` to the result,
// with U+FFFD for each malformed sequence. An incomplete character at the end
// stays in `pending` unless `flush`, when it becomes U+FFFD too.
std::string take_complete(std::string& pending, bool flush) {
  std::string out;
  size_t pos = 0;
  while (pos < pending.size()) {
    const Utf8Step step = scan_utf8(pending, pos);
    if (step.status == Utf8Status::INCOMPLETE && !flush) {
      break;
    }
    if (step.status == Utf8Status::VALID) {
      out.append(pending, pos, step.length);
    } else {
      append_replacement_character(out);
    }
    pos += step.length;
  }
  pending.erase(0, pos);
  return out;
}

}  // namespace

std::string TokenTextStream::push(int32_t id) {
  pending_ += tokenizer_.token_bytes(id);
  return take_complete(pending_, false);
}

std::string TokenTextStream::finish() {
  return take_complete(pending_, true);
}

}  // namespace edgelm
