// Reads well-formed GGUF images made by the test builder.

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "core/error.h"
#include "gguf/gguf_builder.h"
#include "gguf/gguf_file.h"

namespace edgelm {
namespace {

using testing::ByteWriter;
using testing::gguf_array;
using testing::GgufBuilder;

std::unique_ptr<GgufFile> parse(const std::vector<uint8_t>& bytes) {
  return GgufFile::parse(bytes.data(), bytes.size(), "test.gguf");
}

// One entry of every metadata type, written the same way in v2 and v3.
GgufBuilder every_type(uint32_t version) {
  GgufBuilder builder;
  builder.version(version)
      .kv("u8", GgufType::UINT8, ByteWriter().u8(200))
      .kv("i8", GgufType::INT8, ByteWriter().put<int8_t>(-100))
      .kv("u16", GgufType::UINT16, ByteWriter().put<uint16_t>(60000))
      .kv("i16", GgufType::INT16, ByteWriter().put<int16_t>(-30000))
      .kv("u32", GgufType::UINT32, ByteWriter().u32(4000000000u))
      .kv("i32", GgufType::INT32, ByteWriter().put<int32_t>(-2000000000))
      .kv("f32", GgufType::FLOAT32, ByteWriter().put(1.5f))
      .kv("bool", GgufType::BOOL, ByteWriter().u8(1))
      .kv("string", GgufType::STRING, ByteWriter().str("héllo"))
      .kv("u64", GgufType::UINT64, ByteWriter().u64(18000000000000000000ull))
      .kv("i64", GgufType::INT64, ByteWriter().put<int64_t>(-9000000000000000000ll))
      .kv("f64", GgufType::FLOAT64, ByteWriter().put(0.1))
      .kv("ints", GgufType::ARRAY, gguf_array(GgufType::INT32, 3, ByteWriter().put(1).put(-2).put(3)))
      .kv("floats", GgufType::ARRAY, gguf_array(GgufType::FLOAT32, 2, ByteWriter().put(0.25f).put(-4.0f)))
      .kv_strings("strings", {"a", "", "ccc"});

  // [[1, 2], [], [3]] as uint8 arrays inside an array.
  ByteWriter inner;
  inner.append(gguf_array(GgufType::UINT8, 2, ByteWriter().u8(1).u8(2)));
  inner.append(gguf_array(GgufType::UINT8, 0, ByteWriter()));
  inner.append(gguf_array(GgufType::UINT8, 1, ByteWriter().u8(3)));
  builder.kv("nested", GgufType::ARRAY, gguf_array(GgufType::ARRAY, 3, inner));
  return builder;
}

class GgufVersions : public ::testing::TestWithParam<uint32_t> {};

TEST_P(GgufVersions, EveryMetadataType) {
  std::vector<uint8_t> bytes = every_type(GetParam()).build();
  auto file = parse(bytes);

  EXPECT_EQ(file->version(), GetParam());
  ASSERT_EQ(file->metadata().size(), 16u);
  EXPECT_EQ(file->metadata()[0].first, "u8");
  EXPECT_EQ(file->metadata()[15].first, "nested");
  EXPECT_TRUE(file->tensors().empty());

  EXPECT_EQ(file->get_uint("u8"), 200u);
  EXPECT_EQ(file->get_int("i8"), -100);
  EXPECT_EQ(file->get_uint("u16"), 60000u);
  EXPECT_EQ(file->get_int("i16"), -30000);
  EXPECT_EQ(file->get_uint("u32"), 4000000000u);
  EXPECT_EQ(file->get_int("i32"), -2000000000);
  EXPECT_DOUBLE_EQ(file->get_float("f32"), 1.5);
  EXPECT_TRUE(file->get_bool("bool"));
  EXPECT_EQ(file->get_string("string"), "héllo");
  EXPECT_EQ(file->get_uint("u64"), 18000000000000000000ull);
  EXPECT_EQ(file->get_int("i64"), -9000000000000000000ll);
  EXPECT_DOUBLE_EQ(file->get_float("f64"), 0.1);

  EXPECT_EQ(file->get_int_array("ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(file->get_float_array("floats"), (std::vector<float>{0.25f, -4.0f}));
  EXPECT_EQ(file->get_string_array("strings"), (std::vector<std::string>{"a", "", "ccc"}));
}

TEST_P(GgufVersions, NestedArray) {
  std::vector<uint8_t> bytes = every_type(GetParam()).build();
  auto file = parse(bytes);

  const GgufValue* nested = file->find("nested");
  ASSERT_NE(nested, nullptr);
  ASSERT_EQ(nested->type, GgufType::ARRAY);
  const auto& outer = std::get<GgufArray>(nested->value);
  EXPECT_EQ(outer.element_type, GgufType::ARRAY);
  ASSERT_EQ(outer.items.size(), 3u);

  const auto& first = std::get<GgufArray>(outer.items[0].value);
  EXPECT_EQ(first.element_type, GgufType::UINT8);
  ASSERT_EQ(first.items.size(), 2u);
  EXPECT_EQ(std::get<uint64_t>(first.items[1].value), 2u);
  EXPECT_TRUE(std::get<GgufArray>(outer.items[1].value).items.empty());
  EXPECT_EQ(std::get<uint64_t>(std::get<GgufArray>(outer.items[2].value).items[0].value), 3u);
}

INSTANTIATE_TEST_SUITE_P(Gguf, GgufVersions, ::testing::Values(2u, 3u));

TEST(GgufGetters, OptionalForms) {
  std::vector<uint8_t> bytes = every_type(3).build();
  auto file = parse(bytes);

  EXPECT_FALSE(file->find_string("absent").has_value());
  EXPECT_FALSE(file->find_uint("absent").has_value());
  EXPECT_FALSE(file->find_float("absent").has_value());
  EXPECT_FALSE(file->find_bool("absent").has_value());
  EXPECT_FALSE(file->has("absent"));
  EXPECT_TRUE(file->has("u8"));
  EXPECT_EQ(file->find_string("string"), "héllo");
  EXPECT_EQ(file->find_uint("u32"), 4000000000u);
  EXPECT_EQ(file->find_float("f32"), 1.5);
  EXPECT_EQ(file->find_bool("bool"), true);
}

TEST(GgufGetters, IntegerConversions) {
  std::vector<uint8_t> bytes = every_type(3).build();
  auto file = parse(bytes);

  // Any integer type whose value fits, and floats accept integers.
  EXPECT_EQ(file->get_int("u32"), 4000000000);
  EXPECT_DOUBLE_EQ(file->get_float("u16"), 60000.0);
  EXPECT_EQ(file->get_float_array("ints"), (std::vector<float>{1.0f, -2.0f, 3.0f}));
}

// Returns the message of the Error `action` throws, or "" when it throws none.
template <typename Action>
std::string error_of(Action action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(GgufGetters, MismatchNamesKeyAndType) {
  std::vector<uint8_t> bytes = every_type(3).build();
  auto file = parse(bytes);

  std::string negative = error_of([&] { file->get_uint("i8"); });
  EXPECT_NE(negative.find("'i8'"), std::string::npos) << negative;
  EXPECT_NE(negative.find("int8 -100"), std::string::npos) << negative;

  std::string too_big = error_of([&] { file->get_int("u64"); });
  EXPECT_NE(too_big.find("'u64'"), std::string::npos) << too_big;
  EXPECT_NE(too_big.find("uint64"), std::string::npos) << too_big;

  std::string not_string = error_of([&] { file->get_string("u32"); });
  EXPECT_NE(not_string.find("'u32' has type uint32 but string is expected"), std::string::npos) << not_string;

  std::string not_bool = error_of([&] { file->find_bool("string"); });
  EXPECT_NE(not_bool.find("'string' has type string but bool"), std::string::npos) << not_bool;

  std::string not_strings = error_of([&] { file->get_string_array("ints"); });
  EXPECT_NE(not_strings.find("'ints' is an array of int32"), std::string::npos) << not_strings;

  std::string not_array = error_of([&] { file->get_int_array("u8"); });
  EXPECT_NE(not_array.find("'u8' has type uint8"), std::string::npos) << not_array;

  std::string missing = error_of([&] { file->get_uint("llama.block_count"); });
  EXPECT_NE(missing.find("test.gguf"), std::string::npos) << missing;
  EXPECT_NE(missing.find("'llama.block_count' is missing"), std::string::npos) << missing;
}

TEST(GgufTensors, LayoutAndData) {
  GgufBuilder builder;
  builder.kv_string("general.architecture", "llama")
      .tensor("norm", {64}, DType::F32)
      .tensor("embed", {64, 10}, DType::Q8_0)
      .tensor("ffn", {256, 3}, DType::Q4_K)
      .tensor("half", {5, 2, 3, 1}, DType::F16);
  std::vector<uint8_t> bytes = builder.build();
  auto file = parse(bytes);

  ASSERT_EQ(file->tensors().size(), 4u);
  EXPECT_EQ(file->data_offset() % 32, 0u);
  EXPECT_GE(file->data_offset(), builder.header_size());

  const GgufTensor* norm = file->find_tensor("norm");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->offset, 0u);
  EXPECT_EQ(norm->n_bytes, 256u);
  EXPECT_EQ(norm->data, bytes.data() + file->data_offset());
  EXPECT_EQ(norm->data[7], 7);  // the builder's data pattern

  const GgufTensor* embed = file->find_tensor("embed");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->type, DType::Q8_0);
  EXPECT_EQ(embed->offset, 256u);
  EXPECT_EQ(embed->n_bytes, 10u * 2 * 34);
  EXPECT_EQ(embed->n_rows(), 10u);
  EXPECT_EQ(embed->data[0], 256 % 251);

  const GgufTensor* ffn = file->find_tensor("ffn");
  ASSERT_NE(ffn, nullptr);
  EXPECT_EQ(ffn->n_bytes, 3u * 144);

  const GgufTensor* half = file->find_tensor("half");
  ASSERT_NE(half, nullptr);
  EXPECT_EQ(half->dims, (std::vector<uint64_t>{5, 2, 3, 1}));
  EXPECT_EQ(half->n_elements(), 30u);
  EXPECT_EQ(half->n_rows(), 6u);
  EXPECT_EQ(half->n_bytes, 60u);
}

TEST(GgufTensors, CustomAlignment) {
  GgufBuilder builder;
  builder.alignment(256).kv_u32("general.alignment", 256).tensor("a", {3}, DType::F32).tensor("b", {3}, DType::F32);
  std::vector<uint8_t> bytes = builder.build();
  auto file = parse(bytes);

  EXPECT_EQ(file->alignment(), 256u);
  EXPECT_EQ(file->data_offset() % 256, 0u);
  EXPECT_EQ(file->find_tensor("b")->offset, 256u);
}

TEST(GgufTensors, ZeroTensorsWithoutPadding) {
  // Vocabulary-only files end right after the metadata, before the aligned data section.
  std::vector<uint8_t> bytes = GgufBuilder().kv_string("tokenizer.ggml.model", "gpt2").build();
  ASSERT_NE(bytes.size() % 32, 0u);
  auto file = parse(bytes);
  EXPECT_EQ(file->get_string("tokenizer.ggml.model"), "gpt2");
  EXPECT_TRUE(file->tensors().empty());
}

TEST(GgufStrings, ValuesKeepInvalidUtf8) {
  // Token pieces may be arbitrary bytes, so values are kept as written.
  std::string bytes_piece("\xff\xfe\x00z", 4);
  std::vector<uint8_t> bytes = GgufBuilder().kv_strings("tokens", {bytes_piece, "ok"}).build();
  auto file = parse(bytes);
  EXPECT_EQ(file->get_string_array("tokens")[0], bytes_piece);
}

TEST(GgufStrings, Utf8Keys) {
  std::vector<uint8_t> bytes = GgufBuilder().kv_u32("général.clé", 7).build();
  auto file = parse(bytes);
  EXPECT_EQ(file->get_uint("général.clé"), 7u);
}

}  // namespace
}  // namespace edgelm
