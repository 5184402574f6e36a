// Random tensor data: random quant bytes under fixed scale fields for the
// block-quantized types, bell-shaped draws for the float types.

#include "synth/random_weights.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "tensor/quant_blocks.h"
#include "tensor/reference.h"

namespace edgelm::synth {
namespace {

// Elements per independently seeded run of a tensor: a multiple of every
// block size, and large enough that seeding costs nothing.
constexpr uint64_t kElementsPerRun = 65536;

// Layout of a block type's fp16 scale fields, and the size of its decoded
// values when every other byte is uniformly random.
struct ScaleLayout {
  DType type;
  size_t d_offset;
  // The second fp16 field (dmin of the K-quants, m of Q4_1 and Q5_1), or
  // kNoMin. It is set to min_per_d * d, which centres the values on 0.
  size_t min_offset;
  double min_per_d;
  // Root mean square of the decoded values at d = 1, from the uniform
  // distributions of the random quants and sub-scales (see each comment).
  double unit_rms;
};

constexpr size_t kNoMin = SIZE_MAX;

namespace q = edgelm::quant;

constexpr ScaleLayout kScaleLayouts[] = {
    // d * (q - 8), q in 0..15: E[(q - 8)^2] = 21.5.
    {DType::Q4_0, q::q4_0::kD, kNoMin, 0.0, 4.6368},
    // d * q + m, q in 0..15, m = -7.5 d: variance of q, 21.25.
    {DType::Q4_1, q::q4_1::kD, q::q4_1::kM, -7.5, 4.6098},
    // d * (q - 16), q in 0..31: E[(q - 16)^2] = 85.5.
    {DType::Q5_0, q::q5_0::kD, kNoMin, 0.0, 9.2466},
    // d * q + m, q in 0..31, m = -15.5 d: variance of q, 85.25.
    {DType::Q5_1, q::q5_1::kD, q::q5_1::kM, -15.5, 9.2331},
    // d * q, q in -128..127: E[q^2] = 5461.5.
    {DType::Q8_0, q::q8_0::kD, kNoMin, 0.0, 73.902},
    // d * s * q - dmin * m, s and m in 0..15, q in 0..3, dmin = 1.5 d: E = 192.5.
    {DType::Q2_K, q::q2_k::kD, q::q2_k::kDmin, 1.5, 13.874},
    // d * s * q, s in -32..31, q in -4..3: E = 341.5 * 5.5.
    {DType::Q3_K, q::q3_k::kD, kNoMin, 0.0, 43.339},
    // d * s * q - dmin * m, s and m in 0..63, q in 0..15, dmin = 7.5 d: E = 66727.5.
    {DType::Q4_K, q::q4_k::kD, q::q4_k::kDmin, 7.5, 258.32},
    // The same with q in 0..31 and dmin = 15.5 d: E = 277651.5.
    {DType::Q5_K, q::q5_k::kD, q::q5_k::kDmin, 15.5, 526.92},
    // d * s * (q - 32), s in -128..127, q in 0..63: E = 5461.5 * 341.5.
    {DType::Q6_K, q::q6_k::kD, kNoMin, 0.0, 1365.7},
};

const ScaleLayout* find_scale_layout(DType type) {
  for (const ScaleLayout& layout : kScaleLayouts) {
    if (layout.type == type) return &layout;
  }
  return nullptr;
}

bool is_float_type(DType type) { return type == DType::F32 || type == DType::F16 || type == DType::BF16; }

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void fill_random_bytes(RandomStream& random, uint8_t* out, size_t n) {
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint64_t bits = random.next();
    std::memcpy(out + i, &bits, 8);
  }
  if (i < n) {
    const uint64_t bits = random.next();
    std::memcpy(out + i, &bits, n - i);
  }
}

void store_f16(uint8_t* out, float value) {
  const uint16_t half = f32_to_f16(value);
  std::memcpy(out, &half, sizeof(half));
}

// A draw of mean 0 and variance 1 from one 64-bit word: the sum of its four
// 16-bit parts, each uniform on [0, 1), has mean 2 and variance 1/3.
float bell_draw(uint64_t bits) {
  const uint32_t sum = static_cast<uint32_t>(bits & 0xffff) + static_cast<uint32_t>((bits >> 16) & 0xffff) +
                       static_cast<uint32_t>((bits >> 32) & 0xffff) + static_cast<uint32_t>(bits >> 48);
  constexpr float kSqrt3 = 1.7320508f;
  return (static_cast<float>(sum) / 65536.0f - 2.0f) * kSqrt3;
}

void fill_blocks(const ScaleLayout& layout, float rms, RandomStream& random, uint8_t* out, size_t n_blocks) {
  const size_t block_bytes = dtype_info(layout.type).block_bytes;
  fill_random_bytes(random, out, n_blocks * block_bytes);

  // The scale fields are the same in every block, and only the quants and sub-scales vary.
  const float d = static_cast<float>(rms / layout.unit_rms);
  uint8_t d_bytes[2];
  uint8_t min_bytes[2];
  store_f16(d_bytes, d);
  store_f16(min_bytes, static_cast<float>(layout.min_per_d * d));
  for (size_t b = 0; b < n_blocks; ++b) {
    uint8_t* block = out + b * block_bytes;
    std::memcpy(block + layout.d_offset, d_bytes, 2);
    if (layout.min_offset != kNoMin) std::memcpy(block + layout.min_offset, min_bytes, 2);
  }
}

void fill_floats(DType type, const ValueSpread& spread, RandomStream& random, uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float value = spread.center + spread.rms * bell_draw(random.next());
    switch (type) {
      case DType::F32:
        std::memcpy(out + 4 * i, &value, sizeof(value));
        break;
      case DType::F16:
        store_f16(out + 2 * i, value);
        break;
      default: {
        const uint16_t bf16 = f32_to_bf16(value);
        std::memcpy(out + 2 * i, &bf16, sizeof(bf16));
        break;
      }
    }
  }
}

// Throws Error when `n_elements` elements of `type` cannot be drawn with `spread`.
void check_fill(DType type, const ValueSpread& spread, uint64_t n_elements) {
  if (is_float_type(type)) return;

  if (find_scale_layout(type) == nullptr) {
    fail("cannot generate random {} weights; the types edgelm can generate are f32, f16, bf16, q4_0, q4_1, q5_0, "
         "q5_1, q8_0, q2_k, q3_k, q4_k, q5_k and q6_k",
         dtype_name(type));
  }
  if (spread.center != 0.0f) {
    fail("{} weights are generated centred on 0, but the center {} was requested; use a float type for other "
         "centres",
         dtype_name(type), spread.center);
  }
  const uint32_t block_size = dtype_info(type).block_size;
  if (n_elements % block_size != 0) {
    fail("{} elements do not fill whole {} blocks of {} elements", n_elements, dtype_name(type), block_size);
  }
}

// fill_random_elements without its checks, for pool threads, where an
// exception would end the program. Callers run check_fill first.
void fill_checked(DType type, const ValueSpread& spread, RandomStream& random, uint8_t* out, size_t n_elements) {
  if (is_float_type(type)) {
    fill_floats(type, spread, random, out, n_elements);
    return;
  }
  const ScaleLayout& layout = *find_scale_layout(type);
  fill_blocks(layout, spread.rms, random, out, n_elements / dtype_info(type).block_size);
}

}  // namespace

RandomStream::RandomStream(uint64_t seed) {
  for (uint64_t& word : state_) word = splitmix64(seed);
}

uint64_t RandomStream::next() {
  const uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = std::rotl(state_[3], 45);
  return result;
}

uint64_t mix_seed(uint64_t a, uint64_t b) {
  uint64_t state = a ^ (b * 0xd1b54a32d192ed03ull);
  return splitmix64(state);
}

void fill_random_elements(DType type, const ValueSpread& spread, RandomStream& random, uint8_t* out,
                          size_t n_elements) {
  check_fill(type, spread, n_elements);
  fill_checked(type, spread, random, out, n_elements);
}

void fill_random_tensor(DType type, uint64_t n_elements, const ValueSpread& spread, uint64_t seed, ThreadPool& pool,
                        std::vector<uint8_t>& out) {
  check_fill(type, spread, n_elements);
  out.resize(row_bytes(type, n_elements));
  const uint64_t n_runs = (n_elements + kElementsPerRun - 1) / kElementsPerRun;
  const size_t run_bytes = row_bytes(type, kElementsPerRun);

  pool.parallel_for(n_runs, [&](size_t begin, size_t end) {
    for (size_t run = begin; run < end; ++run) {
      RandomStream random(mix_seed(seed, run));
      const uint64_t first = run * kElementsPerRun;
      const uint64_t count = std::min<uint64_t>(kElementsPerRun, n_elements - first);
      fill_checked(type, spread, random, out.data() + run * run_bytes, count);
    }
  });
}

}  // namespace edgelm::synth
