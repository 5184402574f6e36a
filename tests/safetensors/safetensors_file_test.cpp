// Reads the real safetensors fixture, rejects broken images with messages that
// name the file and the tensor, and converts F16, BF16 and F8_E4M3 bit patterns.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "core/error.h"
#include "gguf/gguf_file.h"
#include "quant/temp_dir.h"
#include "safetensors/safetensors_file.h"
#include "support/safetensors_builder.h"

namespace edgelm {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::SafetensorsBuilder;
using testing::to_bytes;

constexpr const char* kName = "bad.safetensors";

std::string fixture(const std::string& name) { return std::string(EDGELM_FIXTURES_DIR) + "/" + name; }

// Returns the message parsing `image` fails with, or "" when it succeeds.
std::string parse_error(const std::vector<uint8_t>& image) {
  try {
    SafetensorsFile::parse(image.data(), image.size(), kName);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

// The message for a hand-written header followed by `data_size` zero bytes.
std::string header_error(std::string_view header, size_t data_size = 16) {
  return parse_error(SafetensorsBuilder::image(header, std::vector<uint8_t>(data_size, 0)));
}

std::vector<float> convert(const SafetensorsTensor& tensor) {
  std::vector<float> out(tensor.n_elements());
  safetensors_to_float(tensor, 0, out.size(), out.data());
  return out;
}

// A one-dimensional tensor of `dtype` over `bytes`, as parse() would return it.
SafetensorsTensor raw_tensor(const std::string& dtype_name, SafetensorsDType dtype, const std::vector<uint8_t>& bytes) {
  SafetensorsTensor tensor;
  tensor.name = "t";
  tensor.dtype_name = dtype_name;
  tensor.dtype = dtype;
  tensor.shape = {bytes.size() / safetensors_dtype_size(dtype)};
  tensor.data = bytes.data();
  tensor.n_bytes = bytes.size();
  return tensor;
}

// ---- The real fixture --------------------------------------------------------------------------

TEST(SafetensorsFixture, TensorList) {
  auto file = SafetensorsFile::open(fixture("tiny-gemma2/model.safetensors"));

  ASSERT_EQ(file->tensors().size(), 68u);
  EXPECT_EQ(file->metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_EQ(file->tensors().front().name, "model.embed_tokens.weight");
  EXPECT_EQ(file->tensors().back().name, "model.norm.weight");

  const SafetensorsTensor* embedding = file->find("model.embed_tokens.weight");
  ASSERT_NE(embedding, nullptr);
  EXPECT_EQ(embedding->dtype, SafetensorsDType::BF16);
  EXPECT_EQ(embedding->dtype_name, "BF16");
  EXPECT_EQ(embedding->shape, (std::vector<uint64_t>{8192, 256}));
  EXPECT_EQ(embedding->n_elements(), 8192u * 256u);
  EXPECT_EQ(embedding->n_bytes, 8192u * 256u * 2u);

  const SafetensorsTensor* down = file->find("model.layers.3.mlp.down_proj.weight");
  ASSERT_NE(down, nullptr);
  EXPECT_EQ(down->shape, (std::vector<uint64_t>{256, 768}));
  const SafetensorsTensor* k_proj = file->find("model.layers.5.self_attn.k_proj.weight");
  ASSERT_NE(k_proj, nullptr);
  EXPECT_EQ(k_proj->shape, (std::vector<uint64_t>{128, 256}));
  const SafetensorsTensor* norm = file->find("model.norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->shape, (std::vector<uint64_t>{256}));
  EXPECT_EQ(file->find("lm_head.weight"), nullptr);

  // Offset order: each tensor's data starts where the previous one ends.
  for (size_t i = 1; i < file->tensors().size(); ++i) {
    const SafetensorsTensor& before = file->tensors()[i - 1];
    EXPECT_EQ(before.data + before.n_bytes, file->tensors()[i].data) << file->tensors()[i].name;
  }
}

// llama.cpp's converter writes token_embd.weight unchanged, so the bf16
// values widened to float equal the f32 GGUF's values exactly.
TEST(SafetensorsFixture, EmbeddingMatchesGguf) {
  auto file = SafetensorsFile::open(fixture("tiny-gemma2/model.safetensors"));
  auto gguf = GgufFile::open(fixture("tiny-gemma2-f32.gguf"));
  const SafetensorsTensor* embedding = file->find("model.embed_tokens.weight");
  const GgufTensor* reference = gguf->find_tensor("token_embd.weight");
  ASSERT_NE(embedding, nullptr);
  ASSERT_NE(reference, nullptr);
  ASSERT_EQ(reference->type, DType::F32);
  ASSERT_EQ(reference->n_elements(), embedding->n_elements());

  // The first two rows, then the end of the last row.
  struct Range {
    uint64_t first;
    uint64_t count;
  };
  for (Range range : {Range{0, 512}, Range{8191 * 256 + 100, 156}}) {
    const uint64_t first = range.first;
    std::vector<float> values(range.count);
    safetensors_to_float(*embedding, first, values.size(), values.data());
    std::vector<float> expected(values.size());
    std::memcpy(expected.data(), reference->data + first * 4, expected.size() * 4);
    for (size_t i = 0; i < values.size(); ++i) {
      ASSERT_EQ(values[i], expected[i]) << "element " << first + i;
    }
  }

  float first_value = 0;
  safetensors_to_float(*embedding, 0, 1, &first_value);
  EXPECT_NE(first_value, 0.0f);
}

// ---- Valid synthetic images --------------------------------------------------------------------

TEST(SafetensorsFile, OrdersTensorsByOffset) {
  // JSON objects are read in key order, which here is the reverse of the data order.
  SafetensorsBuilder builder;
  builder.add_f32("z.first", {2}, {1.0f, 2.0f}).add_f32("a.second", {1}, {3.0f}).set_metadata("format", "pt");
  std::vector<uint8_t> image = builder.build();
  auto file = SafetensorsFile::parse(image.data(), image.size(), "good.safetensors");

  EXPECT_EQ(file->path(), "good.safetensors");
  ASSERT_EQ(file->tensors().size(), 2u);
  EXPECT_EQ(file->tensors()[0].name, "z.first");
  EXPECT_EQ(file->tensors()[1].name, "a.second");
  EXPECT_EQ(file->find("a.second"), &file->tensors()[1]);
  EXPECT_EQ(file->find("missing"), nullptr);
  EXPECT_EQ(file->metadata().at("format"), "pt");
  EXPECT_EQ(convert(file->tensors()[0]), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(convert(file->tensors()[1]), (std::vector<float>{3.0f}));
}

TEST(SafetensorsFile, AcceptsEmptyAndScalarTensors) {
  std::string header =
      R"({"empty":{"dtype":"BF16","shape":[0,4],"data_offsets":[0,0]},)"
      R"("scalar":{"dtype":"F32","shape":[],"data_offsets":[0,4]},)"
      R"("empty_at_end":{"dtype":"F32","shape":[3,0],"data_offsets":[4,4]}})"
      "        ";
  std::vector<uint8_t> image = SafetensorsBuilder::image(header, to_bytes(std::vector<float>{2.5f}));
  auto file = SafetensorsFile::parse(image.data(), image.size(), "good.safetensors");

  ASSERT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->tensors()[0].name, "empty");
  EXPECT_EQ(file->tensors()[0].n_elements(), 0u);
  EXPECT_EQ(file->tensors()[0].n_bytes, 0u);
  EXPECT_EQ(file->tensors()[1].name, "scalar");
  EXPECT_EQ(file->tensors()[1].n_elements(), 1u);
  EXPECT_EQ(convert(file->tensors()[1]), (std::vector<float>{2.5f}));
  EXPECT_EQ(file->tensors()[2].name, "empty_at_end");
  EXPECT_TRUE(file->metadata().empty());
}

TEST(SafetensorsFile, KeepsOtherDtypes) {
  SafetensorsBuilder builder;
  builder.add("ids", "I64", {2}, std::vector<uint8_t>(16, 1))
      .add("mask", "BOOL", {3}, {1, 0, 1})
      .add("packed", "F4", {4}, {0x12, 0x34});  // sub-byte: size not checked
  std::vector<uint8_t> image = builder.build();
  auto file = SafetensorsFile::parse(image.data(), image.size(), "good.safetensors");

  ASSERT_EQ(file->tensors().size(), 3u);
  EXPECT_EQ(file->find("ids")->dtype, SafetensorsDType::kOther);
  EXPECT_EQ(file->find("ids")->dtype_name, "I64");
  EXPECT_EQ(file->find("ids")->n_bytes, 16u);
  EXPECT_EQ(file->find("mask")->dtype_name, "BOOL");
  EXPECT_EQ(file->find("packed")->n_bytes, 2u);

  float out = 0;
  try {
    safetensors_to_float(*file->find("ids"), 0, 1, &out);
    FAIL() << "converting I64 succeeded";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), AllOf(HasSubstr("'ids'"), HasSubstr("I64")));
  }
}

TEST(SafetensorsFile, OpensFileFromDisk) {
  testing::TempDir dir;
  SafetensorsBuilder builder;
  builder.add_bf16("w", {2, 2}, {1.0f, -2.0f, 0.5f, 3.0f});
  builder.write(dir.file("model.safetensors"));

  auto file = SafetensorsFile::open(dir.file("model.safetensors"));
  EXPECT_EQ(file->path(), dir.file("model.safetensors"));
  ASSERT_NE(file->find("w"), nullptr);
  EXPECT_EQ(convert(*file->find("w")), (std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f}));

  EXPECT_THAT([&] { SafetensorsFile::open(dir.file("absent.safetensors")); },
              ::testing::ThrowsMessage<Error>(HasSubstr("absent.safetensors")));
}

// ---- Conversion ------------------------------------------------------------------------------

TEST(SafetensorsToFloat, F16BitPatterns) {
  std::vector<uint16_t> bits = {0x3c00, 0xc000, 0x0001, 0x03ff, 0x0400, 0x7bff, 0x7c00, 0xfc00, 0x7e00, 0x8000};
  std::vector<uint8_t> bytes = to_bytes(bits);
  std::vector<float> out = convert(raw_tensor("F16", SafetensorsDType::F16, bytes));

  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -2.0f);
  EXPECT_EQ(out[2], std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(out[3], std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(out[4], std::ldexp(1.0f, -14));  // smallest normal
  EXPECT_EQ(out[5], 65504.0f);
  EXPECT_EQ(out[6], std::numeric_limits<float>::infinity());
  EXPECT_EQ(out[7], -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(out[8]));
  EXPECT_EQ(out[9], 0.0f);
  EXPECT_TRUE(std::signbit(out[9]));
}

TEST(SafetensorsToFloat, Bf16BitPatterns) {
  std::vector<uint16_t> bits = {0x3f80, 0xc040, 0x0001, 0x7f7f, 0x7f80, 0x7fc0, 0x8000};
  std::vector<uint8_t> bytes = to_bytes(bits);
  std::vector<float> out = convert(raw_tensor("BF16", SafetensorsDType::BF16, bytes));

  EXPECT_EQ(out[0], 1.0f);
  EXPECT_EQ(out[1], -3.0f);
  EXPECT_EQ(out[2], std::ldexp(1.0f, -133));  // smallest subnormal
  EXPECT_EQ(out[3], std::ldexp(255.0f, 120));  // largest finite: 1.9921875 * 2^127
  EXPECT_EQ(out[4], std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(out[5]));
  EXPECT_EQ(out[6], 0.0f);
  EXPECT_TRUE(std::signbit(out[6]));
}

TEST(SafetensorsToFloat, F8E4M3BitPatterns) {
  struct Case {
    uint8_t bits;
    float value;
  };
  const std::vector<Case> cases = {
      {0x00, 0.0f},                      // zero
      {0x01, std::ldexp(1.0f, -9)},      // smallest subnormal
      {0x07, std::ldexp(7.0f, -9)},      // largest subnormal
      {0x08, std::ldexp(1.0f, -6)},      // smallest normal
      {0x38, 1.0f},                      // exponent 7 = bias
      {0x3c, 1.5f},                      // mantissa 4/8
      {0x40, 2.0f},                      //
      {0xb8, -1.0f},                     //
      {0x77, 240.0f},                    // 1.875 * 2^7
      {0x78, 256.0f},                    // exponent bits 1111 are finite
      {0x7e, 448.0f},                    // largest value
      {0xfe, -448.0f},                   //
  };
  std::vector<uint8_t> bytes;
  for (const Case& c : cases) bytes.push_back(c.bits);
  bytes.push_back(0x80);  // negative zero
  bytes.push_back(0x7f);  // NaN
  bytes.push_back(0xff);  // NaN with the sign bit

  std::vector<float> out = convert(raw_tensor("F8_E4M3", SafetensorsDType::F8_E4M3, bytes));
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(out[i], cases[i].value) << "bits 0x" << std::hex << int{cases[i].bits};
  }
  EXPECT_EQ(out[cases.size()], 0.0f);
  EXPECT_TRUE(std::signbit(out[cases.size()]));
  EXPECT_TRUE(std::isnan(out[cases.size() + 1]));
  EXPECT_TRUE(std::isnan(out[cases.size() + 2]));
}

// A F32 tensor after a 1-byte tensor starts at an odd address.
TEST(SafetensorsToFloat, UnalignedF32) {
  SafetensorsBuilder builder;
  builder.add("flag", "U8", {1}, {7}).add_f32("w", {3}, {1.25f, -7.0f, 1e30f});
  std::vector<uint8_t> image = builder.build();
  auto file = SafetensorsFile::parse(image.data(), image.size(), "good.safetensors");
  const SafetensorsTensor* w = file->find("w");
  ASSERT_NE(w, nullptr);
  EXPECT_NE(reinterpret_cast<uintptr_t>(w->data) % 4, 0u);

  EXPECT_EQ(convert(*w), (std::vector<float>{1.25f, -7.0f, 1e30f}));
  std::vector<float> middle(2);
  safetensors_to_float(*w, 1, 2, middle.data());
  EXPECT_EQ(middle, (std::vector<float>{-7.0f, 1e30f}));
}

TEST(SafetensorsToFloat, RejectsRangePastEnd) {
  std::vector<uint8_t> bytes = to_bytes(std::vector<uint16_t>{0x3f80, 0x4000});
  SafetensorsTensor tensor = raw_tensor("BF16", SafetensorsDType::BF16, bytes);
  std::vector<float> out(4);

  safetensors_to_float(tensor, 2, 0, out.data());  // empty range at the end
  EXPECT_THAT([&] { safetensors_to_float(tensor, 1, 2, out.data()); },
              ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("'t'"), HasSubstr("2 elements"))));
  EXPECT_THAT([&] { safetensors_to_float(tensor, std::numeric_limits<uint64_t>::max(), 2, out.data()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("'t'")));

  // A shape that claims more elements than there are bytes.
  tensor.shape = {4};
  EXPECT_THAT([&] { safetensors_to_float(tensor, 0, 4, out.data()); },
              ::testing::ThrowsMessage<Error>(HasSubstr("4 bytes")));
}

// ---- Errors ----------------------------------------------------------------------------------

TEST(SafetensorsErrors, ShortFile) {
  std::vector<uint8_t> image = {1, 0, 0, 0, 0};
  EXPECT_THAT(parse_error(image), AllOf(HasSubstr(kName), HasSubstr("5 bytes")));
  EXPECT_THAT(parse_error({}), AllOf(HasSubstr(kName), HasSubstr("0 bytes")));
}

TEST(SafetensorsErrors, HeaderLengthPastEnd) {
  std::vector<uint8_t> image = SafetensorsBuilder::image_with_length(1000, "{}", std::vector<uint8_t>(8, 0));
  EXPECT_THAT(parse_error(image), AllOf(HasSubstr(kName), HasSubstr("1000 bytes"), HasSubstr("only 10 bytes")));
}

TEST(SafetensorsErrors, HeaderLengthAboveLimit) {
  std::vector<uint8_t> image = SafetensorsBuilder::image_with_length(uint64_t{1} << 40, "{}", {});
  EXPECT_THAT(parse_error(image), AllOf(HasSubstr(kName), HasSubstr("1099511627776"), HasSubstr("104857600")));
}

TEST(SafetensorsErrors, InvalidJson) {
  EXPECT_THAT(header_error(R"({"w": {"dtype": )"), AllOf(HasSubstr(kName), HasSubstr("not valid JSON")));
  EXPECT_THAT(header_error("{\"w\xff\": 1}"), AllOf(HasSubstr(kName), HasSubstr("not valid JSON")));
  EXPECT_THAT(header_error(""), AllOf(HasSubstr(kName), HasSubstr("not valid JSON")));
}

TEST(SafetensorsErrors, HeaderNotObject) {
  EXPECT_THAT(header_error("[1, 2]"), AllOf(HasSubstr(kName), HasSubstr("JSON array")));
  EXPECT_THAT(header_error("\"text\""), AllOf(HasSubstr(kName), HasSubstr("JSON string")));
}

TEST(SafetensorsErrors, EntryNotObject) {
  EXPECT_THAT(header_error(R"({"w": 5})"), AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("JSON number")));
}

TEST(SafetensorsErrors, MissingFields) {
  EXPECT_THAT(header_error(R"({"w": {"shape": [1], "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("no \"dtype\"")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("no \"shape\"")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [1]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("no \"data_offsets\"")));
}

TEST(SafetensorsErrors, WrongFieldTypes) {
  EXPECT_THAT(header_error(R"({"w": {"dtype": 5, "shape": [1], "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("\"dtype\" is a JSON number")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": "1", "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("\"shape\" is a JSON string")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": {"a": 0}}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("\"data_offsets\" is a JSON object")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4, 8]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("has 3 values")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": ["1"], "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("shape[0]"), HasSubstr("not a number")));
}

TEST(SafetensorsErrors, NegativeOrFractionalNumbers) {
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [2, -1], "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("shape[1] value -1 is negative")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("shape[0] value 1.5 is not an integer")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [-4, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("data_offsets[0] value -4 is negative")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4.0]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("data_offsets[1]"), HasSubstr("not an integer")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 18446744073709551616]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("data_offsets[1]")));
}

TEST(SafetensorsErrors, ShapeOverflow) {
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296], "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("more than 2^64 elements")));
  // The element count fits, but the byte count does not.
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("need more than 2^64 bytes")));
}

TEST(SafetensorsErrors, OffsetsOutOfOrder) {
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("[8, 4] ends before it begins")));
}

TEST(SafetensorsErrors, OffsetsPastDataSection) {
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [2], "data_offsets": [12, 20]}})", 16),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("[12, 20]"), HasSubstr("16 bytes")));
  // Types edgelm does not convert are bounded too.
  EXPECT_THAT(header_error(R"({"w": {"dtype": "Q4_WEIRD", "shape": [2], "data_offsets": [0, 17]}})", 16),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("[0, 17]")));
}

TEST(SafetensorsErrors, ByteCountMismatch) {
  EXPECT_THAT(header_error(R"({"w": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 6]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("6 bytes"), HasSubstr("BF16"),
                    HasSubstr("[2, 2] need 8 bytes")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F8_E4M3", "shape": [3], "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr("need 3 bytes")));

  // Sizes known from the dtype name alone.
  struct Case {
    const char* dtype;
    int size;
  };
  for (Case c : {Case{"F64", 8}, Case{"I64", 8}, Case{"U64", 8}, Case{"I32", 4}, Case{"U32", 4}, Case{"I16", 2},
                 Case{"U16", 2}, Case{"I8", 1}, Case{"U8", 1}, Case{"BOOL", 1}, Case{"F8_E5M2", 1}}) {
    std::string good = fmt::format(R"({{"w": {{"dtype": "{}", "shape": [2], "data_offsets": [0, {}]}}}})", c.dtype,
                                   2 * c.size);
    std::string bad = fmt::format(R"({{"w": {{"dtype": "{}", "shape": [2], "data_offsets": [0, {}]}}}})", c.dtype,
                                  2 * c.size - 1);
    EXPECT_EQ(header_error(good), "") << c.dtype;
    EXPECT_THAT(header_error(bad), AllOf(HasSubstr(kName), HasSubstr("'w'"), HasSubstr(c.dtype),
                                         HasSubstr(fmt::format("need {} bytes", 2 * c.size))));
  }
}

TEST(SafetensorsErrors, OverlappingTensors) {
  EXPECT_THAT(header_error(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                           R"( "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'a'"), HasSubstr("'b'"), HasSubstr("overlaps")));
  // The same bytes twice.
  EXPECT_THAT(header_error(R"({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]},)"
                           R"( "b": {"dtype": "U8", "shape": [4], "data_offsets": [4, 8]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'a'"), HasSubstr("'b'"), HasSubstr("overlaps")));
  // An empty tensor inside another occupies no bytes.
  EXPECT_EQ(header_error(R"({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},)"
                         R"( "b": {"dtype": "F32", "shape": [0], "data_offsets": [4, 4]}})"),
            "");
}

TEST(SafetensorsErrors, DuplicateNames) {
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},)"
                           R"( "w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'w' twice"), HasSubstr("top-level object")));
  EXPECT_THAT(header_error(R"({"w": {"dtype": "F32", "dtype": "F16", "shape": [1], "data_offsets": [0, 4]}})"),
              AllOf(HasSubstr(kName), HasSubstr("'dtype' twice"), HasSubstr("object 'w'")));
}

TEST(SafetensorsErrors, MetadataNotStrings) {
  EXPECT_THAT(header_error(R"({"__metadata__": {"format": "pt", "step": 5}})"),
              AllOf(HasSubstr(kName), HasSubstr("'step'"), HasSubstr("JSON number")));
  EXPECT_THAT(header_error(R"({"__metadata__": ["pt"]})"),
              AllOf(HasSubstr(kName), HasSubstr("__metadata__"), HasSubstr("JSON array")));
}

}  // namespace
}  // namespace edgelm
