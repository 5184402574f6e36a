// GgufWriter output read back through GgufFile: every value type, tensor
// data and alignment, fixture copies, and the no-partial-file guarantee.

#include "gguf/gguf_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "core/error.h"
#include "support/expected_output.h"

namespace edgelm {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed with its contents afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "gguf_writer_XXXXXX";
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  size_t entry_count() const { return static_cast<size_t>(std::distance(fs::directory_iterator(path_), {})); }

 private:
  std::string path_;
};

GgufValue scalar(GgufType type, uint64_t v) { return {type, v}; }
GgufValue scalar_signed(GgufType type, int64_t v) { return {type, v}; }
GgufValue real(GgufType type, double v) { return {type, v}; }
GgufValue text(std::string s) { return {GgufType::STRING, std::move(s)}; }
GgufValue array(GgufType element_type, std::vector<GgufValue> items) {
  return {GgufType::ARRAY, GgufArray{element_type, std::move(items)}};
}

// Deep comparison with a path to the first difference.
void expect_same_value(const GgufValue& expected, const GgufValue& actual, const std::string& where) {
  ASSERT_EQ(expected.type, actual.type) << where;
  ASSERT_EQ(expected.value.index(), actual.value.index()) << where;
  if (const auto* a = std::get_if<GgufArray>(&expected.value)) {
    const auto& b = std::get<GgufArray>(actual.value);
    ASSERT_EQ(a->element_type, b.element_type) << where;
    ASSERT_EQ(a->items.size(), b.items.size()) << where;
    for (size_t i = 0; i < a->items.size(); ++i) {
      expect_same_value(a->items[i], b.items[i], where + "[" + std::to_string(i) + "]");
    }
    return;
  }
  if (const auto* u = std::get_if<uint64_t>(&expected.value)) {
    EXPECT_EQ(*u, std::get<uint64_t>(actual.value)) << where;
  }
  if (const auto* i = std::get_if<int64_t>(&expected.value)) {
    EXPECT_EQ(*i, std::get<int64_t>(actual.value)) << where;
  }
  if (const auto* d = std::get_if<double>(&expected.value)) {
    EXPECT_EQ(*d, std::get<double>(actual.value)) << where;
  }
  if (const auto* b = std::get_if<bool>(&expected.value)) {
    EXPECT_EQ(*b, std::get<bool>(actual.value)) << where;
  }
  if (const auto* s = std::get_if<std::string>(&expected.value)) {
    EXPECT_EQ(*s, std::get<std::string>(actual.value)) << where;
  }
}

void expect_same_metadata(const GgufFile& expected, const GgufFile& actual) {
  ASSERT_EQ(expected.metadata().size(), actual.metadata().size());
  for (size_t i = 0; i < expected.metadata().size(); ++i) {
    const auto& [key, value] = expected.metadata()[i];
    EXPECT_EQ(key, actual.metadata()[i].first) << "entry " << i;
    expect_same_value(value, actual.metadata()[i].second, key);
  }
}

void expect_same_tensors(const GgufFile& expected, const GgufFile& actual) {
  ASSERT_EQ(expected.tensors().size(), actual.tensors().size());
  for (size_t i = 0; i < expected.tensors().size(); ++i) {
    const GgufTensor& a = expected.tensors()[i];
    const GgufTensor& b = actual.tensors()[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.dims, b.dims) << a.name;
    EXPECT_EQ(a.type, b.type) << a.name;
    ASSERT_EQ(a.n_bytes, b.n_bytes) << a.name;
    EXPECT_EQ(std::memcmp(a.data, b.data, a.n_bytes), 0) << a.name;
  }
}

// Writes `source`'s metadata and tensors unchanged to `path`.
void copy_gguf(const GgufFile& source, const std::string& path) {
  GgufWriter writer;
  writer.copy_metadata(source);
  for (const GgufTensor& t : source.tensors()) writer.add_tensor(t.name, t.dims, t.type);
  writer.open(path);
  for (const GgufTensor& t : source.tensors()) writer.write_tensor(t.data, t.n_bytes);
  writer.finish();
}

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One value of every type, with extremes, empty values and nested arrays.
std::vector<std::pair<std::string, GgufValue>> all_value_types() {
  return {
      {"u8", scalar(GgufType::UINT8, 255)},
      {"i8", scalar_signed(GgufType::INT8, -128)},
      {"u16", scalar(GgufType::UINT16, 65535)},
      {"i16", scalar_signed(GgufType::INT16, -32768)},
      {"u32", scalar(GgufType::UINT32, 4294967295u)},
      {"i32", scalar_signed(GgufType::INT32, std::numeric_limits<int32_t>::min())},
      {"u64", scalar(GgufType::UINT64, std::numeric_limits<uint64_t>::max())},
      {"i64", scalar_signed(GgufType::INT64, std::numeric_limits<int64_t>::min())},
      {"f32", real(GgufType::FLOAT32, static_cast<double>(0.1f))},
      {"f64", real(GgufType::FLOAT64, 0.1)},
      {"bool.true", {GgufType::BOOL, true}},
      {"bool.false", {GgufType::BOOL, false}},
      {"string", text("h\xc3\xa9llo\nworld")},
      {"string.empty", text("")},
      {"array.empty", array(GgufType::INT32, {})},
      {"array.f32", array(GgufType::FLOAT32, {real(GgufType::FLOAT32, -1.5), real(GgufType::FLOAT32, 3.25)})},
      {"array.strings", array(GgufType::STRING, {text("a"), text(""), text("\xe2\x96\x81p0")})},
      {"array.nested",
       array(GgufType::ARRAY, {array(GgufType::UINT16, {scalar(GgufType::UINT16, 1), scalar(GgufType::UINT16, 2)}),
                               array(GgufType::STRING, {text("x")}),
                               array(GgufType::ARRAY, {array(GgufType::BOOL, {{GgufType::BOOL, true}})})})},
  };
}

TEST(GgufWriter, RoundTripsEveryValueType) {
  TempDir dir;
  const std::string path = dir.file("values.gguf");

  GgufWriter writer;
  for (auto& [key, value] : all_value_types()) writer.set(key, value);

  // Tensors of several types and shapes, with data that shows misplacement.
  std::vector<float> f32(3 * 5);
  for (size_t i = 0; i < f32.size(); ++i) f32[i] = static_cast<float>(i) * 0.5f;
  std::vector<uint8_t> q8(2 * 34, 0);
  for (size_t i = 0; i < q8.size(); ++i) q8[i] = static_cast<uint8_t>(i * 7);
  std::vector<uint16_t> f16 = {1, 2, 3};
  writer.add_tensor("a.f32", {5, 3}, DType::F32);
  writer.add_tensor("b.q8_0", {32, 1, 2}, DType::Q8_0);
  writer.add_tensor("c.f16", {3}, DType::F16);
  writer.open(path);
  writer.write_tensor(f32.data(), f32.size() * sizeof(float));
  writer.write_tensor(q8.data(), q8.size());
  writer.write_tensor(f16.data(), f16.size() * sizeof(uint16_t));
  writer.finish();

  auto file = GgufFile::open(path);
  EXPECT_EQ(file->version(), 3u);
  EXPECT_EQ(file->alignment(), 32u);
  EXPECT_EQ(file->data_offset() % 32, 0u);

  const auto expected = all_value_types();
  ASSERT_EQ(file->metadata().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(file->metadata()[i].first, expected[i].first);
    expect_same_value(expected[i].second, file->metadata()[i].second, expected[i].first);
  }

  ASSERT_EQ(file->tensors().size(), 3u);
  const GgufTensor& a = file->tensors()[0];
  const GgufTensor& b = file->tensors()[1];
  const GgufTensor& c = file->tensors()[2];
  EXPECT_EQ(a.dims, (std::vector<uint64_t>{5, 3}));
  EXPECT_EQ(b.dims, (std::vector<uint64_t>{32, 1, 2}));
  EXPECT_EQ(b.type, DType::Q8_0);
  EXPECT_EQ(c.type, DType::F16);
  EXPECT_EQ(a.offset, 0u);
  EXPECT_EQ(b.offset, 64u);  // 60 bytes rounded up to 32
  EXPECT_EQ(c.offset, 160u);
  EXPECT_EQ(std::memcmp(a.data, f32.data(), a.n_bytes), 0);
  EXPECT_EQ(std::memcmp(b.data, q8.data(), b.n_bytes), 0);
  EXPECT_EQ(std::memcmp(c.data, f16.data(), c.n_bytes), 0);

  // The last tensor is padded too, so the file ends on the alignment.
  EXPECT_EQ(fs::file_size(path), file->data_offset() + 192);
  EXPECT_EQ(dir.entry_count(), 1u) << "the temporary file must be gone";
}

TEST(GgufWriter, HonorsGeneralAlignment) {
  TempDir dir;
  const std::string path = dir.file("aligned.gguf");
  GgufWriter writer;
  writer.set_uint32("general.alignment", 64);
  writer.add_tensor("x", {3}, DType::F32);
  writer.add_tensor("y", {2}, DType::F32);
  writer.open(path);
  const float x[3] = {1, 2, 3};
  const float y[2] = {4, 5};
  writer.write_tensor(x, sizeof(x));
  writer.write_tensor(y, sizeof(y));
  writer.finish();

  auto file = GgufFile::open(path);
  EXPECT_EQ(file->alignment(), 64u);
  EXPECT_EQ(file->data_offset() % 64, 0u);
  EXPECT_EQ(file->tensors()[1].offset, 64u);
  EXPECT_EQ(std::memcmp(file->tensors()[1].data, y, sizeof(y)), 0);
}

TEST(GgufWriter, SetMovesKeyToEnd) {
  GgufWriter writer;
  writer.set_uint32("a", 1);
  writer.set_uint32("b", 2);
  writer.set_uint32("a", 3);
  ASSERT_EQ(writer.metadata().size(), 2u);
  EXPECT_EQ(writer.metadata()[0].first, "b");
  EXPECT_EQ(writer.metadata()[1].first, "a");
  EXPECT_EQ(std::get<uint64_t>(writer.metadata()[1].second.value), 3u);
  EXPECT_TRUE(writer.remove("b"));
  EXPECT_FALSE(writer.remove("b"));
  EXPECT_EQ(writer.metadata().size(), 1u);
}

TEST(GgufWriter, CopiesStories260KByteForByte) {
  TempDir dir;
  const std::string source_path = testing::fixtures_dir() + "/stories260K.gguf";
  const std::string path = dir.file("copy.gguf");
  auto source = GgufFile::open(source_path);
  copy_gguf(*source, path);

  auto copy = GgufFile::open(path);
  expect_same_metadata(*source, *copy);
  expect_same_tensors(*source, *copy);
  // llama.cpp wrote the fixture as GGUF v3 with the same layout rules, so
  // the whole file must come out identical.
  EXPECT_TRUE(read_bytes(source_path) == read_bytes(path));
}

TEST(GgufWriter, CopiesTinyGemma2) {
  TempDir dir;
  const std::string source_path = testing::fixtures_dir() + "/tiny-gemma2-q4_k_m.gguf";
  const std::string path = dir.file("copy.gguf");
  auto source = GgufFile::open(source_path);
  copy_gguf(*source, path);

  auto copy = GgufFile::open(path);
  expect_same_metadata(*source, *copy);
  expect_same_tensors(*source, *copy);
  EXPECT_TRUE(read_bytes(source_path) == read_bytes(path));
}

TEST(GgufWriter, UnfinishedWriteLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.file("partial.gguf");
  {
    GgufWriter writer;
    writer.add_tensor("x", {4}, DType::F32);
    writer.add_tensor("y", {4}, DType::F32);
    writer.open(path);
    const float x[4] = {};
    writer.write_tensor(x, sizeof(x));
    EXPECT_THROW(writer.finish(), Error);  // y was never written
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(dir.entry_count(), 0u);

  {
    GgufWriter writer;
    writer.add_tensor("x", {4}, DType::F32);
    writer.open(path);
    // Abandoned without finish(), as when quantization throws midway.
  }
  EXPECT_EQ(dir.entry_count(), 0u);
}

TEST(GgufWriter, FailedWriteKeepsExistingOutput) {
  TempDir dir;
  const std::string path = dir.file("existing.gguf");
  { std::ofstream(path) << "previous"; }
  {
    GgufWriter writer;
    writer.add_tensor("x", {4}, DType::F32);
    writer.open(path);
  }
  EXPECT_EQ(read_bytes(path), (std::vector<char>{'p', 'r', 'e', 'v', 'i', 'o', 'u', 's'}));
}

TEST(GgufWriter, RejectsWrongTensorSize) {
  TempDir dir;
  GgufWriter writer;
  writer.add_tensor("x", {4}, DType::F32);
  writer.open(dir.file("size.gguf"));
  const float x[3] = {};
  try {
    writer.write_tensor(x, sizeof(x));
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'x' needs 16 bytes"), std::string::npos) << e.what();
  }
}

TEST(GgufWriter, RejectsInvalidTensors) {
  GgufWriter writer;
  EXPECT_THROW(writer.add_tensor("", {4}, DType::F32), Error);
  EXPECT_THROW(writer.add_tensor(std::string(65, 'n'), {4}, DType::F32), Error);
  EXPECT_THROW(writer.add_tensor("x", {}, DType::F32), Error);
  EXPECT_THROW(writer.add_tensor("x", {1, 1, 1, 1, 1}, DType::F32), Error);
  EXPECT_THROW(writer.add_tensor("x", {0, 4}, DType::F32), Error);
  EXPECT_THROW(writer.add_tensor("x", {48}, DType::Q8_0), Error);  // not a multiple of 32
  EXPECT_THROW(writer.add_tensor("x", {uint64_t{1} << 40, uint64_t{1} << 40}, DType::F32), Error);
  writer.add_tensor("x", {4}, DType::F32);
  EXPECT_THROW(writer.add_tensor("x", {4}, DType::F32), Error);
}

TEST(GgufWriter, RejectsValueOutsideItsType) {
  TempDir dir;
  const std::string path = dir.file("bad.gguf");
  GgufWriter writer;
  writer.set("too.big", scalar(GgufType::UINT8, 256));
  try {
    writer.open(path);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'too.big' is 256"), std::string::npos) << e.what();
  }
  EXPECT_EQ(dir.entry_count(), 0u) << "nothing may be created for invalid metadata";

  GgufWriter mixed;
  mixed.set("mixed", array(GgufType::UINT32, {scalar(GgufType::UINT32, 1), text("two")}));
  EXPECT_THROW(mixed.open(path), Error);
}

TEST(GgufWriter, MissingDirectoryNamesOutput) {
  TempDir dir;
  const std::string path = dir.file("no/such/dir/out.gguf");
  GgufWriter writer;
  try {
    writer.open(path);
    FAIL() << "expected an Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace edgelm
