// Opens single-file and sharded checkpoint directories, rejects broken ones
// with messages that name the file and the tensor, and dequantizes float8
// weights with scalar, per-row and block-wise scales.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "quant/temp_dir.h"
#include "safetensors/safetensors_checkpoint.h"
#include "support/safetensors_builder.h"

namespace edgelm {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using testing::safetensors_index;
using testing::SafetensorsBuilder;
using testing::TempDir;
using testing::to_bytes;
using testing::write_file_text;

constexpr const char* kIndex = "model.safetensors.index.json";
constexpr const char* kShard1 = "model-00001-of-00002.safetensors";
constexpr const char* kShard2 = "model-00002-of-00002.safetensors";

// Returns the message opening `dir` fails with, or "" when it succeeds.
std::string open_error(const std::string& dir) {
  try {
    SafetensorsCheckpoint::open(dir);
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

// Two shards: a and b in shard 1, c in shard 2.
void write_two_shards(const TempDir& dir) {
  SafetensorsBuilder().add_f32("a", {2}, {1.0f, 2.0f}).add_f32("b", {1}, {3.0f}).write(dir.file(kShard1));
  SafetensorsBuilder().add_f32("c", {1}, {4.0f}).write(dir.file(kShard2));
}

// Opens a checkpoint of one file holding `builder`'s tensors.
std::unique_ptr<SafetensorsCheckpoint> open_single(const TempDir& dir, const SafetensorsBuilder& builder) {
  builder.write(dir.file("model.safetensors"));
  return SafetensorsCheckpoint::open(dir.path());
}

// Float8 E4M3 bytes of small exact values.
constexpr uint8_t kF8One = 0x38;
constexpr uint8_t kF8OneAndHalf = 0x3c;
constexpr uint8_t kF8Two = 0x40;
constexpr uint8_t kF8MinusOne = 0xb8;
constexpr uint8_t kF8Max = 0x7e;  // 448

// ---- Opening --------------------------------------------------------------------------------

TEST(SafetensorsCheckpoint, OpensFixture) {
  const std::string dir = std::string(EDGELM_FIXTURES_DIR) + "/tiny-gemma2";
  auto checkpoint = SafetensorsCheckpoint::open(dir);

  EXPECT_EQ(checkpoint->dir(), dir);
  ASSERT_EQ(checkpoint->tensors().size(), 68u);
  const SafetensorsTensor* embedding = checkpoint->find("model.embed_tokens.weight");
  ASSERT_NE(embedding, nullptr);
  EXPECT_EQ(checkpoint->tensors().front(), embedding);
  EXPECT_EQ(checkpoint->shard_path(*embedding), dir + "/model.safetensors");

  const SafetensorsTensor* norm = checkpoint->find("model.norm.weight");
  ASSERT_NE(norm, nullptr);
  std::vector<float> values = checkpoint->to_float(*norm);
  ASSERT_EQ(values.size(), 256u);
  std::vector<float> expected(256);
  safetensors_to_float(*norm, 0, 256, expected.data());
  EXPECT_EQ(values, expected);
}

TEST(SafetensorsCheckpoint, FindsAcrossShards) {
  TempDir dir;
  write_two_shards(dir);
  // Shard 2 appears first in the document, although "a" sorts first.
  write_file_text(dir.file(kIndex), safetensors_index({{"c", kShard2}, {"b", kShard1}, {"a", kShard1}}));
  auto checkpoint = SafetensorsCheckpoint::open(dir.path());

  ASSERT_EQ(checkpoint->tensors().size(), 3u);
  EXPECT_EQ(checkpoint->tensors()[0]->name, "c");
  EXPECT_EQ(checkpoint->tensors()[1]->name, "a");
  EXPECT_EQ(checkpoint->tensors()[2]->name, "b");

  for (const char* name : {"a", "b", "c"}) ASSERT_NE(checkpoint->find(name), nullptr) << name;
  EXPECT_EQ(checkpoint->find("d"), nullptr);
  EXPECT_EQ(checkpoint->shard_path(*checkpoint->find("a")), dir.file(kShard1));
  EXPECT_EQ(checkpoint->shard_path(*checkpoint->find("c")), dir.file(kShard2));
  EXPECT_EQ(checkpoint->to_float(*checkpoint->find("a")), (std::vector<float>{1.0f, 2.0f}));
  EXPECT_EQ(checkpoint->to_float(*checkpoint->find("c")), (std::vector<float>{4.0f}));

  // A tensor of another object with the same name is not this checkpoint's.
  SafetensorsTensor stranger;
  stranger.name = "a";
  EXPECT_THAT([&] { checkpoint->shard_path(stranger); }, ::testing::ThrowsMessage<Error>(HasSubstr("'a'")));
}

TEST(SafetensorsCheckpoint, IndexWinsOverSingleFile) {
  TempDir dir;
  write_two_shards(dir);
  write_file_text(dir.file(kIndex), safetensors_index({{"a", kShard1}, {"b", kShard1}, {"c", kShard2}}));
  SafetensorsBuilder().add_f32("single", {1}, {9.0f}).write(dir.file("model.safetensors"));

  auto checkpoint = SafetensorsCheckpoint::open(dir.path());
  EXPECT_EQ(checkpoint->tensors().size(), 3u);
  EXPECT_EQ(checkpoint->find("single"), nullptr);
}

// ---- Errors -----------------------------------------------------------------------------------

TEST(SafetensorsCheckpointErrors, MissingShard) {
  TempDir dir;
  SafetensorsBuilder().add_f32("a", {1}, {1.0f}).write(dir.file(kShard1));
  write_file_text(dir.file(kIndex), safetensors_index({{"a", kShard1}, {"c", kShard2}}));

  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(kShard2), HasSubstr(kIndex), HasSubstr("'c'"),
                                            HasSubstr("not found")));
}

TEST(SafetensorsCheckpointErrors, TensorMissingFromShard) {
  TempDir dir;
  write_two_shards(dir);
  write_file_text(dir.file(kIndex), safetensors_index({{"a", kShard1}, {"b", kShard1}, {"c", kShard2}, {"d", kShard2}}));

  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(kIndex), HasSubstr("'d'"), HasSubstr(kShard2),
                                            HasSubstr("does not contain it")));
}

TEST(SafetensorsCheckpointErrors, TensorInOtherShard) {
  TempDir dir;
  write_two_shards(dir);
  write_file_text(dir.file(kIndex), safetensors_index({{"a", kShard1}, {"b", kShard2}, {"c", kShard2}}));

  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(kIndex), HasSubstr("'b'"), HasSubstr("listed in shard " +
                                                                                           std::string(kShard2)),
                                            HasSubstr("it is in shard " + std::string(kShard1))));
}

TEST(SafetensorsCheckpointErrors, TensorInTwoShards) {
  TempDir dir;
  SafetensorsBuilder().add_f32("a", {1}, {1.0f}).add_f32("x", {1}, {2.0f}).write(dir.file(kShard1));
  SafetensorsBuilder().add_f32("x", {1}, {3.0f}).write(dir.file(kShard2));
  write_file_text(dir.file(kIndex), safetensors_index({{"a", kShard1}, {"x", kShard2}}));

  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr("'x'"), HasSubstr("two shards"), HasSubstr(kShard1),
                                            HasSubstr(kShard2)));
}

TEST(SafetensorsCheckpointErrors, ShardOutsideDirectory) {
  TempDir dir;
  write_two_shards(dir);
  for (const std::string& shard : {std::string("../") + kShard1, std::string("/etc/passwd"), std::string(".."),
                                   std::string("")}) {
    write_file_text(dir.file(kIndex), safetensors_index({{"a", kShard1}, {"b", shard}}));
    EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(kIndex), HasSubstr("'b'"), HasSubstr("'" + shard + "'"),
                                              HasSubstr("file name in the model directory")))
        << shard;
  }
}

TEST(SafetensorsCheckpointErrors, BrokenIndex) {
  TempDir dir;
  write_two_shards(dir);

  write_file_text(dir.file(kIndex), R"({"weight_map": {"a": )");
  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(kIndex), HasSubstr("not valid JSON")));

  write_file_text(dir.file(kIndex), R"({"metadata": {}})");
  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(kIndex), HasSubstr("no \"weight_map\"")));

  write_file_text(dir.file(kIndex), R"({"weight_map": {}})");
  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(kIndex), HasSubstr("empty")));

  write_file_text(dir.file(kIndex), R"({"weight_map": {"a": 1}})");
  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(kIndex), HasSubstr("'a'"), HasSubstr("JSON number")));

  write_file_text(dir.file(kIndex), R"({"weight_map": {"a": "s1", "a": "s2"}})");
  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(kIndex), HasSubstr("'a' twice")));
}

TEST(SafetensorsCheckpointErrors, DamagedShard) {
  TempDir dir;
  write_two_shards(dir);
  write_file_text(dir.file(kShard2), "short");
  write_file_text(dir.file(kIndex), safetensors_index({{"a", kShard1}, {"c", kShard2}}));

  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(dir.file(kShard2)), HasSubstr("5 bytes")));
}

TEST(SafetensorsCheckpointErrors, NoWeights) {
  TempDir dir;
  write_file_text(dir.file("config.json"), "{}");
  EXPECT_THAT(open_error(dir.path()), AllOf(HasSubstr(dir.path()), HasSubstr("has no model.safetensors or " +
                                                                             std::string(kIndex))));
}

TEST(SafetensorsCheckpointErrors, NoDirectory) {
  TempDir dir;
  EXPECT_THAT(open_error(dir.file("absent")), AllOf(HasSubstr(dir.file("absent")), HasSubstr("directory not found")));

  write_file_text(dir.file("plain"), "x");
  EXPECT_THAT(open_error(dir.file("plain")), AllOf(HasSubstr(dir.file("plain")), HasSubstr("not a directory")));
}

TEST(SafetensorsCheckpointErrors, UnconvertibleDtype) {
  TempDir dir;
  auto checkpoint = open_single(dir, SafetensorsBuilder().add("ids", "I32", {2}, std::vector<uint8_t>(8, 0)));
  EXPECT_THAT([&] { checkpoint->to_float(*checkpoint->find("ids")); },
              ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("model.safetensors"), HasSubstr("'ids'"),
                                                    HasSubstr("I32"))));
}

// ---- Float8 scales -----------------------------------------------------------------------------

TEST(SafetensorsFloat8, ScalarScale) {
  std::vector<uint8_t> weight = {kF8One, kF8Two, kF8MinusOne, kF8OneAndHalf, 0x00, kF8Max};
  for (std::vector<uint64_t> scale_shape : {std::vector<uint64_t>{}, std::vector<uint64_t>{1}}) {
    TempDir dir;
    auto checkpoint = open_single(dir, SafetensorsBuilder()
                                           .add("x.weight", "F8_E4M3", {2, 3}, weight)
                                           .add_f32("x.weight_scale", scale_shape, {0.5f}));
    EXPECT_EQ(checkpoint->to_float(*checkpoint->find("x.weight")),
              (std::vector<float>{0.5f, 1.0f, -0.5f, 0.75f, 0.0f, 224.0f}))
        << scale_shape.size();
  }
}

TEST(SafetensorsFloat8, PerRowScale) {
  std::vector<uint8_t> weight = {kF8One, kF8Two, kF8MinusOne, kF8OneAndHalf, 0x00, kF8Max};
  const std::vector<float> expected = {2.0f, 4.0f, -2.0f, 0.375f, 0.0f, 112.0f};

  TempDir bf16_dir;
  auto bf16 = open_single(bf16_dir, SafetensorsBuilder()
                                        .add("x.weight", "F8_E4M3", {2, 3}, weight)
                                        .add_bf16("x.weight_scale", {2}, {2.0f, 0.25f}));
  EXPECT_EQ(bf16->to_float(*bf16->find("x.weight")), expected);

  TempDir column_dir;
  auto column = open_single(column_dir, SafetensorsBuilder()
                                            .add("x.weight", "F8_E4M3", {2, 3}, weight)
                                            .add_f32("x.weight_scale", {2, 1}, {2.0f, 0.25f}));
  EXPECT_EQ(column->to_float(*column->find("x.weight")), expected);
}

// 130 x 129 weights have 2 x 2 blocks of 128 x 128: the last block row and
// column are partial.
TEST(SafetensorsFloat8, BlockScale) {
  const uint64_t rows = 130;
  const uint64_t cols = 129;
  std::vector<uint8_t> weight(rows * cols, kF8One);
  weight[0] = kF8Two;
  weight[129 * cols + 128] = kF8MinusOne;

  TempDir dir;
  auto checkpoint = open_single(dir, SafetensorsBuilder()
                                         .add("x.weight", "F8_E4M3", {rows, cols}, weight)
                                         .add_f32("x.weight_scale_inv", {2, 2}, {1.0f, 2.0f, 4.0f, 8.0f}));
  std::vector<float> values = checkpoint->to_float(*checkpoint->find("x.weight"));
  ASSERT_EQ(values.size(), rows * cols);

  EXPECT_EQ(values[0], 2.0f);
  EXPECT_EQ(values[127 * cols + 127], 1.0f);
  EXPECT_EQ(values[127 * cols + 128], 2.0f);
  EXPECT_EQ(values[128 * cols + 127], 4.0f);
  EXPECT_EQ(values[128 * cols + 128], 8.0f);
  EXPECT_EQ(values[129 * cols + 128], -8.0f);
  const float block_scales[2][2] = {{1.0f, 2.0f}, {4.0f, 8.0f}};
  for (uint64_t r = 0; r < rows; ++r) {
    for (uint64_t c = 0; c < cols; ++c) {
      if ((r == 0 && c == 0) || (r == 129 && c == 128)) continue;
      const float scale = block_scales[r / 128][c / 128];
      ASSERT_EQ(values[r * cols + c], scale) << "row " << r << " column " << c;
    }
  }
}

TEST(SafetensorsFloat8, PrefersWeightScale) {
  TempDir dir;
  auto checkpoint = open_single(dir, SafetensorsBuilder()
                                         .add("x.weight", "F8_E4M3", {1, 2}, {kF8One, kF8Two})
                                         .add_f32("x.weight_scale", {}, {3.0f})
                                         .add_f32("x.weight_scale_inv", {}, {5.0f}));
  EXPECT_EQ(checkpoint->to_float(*checkpoint->find("x.weight")), (std::vector<float>{3.0f, 6.0f}));
}

TEST(SafetensorsFloat8, MissingScale) {
  TempDir dir;
  auto checkpoint = open_single(dir, SafetensorsBuilder()
                                         .add("x.weight", "F8_E4M3", {1, 2}, {kF8One, kF8Two})
                                         .add_f32("y.weight_scale", {}, {3.0f}));
  EXPECT_THAT([&] { checkpoint->to_float(*checkpoint->find("x.weight")); },
              ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("model.safetensors"), HasSubstr("'x.weight'"),
                                                    HasSubstr("x.weight_scale_inv"))));
}

TEST(SafetensorsFloat8, WrongScaleShape) {
  TempDir dir;
  auto checkpoint = open_single(dir, SafetensorsBuilder()
                                         .add("x.weight", "F8_E4M3", {2, 3}, std::vector<uint8_t>(6, kF8One))
                                         .add_f32("x.weight_scale", {3}, {1.0f, 2.0f, 3.0f}));
  EXPECT_THAT([&] { checkpoint->to_float(*checkpoint->find("x.weight")); },
              ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("model.safetensors"), HasSubstr("'x.weight_scale'"),
                                                    HasSubstr("'x.weight'"), HasSubstr("shape [3]"),
                                                    HasSubstr("[2] or [2, 1]"), HasSubstr("[1, 1]"))));
}

TEST(SafetensorsFloat8, WrongScaleDtype) {
  TempDir dir;
  auto checkpoint = open_single(dir, SafetensorsBuilder()
                                         .add("x.weight", "F8_E4M3", {1, 2}, {kF8One, kF8Two})
                                         .add("x.weight_scale", "F8_E4M3", {}, {kF8One}));
  EXPECT_THAT([&] { checkpoint->to_float(*checkpoint->find("x.weight")); },
              ::testing::ThrowsMessage<Error>(AllOf(HasSubstr("'x.weight_scale'"), HasSubstr("F8_E4M3"))));
}

TEST(SafetensorsFloat8, ScaleNames) {
  EXPECT_TRUE(SafetensorsCheckpoint::is_float8_scale("model.layers.0.mlp.down_proj.weight_scale"));
  EXPECT_TRUE(SafetensorsCheckpoint::is_float8_scale("model.layers.0.mlp.down_proj.weight_scale_inv"));
  EXPECT_TRUE(SafetensorsCheckpoint::is_float8_scale("model.layers.0.self_attn.q_proj.input_scale"));
  EXPECT_FALSE(SafetensorsCheckpoint::is_float8_scale("model.layers.0.mlp.down_proj.weight"));
  EXPECT_FALSE(SafetensorsCheckpoint::is_float8_scale("model.norm.weight"));
}

}  // namespace
}  // namespace edgelm
