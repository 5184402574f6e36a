// Rejects broken GGUF images with messages that name the field and the value.

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <string>

#include "core/error.h"
#include "gguf/gguf_builder.h"
#include "gguf/gguf_file.h"

namespace edgelm {
namespace {

using testing::ByteWriter;
using testing::gguf_array;
using testing::GgufBuilder;

// Returns the message parsing `bytes` fails with, or "" when it succeeds.
std::string parse_error(const std::vector<uint8_t>& bytes) {
  try {
    GgufFile::parse(bytes.data(), bytes.size(), "bad.gguf");
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

// Checks that parsing fails and the message contains each of `parts`, the
// file name and the advice on what to do.
void expect_error(const std::vector<uint8_t>& bytes, std::initializer_list<std::string> parts,
                  std::string_view advice = "re-download or re-convert it") {
  std::string message = parse_error(bytes);
  ASSERT_FALSE(message.empty()) << "parsing succeeded";
  EXPECT_NE(message.find("bad.gguf"), std::string::npos) << message;
  EXPECT_NE(message.find(advice), std::string::npos) << message;
  for (const std::string& part : parts) {
    EXPECT_NE(message.find(part), std::string::npos) << "expected \"" << part << "\" in: " << message;
  }
}

std::vector<uint8_t> header(std::string_view magic, uint32_t version) {
  ByteWriter out;
  for (char c : magic) out.u8(static_cast<uint8_t>(c));
  out.u32(version).u64(0).u64(0);
  return out.bytes();
}

TEST(GgufHeader, BadMagic) {
  std::vector<uint8_t> bytes = header("PK\x03\x04", 3);
  expect_error(bytes, {"not a GGUF file", "50 4b 03 04", "PK\\x03\\x04"}, "Check the path");
}

TEST(GgufHeader, TooShort) {
  expect_error({}, {"not a GGUF file", "only 0 bytes"}, "Check the path");
  expect_error({'G', 'G'}, {"only 2 bytes"}, "Check the path");
}

TEST(GgufHeader, Versions) {
  expect_error(header("GGUF", 1), {"version 1 is not supported"}, "Re-convert the model");
  expect_error(header("GGUF", 4), {"version 4 is not supported"});
  expect_error(header("GGUF", 0x03000000), {"big-endian"}, "convert the model again");
}

TEST(GgufHeader, CountsBeyondFile) {
  expect_error(GgufBuilder().kv_count(1000000000000).build(), {"kv_count 1000000000000", "at byte 16"});
  expect_error(GgufBuilder().tensor_count(uint64_t{1} << 60).build(), {"tensor_count 1152921504606846976"});
}

// Every prefix of a valid image that stops inside the header, the metadata or
// the tensor infos fails with an Error instead of reading past the end.
TEST(GgufTruncation, EveryPrefixFails) {
  GgufBuilder builder = GgufBuilder()
                            .kv_string("general.architecture", "llama")
                            .kv_strings("tokenizer.ggml.tokens", {"a", "bc"})
                            .kv("nested", GgufType::ARRAY,
                                gguf_array(GgufType::ARRAY, 1, gguf_array(GgufType::INT16, 2, ByteWriter().u32(7))))
                            .tensor("w", {32, 2}, DType::Q8_0);
  std::vector<uint8_t> bytes = builder.build();
  ASSERT_EQ(parse_error(bytes), "");

  for (size_t length = 4; length < bytes.size(); ++length) {
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + length);
    std::string message = parse_error(prefix);
    ASSERT_FALSE(message.empty()) << "prefix of " << length << " bytes parsed";
    EXPECT_NE(message.find("re-download or re-convert it"), std::string::npos) << message;
  }
}

TEST(GgufTruncation, NamesFieldAndOffset) {
  std::vector<uint8_t> bytes = GgufBuilder().kv_u64("general.size", 5).build();
  bytes.resize(bytes.size() - 3);
  expect_error(bytes, {"metadata 'general.size'", "needs 8 bytes from byte 48", "file ends at byte 53"});

  std::vector<uint8_t> tensor = GgufBuilder().tensor("blk.0.attn_q.weight", {32, 4}, DType::F32).build();
  tensor.resize(24 + 8 + 19 + 4 + 8 + 8 + 4 + 3);
  expect_error(tensor, {"tensor 'blk.0.attn_q.weight' offset", "from byte 75"});

  std::vector<uint8_t> header_only = GgufBuilder().build();
  header_only.resize(12);
  expect_error(header_only, {"inside tensor_count", "from byte 8"});
}

TEST(GgufStrings, LengthBeyondFile) {
  std::vector<uint8_t> bytes = GgufBuilder().kv("key", GgufType::STRING, ByteWriter().u64(~uint64_t{0})).build();
  expect_error(bytes, {"metadata 'key' length 18446744073709551615", "at byte 39"});

  ByteWriter key;
  key.u64(1000).u8('k');
  std::vector<uint8_t> bad_key = GgufBuilder().kv_count(1).build();
  bad_key.insert(bad_key.end(), key.bytes().begin(), key.bytes().end());
  bad_key.resize(bad_key.size() + 20);
  expect_error(bad_key, {"metadata key 0 length 1000"});
}

TEST(GgufStrings, ArrayCountBeyondFile) {
  std::vector<uint8_t> bytes =
      GgufBuilder()
          .kv("tokenizer.ggml.scores", GgufType::ARRAY, gguf_array(GgufType::FLOAT32, 1u << 30, ByteWriter().u32(0)))
          .build();
  expect_error(bytes, {"metadata 'tokenizer.ggml.scores' array length 1073741824", "4 bytes each"});

  std::vector<uint8_t> strings =
      GgufBuilder()
          .kv("tokens", GgufType::ARRAY, gguf_array(GgufType::STRING, 3, ByteWriter().str("a").str("b")))
          .build();
  expect_error(strings, {"metadata 'tokens' array length 3"});
}

TEST(GgufStrings, StringElementBeyondFile) {
  ByteWriter elements;
  elements.str("a").u64(500).u8('x');
  std::vector<uint8_t> bytes =
      GgufBuilder().kv("tokens", GgufType::ARRAY, gguf_array(GgufType::STRING, 2, elements)).build();
  expect_error(bytes, {"metadata 'tokens'[1] length 500"});
}

TEST(GgufStrings, InvalidKeys) {
  expect_error(GgufBuilder().kv_u32("", 1).build(), {"metadata key 0", "\"\" (0 bytes)"});
  expect_error(GgufBuilder().kv_u32("ok", 1).kv_u32("bad\xff", 1).build(), {"metadata key 1", "bad\\xff"});
}

TEST(GgufMetadata, DuplicateKey) {
  std::vector<uint8_t> bytes = GgufBuilder().kv_u32("general.alignment", 32).kv_u32("a", 1).kv_u32("a", 2).build();
  expect_error(bytes, {"metadata key 'a' appears twice", "entries 1 and 2"});
}

TEST(GgufMetadata, DuplicateUtf8KeyShownAsWritten) {
  std::vector<uint8_t> bytes = GgufBuilder().kv_u32("général.clé", 1).kv_u32("général.clé", 2).build();
  expect_error(bytes, {"metadata key 'général.clé' appears twice"});
}

TEST(GgufMetadata, UnknownValueType) {
  expect_error(GgufBuilder().kv_raw("general.name", 13, ByteWriter().u32(0)).build(),
               {"metadata 'general.name' has unknown value type 13"});
  expect_error(
      GgufBuilder().kv("list", GgufType::ARRAY, gguf_array(static_cast<GgufType>(99), 0, ByteWriter())).build(),
      {"metadata 'list' is an array of unknown value type 99"});
}

TEST(GgufMetadata, NestingLimit) {
  // Eight levels parse; nine are rejected.
  auto nested = [](int levels) {
    ByteWriter value = gguf_array(GgufType::UINT8, 1, ByteWriter().u8(5));
    for (int level = 1; level < levels; ++level) value = gguf_array(GgufType::ARRAY, 1, value);
    return GgufBuilder().kv("deep", GgufType::ARRAY, value).build();
  };
  EXPECT_EQ(parse_error(nested(8)), "");
  expect_error(nested(9), {"metadata 'deep'[0][0][0][0][0][0][0][0]", "9 levels deep", "limit of 8"});
}

TEST(GgufMetadata, ValueLimit) {
  // 2^23 + 1 one-byte values fit in the file but pass the metadata limit.
  uint64_t count = (uint64_t{1} << 23) + 1;
  ByteWriter elements;
  for (uint64_t i = 0; i < count; ++i) elements.u8(0);
  std::vector<uint8_t> bytes =
      GgufBuilder().kv("big", GgufType::ARRAY, gguf_array(GgufType::UINT8, count, elements)).build();
  expect_error(bytes, {"metadata 'big'", "8388610 values", "limit of 8388608"});
}

TEST(GgufAlignment, Invalid) {
  expect_error(GgufBuilder().kv_u32("general.alignment", 48).build(),
               {"'general.alignment' is 48 but must be a power of two"});
  expect_error(GgufBuilder().kv_u32("general.alignment", 0).build(), {"'general.alignment' is 0"});
  expect_error(GgufBuilder().kv_u64("general.alignment", 64).build(),
               {"'general.alignment' has type uint64 but must be uint32"});
}

TEST(GgufTensorInfo, BadDims) {
  expect_error(GgufBuilder().tensor("t", {}, DType::F32).build(), {"tensor 't' n_dims is 0", "1 to 4"});
  expect_error(GgufBuilder().tensor("t", {1, 1, 1, 1, 1}, DType::F32).build(), {"tensor 't' n_dims is 5"});
  expect_error(GgufBuilder().tensor("t", {4, 0}, DType::F32).build(), {"tensor 't' dims[1] is 0", "[4, 0]"});
  expect_error(GgufBuilder().tensor("t", {uint64_t{1} << 32, uint64_t{1} << 32}, DType::F32).build(),
               {"tensor 't' dims [4294967296, 4294967296]", "2^63 elements"});
  expect_error(GgufBuilder().tensor("t", {uint64_t{1} << 62, 1}, DType::F32).build(),
               {"tensor 't' with dims [4611686018427387904, 1] and type f32 needs more than 2^64 bytes"});
}

TEST(GgufTensorInfo, RowNotWholeBlocks) {
  expect_error(GgufBuilder().tensor("blk.0.ffn_up.weight", {33, 2}, DType::Q8_0).build(),
               {"tensor 'blk.0.ffn_up.weight' row length dims[0] = 33", "q8_0 block size 32"});
}

TEST(GgufTensorInfo, KQuantRowNotWholeBlocks) {
  expect_error(GgufBuilder().tensor("blk.3.ffn_down.weight", {300, 4}, DType::Q4_K).build(),
               {"tensor 'blk.3.ffn_down.weight' row length dims[0] = 300", "q4_k block size 256"});
}

TEST(GgufTensorData, TruncatedKQuantBlocks) {
  // Two Q6_K rows of 256 need 2 x 210 bytes; the data section has 300.
  GgufBuilder builder = GgufBuilder().tensor("blk.0.attn_v.weight", {256, 2}, DType::Q6_K).data_size(300);
  expect_error(builder.build(), {"tensor 'blk.0.attn_v.weight' offset 0 with 420 bytes", "ends past the end of the file"});
}

TEST(GgufTensorInfo, UnknownType) {
  std::vector<uint8_t> bytes = GgufBuilder().tensor_raw("output.weight", {32, 2}, 99).build();
  expect_error(bytes, {"tensor 'output.weight' has unknown type id 99"}, "Convert the model to a supported type");
  expect_error(GgufBuilder().tensor_raw("x", {32}, 4).build(), {"tensor 'x' has unknown type id 4"}, "newer edgelm");
}

TEST(GgufTensorInfo, BadNames) {
  expect_error(GgufBuilder().tensor("a", {4}, DType::F32).tensor("a", {4}, DType::F32).build(),
               {"tensor name 'a' appears twice", "tensors 0 and 1"});
  expect_error(GgufBuilder().tensor("", {4}, DType::F32).build(), {"tensor 0 name", "\"\" (0 bytes)"});
  expect_error(GgufBuilder().tensor(std::string(65, 'n'), {4}, DType::F32).build(), {"(65 bytes)", "1 to 64 bytes"});
}

TEST(GgufTensorData, OffsetNotAligned) {
  std::vector<uint8_t> bytes = GgufBuilder().tensor("blk.0.attn_q.weight", {8}, DType::F32, 16).build();
  expect_error(bytes, {"tensor 'blk.0.attn_q.weight' offset 16 is not a multiple of the alignment 32"});
}

TEST(GgufTensorData, PastEndOfFile) {
  GgufBuilder builder = GgufBuilder().tensor("w", {64}, DType::F32).data_size(100);
  expect_error(builder.build(), {"tensor 'w' offset 0 with 256 bytes", "ends past the end of the file"});

  std::vector<uint8_t> far = GgufBuilder().tensor("w", {8}, DType::F32, uint64_t{1} << 40).data_size(32).build();
  expect_error(far, {"tensor 'w' offset 1099511627776"});

  // An offset near 2^64 must not wrap around to a small address.
  uint64_t wrapping = ~uint64_t{0} - 31;
  std::vector<uint8_t> wrap = GgufBuilder().tensor("w", {8}, DType::F32, wrapping).data_size(32).build();
  expect_error(wrap, {"tensor 'w' offset 18446744073709551584"});
}

TEST(GgufTensorData, Overlap) {
  std::vector<uint8_t> bytes =
      GgufBuilder().tensor("a", {64}, DType::F32, 0).tensor("b", {8}, DType::F32, 224).data_size(512).build();
  expect_error(bytes, {"tensor 'a' (offset 0, 256 bytes) overlaps tensor 'b' (offset 224)"});

  std::vector<uint8_t> same =
      GgufBuilder().tensor("a", {8}, DType::F32, 64).tensor("b", {8}, DType::F32, 64).data_size(512).build();
  EXPECT_NE(parse_error(same).find("overlaps"), std::string::npos);
}

TEST(GgufFileErrors, NotGgufOnDisk) {
  std::string path = ::testing::TempDir() + "gguf_errors_not_gguf.bin";
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"model_type\": \"gemma2\"}";
  }
  try {
    GgufFile::open(path);
    FAIL() << "no error";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find(path), std::string::npos) << message;
    EXPECT_NE(message.find("7b 22 6d 6f"), std::string::npos) << message;
  }
  std::remove(path.c_str());
}

}  // namespace
}  // namespace edgelm
