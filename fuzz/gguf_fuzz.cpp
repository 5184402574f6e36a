// libFuzzer target for the GGUF reader: parses the input, then reads every
// metadata value and the first and last byte of every tensor, so that any
// value or pointer the parser accepted but did not bound shows up under ASan.

#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/error.h"
#include "gguf/gguf_file.h"

namespace {

// Sums bytes so the compiler cannot drop the reads.
volatile uint64_t g_sink = 0;

void touch(const edgelm::GgufValue& value) {
  using edgelm::GgufArray;
  if (const auto* text = std::get_if<std::string>(&value.value)) {
    for (char c : *text) g_sink = g_sink + static_cast<uint8_t>(c);
  } else if (const auto* array = std::get_if<GgufArray>(&value.value)) {
    for (const auto& item : array->items) touch(item);
  } else if (const auto* number = std::get_if<uint64_t>(&value.value)) {
    g_sink = g_sink + *number;
  } else if (const auto* number = std::get_if<int64_t>(&value.value)) {
    g_sink = g_sink + static_cast<uint64_t>(*number);
  } else if (const auto* number = std::get_if<double>(&value.value)) {
    g_sink = g_sink + (*number > 0 ? 1 : 0);
  }
}

// Calls every getter on `key`; a type mismatch is an Error, never a crash.
template <typename Getter>
void try_get(Getter getter) {
  try {
    getter();
  } catch (const edgelm::Error&) {
  }
}

void touch_getters(const edgelm::GgufFile& file, const std::string& key) {
  try_get([&] { g_sink = g_sink + file.get_string(key).size(); });
  try_get([&] { g_sink = g_sink + file.get_uint(key); });
  try_get([&] { g_sink = g_sink + static_cast<uint64_t>(file.get_int(key)); });
  try_get([&] { g_sink = g_sink + (file.get_float(key) > 0 ? 1 : 0); });
  try_get([&] { g_sink = g_sink + file.get_bool(key); });
  try_get([&] { g_sink = g_sink + file.get_string_array(key).size(); });
  try_get([&] { g_sink = g_sink + file.get_float_array(key).size(); });
  try_get([&] { g_sink = g_sink + file.get_int_array(key).size(); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<edgelm::GgufFile> file;
  try {
    file = edgelm::GgufFile::parse(data, size, "fuzz.gguf");
  } catch (const edgelm::Error&) {
    return 0;
  }

  for (const auto& [key, value] : file->metadata()) {
    touch(value);
    touch_getters(*file, key);
  }

  for (const edgelm::GgufTensor& tensor : file->tensors()) {
    if (file->find_tensor(tensor.name) != &tensor) __builtin_trap();
    g_sink = g_sink + tensor.n_elements() + tensor.n_rows() + edgelm::dtype_name(tensor.type).size();
    g_sink = g_sink + tensor.data[0] + tensor.data[tensor.n_bytes - 1];
  }
  return 0;
}
