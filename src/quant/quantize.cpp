#include "quant/quantize.h"

#include <array>
#include <string>

#include "core/error.h"
#include "quant/row_quantizers.h"

namespace edgelm {
namespace {

using RowQuantizer = void (*)(const float*, uint8_t*, size_t);

struct Quantizer {
  DType type;
  RowQuantizer quantize;
};

constexpr std::array<Quantizer, 10> kQuantizers = {{
    {DType::Q4_0, quant::quantize_row_q4_0},
    {DType::Q4_1, quant::quantize_row_q4_1},
    {DType::Q5_0, quant::quantize_row_q5_0},
    {DType::Q5_1, quant::quantize_row_q5_1},
    {DType::Q8_0, quant::quantize_row_q8_0},
    {DType::Q2_K, quant::quantize_row_q2_k},
    {DType::Q3_K, quant::quantize_row_q3_k},
    {DType::Q4_K, quant::quantize_row_q4_k},
    {DType::Q5_K, quant::quantize_row_q5_k},
    {DType::Q6_K, quant::quantize_row_q6_k},
}};

constexpr std::array<DType, kQuantizers.size()> kTypes = [] {
  std::array<DType, kQuantizers.size()> types{};
  for (size_t i = 0; i < kQuantizers.size(); ++i) types[i] = kQuantizers[i].type;
  return types;
}();

const Quantizer* find_quantizer(DType type) {
  for (const auto& q : kQuantizers) {
    if (q.type == type) return &q;
  }
  return nullptr;
}

}  // namespace

bool quantize_supported(DType type) { return find_quantizer(type) != nullptr; }

std::span<const DType> quantizable_types() { return kTypes; }

void quantize_row(DType type, const float* src, uint8_t* dst, size_t n) {
  const Quantizer* quantizer = find_quantizer(type);
  if (quantizer == nullptr) {
    std::string names;
    for (DType t : kTypes) names += (names.empty() ? "" : ", ") + std::string(dtype_name(t));
    fail("cannot quantize to {}: supported types are {}", dtype_name(type), names);
  }
  const uint32_t block = dtype_info(type).block_size;
  if (n % block != 0) {
    fail("cannot quantize a row of {} values to {}: the length must be a multiple of {}", n, dtype_name(type), block);
  }
  quantizer->quantize(src, dst, n);
}

}  // namespace edgelm
