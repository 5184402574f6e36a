// Scalar dequantizers of the block types against ggml's.

#include <gtest/gtest.h>

#include <bit>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "tensor/dequantize_blocks.h"
#include "tensor/quant_blocks.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

std::vector<uint8_t> from_hex(const std::string& hex) {
  std::vector<uint8_t> bytes(hex.size() / 2);
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return bytes;
}

void store_half(std::vector<uint8_t>& block, size_t offset, float value) {
  const uint16_t half = f32_to_f16(value);
  std::memcpy(block.data() + offset, &half, sizeof(half));
}

// tests/tensor/data/ggml_dequantized.json holds 256 values of each type as
// random blocks (random bytes, random fp16 scales) and the float bits that
// ggml's dequantize_row_* returned for them (libggml-base of llama.cpp as
// bundled in the npm package @node-llama-cpp/linux-x64 3.22.1).
TEST(Dequantize, MatchesGgml) {
  std::ifstream file(std::string(EDGELM_SOURCE_DIR) + "/tests/tensor/data/ggml_dequantized.json");
  ASSERT_TRUE(file.good());
  const nlohmann::json vectors = nlohmann::json::parse(file);

  size_t checked = 0;
  for (const auto& [name, vector] : vectors.items()) {
    const DTypeInfo* info = nullptr;
    for (uint32_t id = 0; id < 40 && info == nullptr; ++id) {
      const DTypeInfo* candidate = find_dtype(id);
      if (candidate != nullptr && candidate->name == name) info = candidate;
    }
    ASSERT_NE(info, nullptr) << name;

    const std::vector<uint8_t> blocks = from_hex(vector["blocks"].get<std::string>());
    const auto expected_bits = vector["values"].get<std::vector<std::string>>();
    const size_t n = expected_bits.size();
    ASSERT_EQ(blocks.size(), row_bytes(info->type, n)) << name;

    std::vector<float> values(n);
    dequantize_row_ref(info->type, blocks.data(), values.data(), n);
    for (size_t i = 0; i < n; ++i) {
      ASSERT_EQ(std::bit_cast<uint32_t>(values[i]), std::stoul(expected_bits[i], nullptr, 16))
          << name << " i=" << i << " value=" << values[i];
    }
    ++checked;
  }
  EXPECT_EQ(checked, 10u);
}

TEST(Dequantize, Q4_0Nibbles) {
  std::vector<uint8_t> block(quant::q4_0::kBytes, 0);
  store_half(block, quant::q4_0::kD, 0.5f);
  block[quant::q4_0::kQs + 0] = 0xf0;  // element 0: 0 - 8, element 16: 15 - 8
  block[quant::q4_0::kQs + 15] = 0x39;  // element 15: 9 - 8, element 31: 3 - 8

  std::vector<float> out(32);
  dequantize_row_ref(DType::Q4_0, block.data(), out.data(), 32);
  EXPECT_EQ(out[0], -4.0f);
  EXPECT_EQ(out[16], 3.5f);
  EXPECT_EQ(out[15], 0.5f);
  EXPECT_EQ(out[31], -2.5f);
  EXPECT_EQ(out[1], -4.0f);
}

TEST(Dequantize, Q5_1HighBitsAndMin) {
  std::vector<uint8_t> block(quant::q5_1::kBytes, 0);
  store_half(block, quant::q5_1::kD, 2.0f);
  store_half(block, quant::q5_1::kM, -1.0f);
  const uint32_t qh = (1u << 3) | (1u << 20);  // bit 4 of elements 3 and 20
  std::memcpy(block.data() + quant::q5_1::kQh, &qh, sizeof(qh));
  block[quant::q5_1::kQs + 3] = 0x21;  // element 3: 1 | 16, element 19: 2
  block[quant::q5_1::kQs + 4] = 0x50;  // element 20: 5 | 16

  std::vector<float> out(32);
  dequantize_row_ref(DType::Q5_1, block.data(), out.data(), 32);
  EXPECT_EQ(out[3], 2.0f * 17 - 1.0f);
  EXPECT_EQ(out[19], 2.0f * 2 - 1.0f);
  EXPECT_EQ(out[20], 2.0f * 21 - 1.0f);
  EXPECT_EQ(out[0], -1.0f);
}

// Groups 0-3 keep 6 bits in bytes g and g + 4; groups 4-7 split theirs
// between the nibbles of byte g + 4 and the top bits of bytes g - 4 and g.
TEST(Dequantize, K4ScaleMinPacking) {
  uint8_t scales[12] = {};
  scales[1] = 0x40 | 37;  // group 1 scale 37; top bits 01 are group 5's scale bits 4-5
  scales[5] = 0xc0 | 12;  // group 1 min 12; top bits 11 are group 5's min bits 4-5
  scales[9] = 0x7a;       // group 5: scale low nibble 0xa, min low nibble 0x7

  uint8_t scale = 0, min = 0;
  quant::k4_scale_min(scales, 1, scale, min);
  EXPECT_EQ(scale, 37);
  EXPECT_EQ(min, 12);
  quant::k4_scale_min(scales, 5, scale, min);
  EXPECT_EQ(scale, 0x1a);
  EXPECT_EQ(min, 0x37);
  quant::k4_scale_min(scales, 0, scale, min);
  EXPECT_EQ(scale, 0);
  EXPECT_EQ(min, 0);
}

TEST(Dequantize, Q3_KScalePacking) {
  uint8_t scales[12] = {};
  scales[2] = 0x5c;  // group 2 low bits 0xc, group 10 low bits 0x5
  scales[10] = 0x9e;  // bits 0-1: group 2 (2), 2-3: group 6 (3), 4-5: group 10 (1), 6-7: group 14 (2)
  EXPECT_EQ(quant::q3_k_scale(scales, 2), (0xc | (2 << 4)) - 32);
  EXPECT_EQ(quant::q3_k_scale(scales, 6), (0x0 | (3 << 4)) - 32);
  EXPECT_EQ(quant::q3_k_scale(scales, 10), (0x5 | (1 << 4)) - 32);
  EXPECT_EQ(quant::q3_k_scale(scales, 14), (0x0 | (2 << 4)) - 32);
  EXPECT_EQ(quant::q3_k_scale(scales, 0), -32);
}

// Element 128 * h + 32 * s + l of Q6_K: low nibble of ql for s < 2, high for
// s >= 2, two bits of qh at shift 2 * s, int8 scale of group 8 * h + 2 * s + l / 16.
TEST(Dequantize, Q6_KElementOrder) {
  std::vector<uint8_t> block(quant::q6_k::kBytes, 0);
  store_half(block, quant::q6_k::kD, 1.0f);
  for (size_t g = 0; g < 16; ++g) block[quant::q6_k::kScales + g] = 1;
  block[quant::q6_k::kScales + 13] = static_cast<uint8_t>(-3);  // h 1, s 2, l >= 16

  // Element 128 + 64 + 20: ql[64 + 20] high nibble, qh[32 + 20] bits 4-5.
  block[quant::q6_k::kQl + 84] = 0x90;
  block[quant::q6_k::kQh + 52] = 0x20;  // bits 4-5 = 2
  std::vector<float> out(256);
  dequantize_row_ref(DType::Q6_K, block.data(), out.data(), 256);
  EXPECT_EQ(out[212], -3.0f * ((9 | (2 << 4)) - 32));
  // Element 84 (h 0, s 2, l 20) reads ql[20] and qh[20], both zero.
  EXPECT_EQ(out[84], -32.0f);
  // Element 148 (h 1, s 0, l 20) reads ql[64 + 20]'s low nibble, 0.
  EXPECT_EQ(out[148], -32.0f);
}

TEST(Dequantize, DotRowRefOfBlocks) {
  std::vector<uint8_t> block(quant::q4_1::kBytes, 0);
  store_half(block, quant::q4_1::kD, 0.25f);
  store_half(block, quant::q4_1::kM, 1.0f);
  for (size_t j = 0; j < 16; ++j) block[quant::q4_1::kQs + j] = static_cast<uint8_t>(j | (j << 4));

  std::vector<float> x(32);
  double expected = 0.0;
  for (size_t i = 0; i < 32; ++i) {
    x[i] = static_cast<float>(i) - 10.0f;
    expected += (0.25 * static_cast<double>(i % 16) + 1.0) * x[i];
  }
  EXPECT_EQ(dot_row_ref(DType::Q4_1, block.data(), x.data(), 32), expected);
}

TEST(Dequantize, RejectsPartialBlocks) {
  std::vector<uint8_t> row(1024);
  std::vector<float> x(512);
  try {
    dot_row_ref(DType::Q4_K, row.data(), x.data(), 288);
    FAIL() << "accepted a row of 288 q4_k values";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q4_k block size 256"), std::string::npos) << e.what();
  }
  try {
    dot_row_ref(DType::IQ2_XS, row.data(), x.data(), 256);
    FAIL() << "accepted iq2_xs";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("iq2_xs"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("q6_k"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(is_block_quantized(DType::Q2_K));
  EXPECT_FALSE(is_block_quantized(DType::BF16));
}

}  // namespace
}  // namespace edgelm
