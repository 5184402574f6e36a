// Writes a seed corpus for gguf_fuzz: small valid GGUF files with the key
// layout and tensor types of real models, plus hand-made files that reach
// every metadata type. Usage: gguf_seeds OUT_DIR [MODEL.gguf ...]
//
// Real models are too large for the fuzzer's input limit, so each one is
// shrunk: arrays keep their first 16 items and every tensor keeps its type
// and rank but gets one block per row and one row.

#include <cstdio>
#include <fstream>
#include <string>

#include "core/error.h"
#include "gguf/gguf_builder.h"
#include "gguf/gguf_file.h"

namespace {

using edgelm::DType;
using edgelm::GgufType;
using edgelm::GgufValue;
using edgelm::testing::ByteWriter;
using edgelm::testing::gguf_array;
using edgelm::testing::GgufBuilder;

constexpr size_t kMaxArrayItems = 16;
constexpr size_t kMaxTensors = 32;

// Encodes a value's payload, keeping at most kMaxArrayItems per array.
ByteWriter encode(const GgufValue& value) {
  ByteWriter out;
  switch (value.type) {
    case GgufType::UINT8:
      return out.u8(static_cast<uint8_t>(std::get<uint64_t>(value.value)));
    case GgufType::INT8:
      return out.put(static_cast<int8_t>(std::get<int64_t>(value.value)));
    case GgufType::UINT16:
      return out.put(static_cast<uint16_t>(std::get<uint64_t>(value.value)));
    case GgufType::INT16:
      return out.put(static_cast<int16_t>(std::get<int64_t>(value.value)));
    case GgufType::UINT32:
      return out.u32(static_cast<uint32_t>(std::get<uint64_t>(value.value)));
    case GgufType::INT32:
      return out.put(static_cast<int32_t>(std::get<int64_t>(value.value)));
    case GgufType::FLOAT32:
      return out.put(static_cast<float>(std::get<double>(value.value)));
    case GgufType::BOOL:
      return out.u8(std::get<bool>(value.value) ? 1 : 0);
    case GgufType::STRING:
      return out.str(std::get<std::string>(value.value));
    case GgufType::UINT64:
      return out.u64(std::get<uint64_t>(value.value));
    case GgufType::INT64:
      return out.put(std::get<int64_t>(value.value));
    case GgufType::FLOAT64:
      return out.put(std::get<double>(value.value));
    case GgufType::ARRAY: {
      const auto& array = std::get<edgelm::GgufArray>(value.value);
      size_t kept_items = std::min(array.items.size(), kMaxArrayItems);
      ByteWriter elements;
      for (size_t i = 0; i < kept_items; ++i) elements.append(encode(array.items[i]));
      return gguf_array(array.element_type, kept_items, elements);
    }
  }
  return out;
}

// Writes one seed after checking that the reader accepts it, so that the
// fuzzer starts from inputs that reach the tensor checks.
void write(const std::string& path, const std::vector<uint8_t>& bytes) {
  edgelm::GgufFile::parse(bytes.data(), bytes.size(), path);

  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) edgelm::fail("cannot write seed '{}'", path);
}

std::vector<uint8_t> shrink(const edgelm::GgufFile& file) {
  GgufBuilder builder;
  builder.version(file.version()).alignment(file.alignment());
  for (const auto& [key, value] : file.metadata()) builder.kv(key, value.type, encode(value));

  size_t kept_tensors = 0;
  for (const edgelm::GgufTensor& tensor : file.tensors()) {
    if (kept_tensors++ == kMaxTensors) break;
    std::vector<uint64_t> dims(tensor.dims.size(), 1);
    dims[0] = edgelm::dtype_info(tensor.type).block_size;
    builder.tensor(tensor.name, dims, tensor.type);
  }
  return builder.build();
}

// Hand-made files: every metadata type, nested arrays, both versions, a
// custom alignment and a file without tensors.
void write_crafted(const std::string& dir) {
  for (uint32_t version : {2u, 3u}) {
    ByteWriter nested;
    nested.append(gguf_array(GgufType::UINT16, 2, ByteWriter().put<uint16_t>(1).put<uint16_t>(2)));
    nested.append(gguf_array(GgufType::STRING, 1, ByteWriter().str("x")));

    GgufBuilder builder;
    builder.version(version)
        .alignment(64)
        .kv_u32("general.alignment", 64)
        .kv_string("general.architecture", "llama")
        .kv("u8", GgufType::UINT8, ByteWriter().u8(1))
        .kv("i8", GgufType::INT8, ByteWriter().put<int8_t>(-1))
        .kv("i16", GgufType::INT16, ByteWriter().put<int16_t>(-2))
        .kv("i32", GgufType::INT32, ByteWriter().put<int32_t>(-3))
        .kv("bool", GgufType::BOOL, ByteWriter().u8(1))
        .kv("i64", GgufType::INT64, ByteWriter().put<int64_t>(-4))
        .kv("f64", GgufType::FLOAT64, ByteWriter().put(2.5))
        .kv_u64("u64", 5)
        .kv_f32("f32", 0.5f)
        .kv("nested", GgufType::ARRAY, gguf_array(GgufType::ARRAY, 2, nested))
        .kv_strings("tokenizer.ggml.tokens", {"<s>", "a",
                                              "\xe2\x96\x81"
                                              "b"})
        .tensor("token_embd.weight", {32, 3}, DType::Q8_0)
        .tensor("output_norm.weight", {32}, DType::F32)
        .tensor("blk.0.ffn_down.weight", {256, 2}, DType::Q6_K)
        .tensor("blk.0.attn_q.weight", {4, 4}, DType::BF16);
    write(dir + "/crafted-v" + std::to_string(version) + ".gguf", builder.build());
  }
  write(dir + "/crafted-vocab.gguf", GgufBuilder().kv_strings("tokenizer.ggml.merges", {"a b", "ab c"}).build());
}

std::string base_name(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s OUT_DIR [MODEL.gguf ...]\n", argv[0]);
    return 2;
  }
  std::string dir = argv[1];

  try {
    write_crafted(dir);
    for (int i = 2; i < argc; ++i) {
      auto file = edgelm::GgufFile::open(argv[i]);
      write(dir + "/shrunk-" + base_name(argv[i]), shrink(*file));
    }
  } catch (const edgelm::Error& error) {
    std::fprintf(stderr, "gguf_seeds: %s\n", error.what());
    return 1;
  }
  return 0;
}
