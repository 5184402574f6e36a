// libFuzzer target for the safetensors reader. It parses the input, reads the
// metadata and the first and last byte of every tensor, and converts each
// tensor's first and last elements to float. An offset or shape that the
// parser accepted but did not bound then shows up under ASan.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "core/error.h"
#include "safetensors/safetensors_file.h"

namespace {

// Sums values so the compiler cannot drop the reads.
volatile uint64_t g_sink = 0;

constexpr uint64_t kConvertedElements = 16;

void convert(const edgelm::SafetensorsTensor& tensor, uint64_t first, uint64_t n) {
  float values[kConvertedElements];
  edgelm::safetensors_to_float(tensor, first, n, values);
  for (uint64_t i = 0; i < n; ++i) g_sink = g_sink + (values[i] > 0 ? 1 : 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::unique_ptr<edgelm::SafetensorsFile> file;
  try {
    file = edgelm::SafetensorsFile::parse(data, size, "fuzz.safetensors");
  } catch (const edgelm::Error&) {
    return 0;
  }

  for (const auto& [key, value] : file->metadata()) g_sink = g_sink + key.size() + value.size();

  for (const edgelm::SafetensorsTensor& tensor : file->tensors()) {
    if (file->find(tensor.name) != &tensor) __builtin_trap();
    g_sink = g_sink + tensor.n_elements() + tensor.dtype_name.size();
    if (tensor.n_bytes > 0) g_sink = g_sink + tensor.data[0] + tensor.data[tensor.n_bytes - 1];

    // Conversion throws Error only for dtypes it does not handle.
    try {
      const uint64_t n_elements = tensor.n_elements();
      const uint64_t head = std::min(n_elements, kConvertedElements);
      convert(tensor, 0, head);
      if (n_elements > head) convert(tensor, n_elements - 1, 1);
    } catch (const edgelm::Error&) {
      if (tensor.dtype != edgelm::SafetensorsDType::kOther) __builtin_trap();
    }
  }
  return 0;
}
