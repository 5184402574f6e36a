// Writes a seed corpus for safetensors_fuzz: small valid files with the
// dtypes, scale tensors and edge cases the reader handles, and shrunk copies
// of real checkpoints. Usage: safetensors_seeds OUT_DIR [MODEL.safetensors ...]
//
// Real checkpoints are too large for the fuzzer's input limit, so each one
// keeps its metadata and first tensors' names and dtypes, with every
// dimension set to 2.

#include <cstdio>
#include <string>
#include <vector>

#include "core/error.h"
#include "safetensors/safetensors_file.h"
#include "support/safetensors_builder.h"

namespace {

using edgelm::testing::SafetensorsBuilder;

constexpr size_t kMaxTensors = 32;

// Writes one seed after checking that the reader accepts it, so that the
// fuzzer starts from inputs that reach the tensor checks.
void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  edgelm::SafetensorsFile::parse(bytes.data(), bytes.size(), path);
  edgelm::testing::write_file_bytes(path, bytes);
}

std::vector<uint8_t> shrink(const edgelm::SafetensorsFile& file) {
  SafetensorsBuilder builder;
  for (const auto& [key, value] : file.metadata()) builder.set_metadata(key, value);

  size_t kept_tensors = 0;
  for (const edgelm::SafetensorsTensor& tensor : file.tensors()) {
    if (kept_tensors++ == kMaxTensors) break;
    std::vector<uint64_t> shape(tensor.shape.size(), 2);
    size_t element_size = edgelm::safetensors_dtype_size(tensor.dtype);
    if (element_size == 0) element_size = 1;
    std::vector<uint8_t> bytes(element_size << shape.size());
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(0x3c + i);
    builder.add(tensor.name, tensor.dtype_name, shape, bytes);
  }
  return builder.build();
}

// Hand-made files: every converted dtype, float8 with each kind of scale,
// types edgelm only lists, empty and scalar tensors, unaligned data.
void write_crafted(const std::string& dir) {
  write(dir + "/crafted-floats.safetensors",
        SafetensorsBuilder()
            .set_metadata("format", "pt")
            .add("flag", "U8", {1}, {1})
            .add_f32("f32", {2, 2}, {1.0f, -2.0f, 0.5f, 1e-40f})
            .add("f16", "F16", {4}, {0x00, 0x3c, 0x01, 0x00, 0x00, 0x7c, 0x00, 0xfe})
            .add_bf16("bf16", {3}, {1.0f, -3.0f, 0.25f})
            .build());

  write(dir + "/crafted-float8.safetensors",
        SafetensorsBuilder()
            .add("a.weight", "F8_E4M3", {2, 3}, {0x38, 0x40, 0xb8, 0x7e, 0x7f, 0x01})
            .add_f32("a.weight_scale", {}, {0.5f})
            .add("b.weight", "F8_E4M3", {2, 2}, {0x38, 0x3c, 0x80, 0xff})
            .add_bf16("b.weight_scale", {2, 1}, {2.0f, 4.0f})
            .add("c.weight", "F8_E4M3", {1, 130}, std::vector<uint8_t>(130, 0x38))
            .add_f32("c.weight_scale_inv", {1, 2}, {1.0f, 2.0f})
            .add_f32("c.input_scale", {1}, {1.0f})
            .build());

  write(dir + "/crafted-other.safetensors",
        SafetensorsBuilder()
            .add("i64", "I64", {1}, std::vector<uint8_t>(8, 0xff))
            .add("i32", "I32", {1}, {1, 0, 0, 0})
            .add("i16", "I16", {1}, {1, 0})
            .add("mask", "BOOL", {2}, {1, 0})
            .add("e5m2", "F8_E5M2", {2}, {0x3c, 0x7c})
            .add("f64", "F64", {1}, std::vector<uint8_t>(8, 0))
            .add("packed", "F4", {4}, {0x12, 0x34})
            .build());

  write(dir + "/crafted-empty.safetensors",
        SafetensorsBuilder()
            .add("empty", "BF16", {0, 4}, {})
            .add("scalar", "F32", {}, {0, 0, 0x80, 0x3f})
            .add("empty_at_end", "F32", {3, 0}, {})
            .build());

  write(dir + "/crafted-no-tensors.safetensors", SafetensorsBuilder().set_metadata("format", "pt").build());
}

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [MODEL.safetensors ...]\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];

  try {
    write_crafted(dir);
    for (int i = 2; i < argc; ++i) {
      auto file = edgelm::SafetensorsFile::open(argv[i]);
      write(dir + "/shrunk-" + std::to_string(i - 1) + "-" + base_name(argv[i]), shrink(*file));
    }
  } catch (const edgelm::Error& error) {
    std::fprintf(stderr, "safetensors_seeds: %s\n", error.what());
    return 1;
  }
  return 0;
}
