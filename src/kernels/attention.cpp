// One query head's attention in a single pass over its keys (see attention.h).
// Highway compiles this file once per target (foreach_target) and picks one at
// run time.
//
// Keys go in tiles of kTile. For each tile the scores are computed, scaled and
// capped, and the running max moves at most once. One sweep over the output
// then rescales it by exp(old max - new max) and adds the tile's values with
// weights exp(score - max). The sum of the weights is rescaled the same way,
// and the output is divided by it once at the end.
//
// Tiles start at fixed offsets from the first key, every key's dot product sums
// in the same order, and every output element goes through the same operations,
// so the result depends only on the keys and values, not on how runs cut them.

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kernels/attention.cpp"
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "core/error.h"
#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "kernels/attention.h"
#include "kernels/matvec.h"

HWY_BEFORE_NAMESPACE();
namespace edgelm::kernels {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using AttentionTag = hn::ScalableTag<float>;
using AttentionVec = hn::Vec<AttentionTag>;

// Keys per tile: a multiple of the lane count of every x86 target (at most 16
// floats), so the score loops below run over whole vectors.
constexpr size_t kTile = 16;
static_assert(kTile % hn::MaxLanes(AttentionTag()) == 0, "a tile must be whole vectors");

// Running softmax state: the max score so far and the sum of exp(score - max).
struct OnlineSoftmax {
  float max_score;
  float denominator;
};

// Floats x[0, count) with count < Lanes, zero-padded to a full vector.
HWY_INLINE AttentionVec LoadAttentionTail(AttentionTag d, const float* x, size_t count) {
  HWY_ALIGN float buffer[hn::MaxLanes(d)] = {};
  std::memcpy(buffer, x, count * sizeof(float));
  return hn::Load(d, buffer);
}

// Partial sums of each dot product, lanes included: at least 8 on every target,
// so that narrow targets (SSE4, scalar) round as little as AVX2 does.
constexpr size_t kSumsPerKey = hn::MaxLanes(AttentionTag()) >= 8 ? 1 : 8 / hn::MaxLanes(AttentionTag());
// Keys whose dot products run side by side as independent FMA chains: eight
// chains hide the FMA latency and fit the 16 registers of AVX2 and SSE4.
constexpr size_t kKeyGroup = 8 / kSumsPerKey;

// scores[k] = dot(query, keys[k]) for k < kKeys. Vector i of the head goes into
// partial sum i % kSumsPerKey of its key, and the partial sums are added
// pairwise, so a key's score is the same in a group of any size.
// NOTE: arrays of vectors do not compile for sizeless SVE/RVV vector types;
// only the x86 targets have been built and tested.
template <size_t kKeys>
HWY_INLINE void DotKeys(const float* HWY_RESTRICT query, const float* const* keys, size_t head_dim,
                        float* scores) {
  const AttentionTag d;
  const size_t lanes = hn::Lanes(d);
  AttentionVec acc[kKeys][kSumsPerKey];
  for (size_t k = 0; k < kKeys; ++k) {
    for (size_t s = 0; s < kSumsPerKey; ++s) acc[k][s] = hn::Zero(d);
  }

  // kSumsPerKey vectors per step, one per partial sum.
  size_t i = 0;
  for (; i + kSumsPerKey * lanes <= head_dim; i += kSumsPerKey * lanes) {
    for (size_t s = 0; s < kSumsPerKey; ++s) {
      const AttentionVec q = hn::LoadU(d, query + i + s * lanes);
      for (size_t k = 0; k < kKeys; ++k) acc[k][s] = hn::MulAdd(q, hn::LoadU(d, keys[k] + i + s * lanes), acc[k][s]);
    }
  }

  // Fewer than kSumsPerKey whole vectors, then a partial one, continuing the rotation.
  size_t s = 0;
  for (; i + lanes <= head_dim; i += lanes, ++s) {
    const AttentionVec q = hn::LoadU(d, query + i);
    for (size_t k = 0; k < kKeys; ++k) acc[k][s] = hn::MulAdd(q, hn::LoadU(d, keys[k] + i), acc[k][s]);
  }
  if (i < head_dim) {
    const AttentionVec q = LoadAttentionTail(d, query + i, head_dim - i);
    for (size_t k = 0; k < kKeys; ++k) {
      acc[k][s] = hn::MulAdd(q, LoadAttentionTail(d, keys[k] + i, head_dim - i), acc[k][s]);
    }
  }

  for (size_t k = 0; k < kKeys; ++k) {
    for (size_t width = kSumsPerKey; width > 1; width /= 2) {
      for (size_t half = 0; half < width / 2; ++half) acc[k][half] = hn::Add(acc[k][2 * half], acc[k][2 * half + 1]);
    }
    scores[k] = hn::GetLane(hn::SumOfLanes(d, acc[k][0]));
  }
}

// out[offset, offset + kVectors * Lanes) = out * rescale + sum_k weights[k] * values[k],
// with the output vectors held in registers for the whole tile.
template <size_t kVectors>
HWY_INLINE void AddWeightedValues(float* HWY_RESTRICT out, size_t offset, const float* const* values,
                                  const float* weights, size_t n_keys, float rescale) {
  const AttentionTag d;
  const size_t lanes = hn::Lanes(d);
  const AttentionVec factor = hn::Set(d, rescale);
  AttentionVec sum[kVectors];
  for (size_t v = 0; v < kVectors; ++v) sum[v] = hn::Mul(hn::LoadU(d, out + offset + v * lanes), factor);

  for (size_t k = 0; k < n_keys; ++k) {
    const AttentionVec weight = hn::Set(d, weights[k]);
    const float* value = values[k] + offset;
    for (size_t v = 0; v < kVectors; ++v) sum[v] = hn::MulAdd(weight, hn::LoadU(d, value + v * lanes), sum[v]);
  }

  for (size_t v = 0; v < kVectors; ++v) hn::StoreU(sum[v], d, out + offset + v * lanes);
}

// The same for the last `count` < Lanes output elements, through padded copies.
HWY_INLINE void AddWeightedValuesTail(float* HWY_RESTRICT out, size_t offset, size_t count,
                                      const float* const* values, const float* weights, size_t n_keys,
                                      float rescale) {
  const AttentionTag d;
  AttentionVec sum = hn::Mul(LoadAttentionTail(d, out + offset, count), hn::Set(d, rescale));
  for (size_t k = 0; k < n_keys; ++k) {
    sum = hn::MulAdd(hn::Set(d, weights[k]), LoadAttentionTail(d, values[k] + offset, count), sum);
  }

  HWY_ALIGN float buffer[hn::MaxLanes(d)];
  hn::Store(sum, d, buffer);
  std::memcpy(out + offset, buffer, count * sizeof(float));
}

// Runs AddWeightedValues over all value_dim output elements: blocks of eight
// vectors, then at most one block each of four, two and one, then the tail.
HWY_INLINE void AddTileValues(float* HWY_RESTRICT out, size_t value_dim, const float* const* values,
                              const float* weights, size_t n_keys, float rescale) {
  const AttentionTag d;
  const size_t lanes = hn::Lanes(d);
  size_t i = 0;
  for (; i + 8 * lanes <= value_dim; i += 8 * lanes) AddWeightedValues<8>(out, i, values, weights, n_keys, rescale);
  if (i + 4 * lanes <= value_dim) {
    AddWeightedValues<4>(out, i, values, weights, n_keys, rescale);
    i += 4 * lanes;
  }
  if (i + 2 * lanes <= value_dim) {
    AddWeightedValues<2>(out, i, values, weights, n_keys, rescale);
    i += 2 * lanes;
  }
  if (i + lanes <= value_dim) {
    AddWeightedValues<1>(out, i, values, weights, n_keys, rescale);
    i += lanes;
  }
  if (i < value_dim) AddWeightedValuesTail(out, i, value_dim - i, values, weights, n_keys, rescale);
}

// Folds n_keys <= kTile keys into `state` and the unnormalized output `out`.
HWY_NOINLINE void AttendTile(const float* HWY_RESTRICT query, size_t head_dim, const float* const* keys,
                             const float* const* values, size_t n_keys, size_t value_dim, float scale,
                             float soft_cap, OnlineSoftmax& state, float* HWY_RESTRICT out) {
  const AttentionTag d;
  const size_t lanes = hn::Lanes(d);

  // Raw dot products. Entries past n_keys stay 0 so whole vectors can be loaded.
  HWY_ALIGN float scores[kTile] = {};
  size_t k = 0;
  for (; k + kKeyGroup <= n_keys; k += kKeyGroup) DotKeys<kKeyGroup>(query, keys + k, head_dim, scores + k);
  if constexpr (kKeyGroup > 4) {
    for (; k + 4 <= n_keys; k += 4) DotKeys<4>(query, keys + k, head_dim, scores + k);
  }
  for (; k < n_keys; ++k) DotKeys<1>(query, keys + k, head_dim, scores + k);

  // Scale, then cap * tanh(s / cap) before the scores reach the max and exp.
  const AttentionVec scale_v = hn::Set(d, scale);
  const AttentionVec cap_v = hn::Set(d, soft_cap);
  const AttentionVec inv_cap_v = hn::Set(d, soft_cap > 0.0f ? 1.0f / soft_cap : 0.0f);
  for (size_t i = 0; i < n_keys; i += lanes) {
    AttentionVec s = hn::Mul(hn::Load(d, scores + i), scale_v);
    if (soft_cap > 0.0f) s = hn::Mul(cap_v, hn::Tanh(d, hn::Mul(s, inv_cap_v)));
    hn::Store(s, d, scores + i);
  }

  // The tile's max. A NaN is kept, so that it makes the rescale factor, and
  // with it the whole output, NaN instead of dropping the key.
  float tile_max = -std::numeric_limits<float>::infinity();
  for (k = 0; k < n_keys; ++k) {
    if (std::isnan(scores[k])) {
      tile_max = scores[k];
      break;
    }
    tile_max = std::max(tile_max, scores[k]);
  }

  // A larger max shrinks everything accumulated so far. For the first tile the
  // old max is -inf and the factor 0, which leaves the zeroed output alone.
  float rescale = 1.0f;
  if (tile_max > state.max_score || std::isnan(tile_max)) {
    rescale = std::exp(state.max_score - tile_max);
    state.max_score = tile_max;
  }

  // Weights exp(s - max) <= 1, zero in the lanes past n_keys.
  HWY_ALIGN float weights[kTile];
  const AttentionVec max_v = hn::Set(d, state.max_score);
  for (size_t i = 0; i < n_keys; i += lanes) {
    const AttentionVec weight = hn::Exp(d, hn::Sub(hn::Load(d, scores + i), max_v));
    hn::Store(hn::IfThenElseZero(hn::FirstN(d, n_keys - i), weight), d, weights + i);
  }

  float tile_sum = 0.0f;
  for (k = 0; k < n_keys; ++k) tile_sum += weights[k];
  state.denominator = state.denominator * rescale + tile_sum;
  AddTileValues(out, value_dim, values, weights, n_keys, rescale);
}

void AttendHead(const float* query, size_t head_dim, const KeyValueRun* runs, size_t n_runs, size_t value_dim,
                float scale, float soft_cap, float* out) {
  std::memset(out, 0, value_dim * sizeof(float));
  OnlineSoftmax state{-std::numeric_limits<float>::infinity(), 0.0f};

  // Gather the runs' keys into tiles counted from the first key.
  const float* keys[kTile];
  const float* values[kTile];
  size_t n_keys = 0;
  for (size_t r = 0; r < n_runs; ++r) {
    const KeyValueRun& run = runs[r];
    for (size_t i = 0; i < run.count; ++i) {
      keys[n_keys] = run.keys + i * run.key_stride;
      values[n_keys] = run.values + i * run.value_stride;
      if (++n_keys == kTile) {
        AttendTile(query, head_dim, keys, values, n_keys, value_dim, scale, soft_cap, state, out);
        n_keys = 0;
      }
    }
  }
  if (n_keys > 0) AttendTile(query, head_dim, keys, values, n_keys, value_dim, scale, soft_cap, state, out);

  for (size_t i = 0; i < value_dim; ++i) out[i] /= state.denominator;
}

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgelm {
namespace kernels {

namespace {

HWY_EXPORT(AttendHead);

void attend_head_dispatch(const float* query, size_t head_dim, std::span<const KeyValueRun> runs, size_t value_dim,
                          float scale, float soft_cap, float* out) {
  HWY_DYNAMIC_DISPATCH(AttendHead)(query, head_dim, runs.data(), runs.size(), value_dim, scale, soft_cap, out);
}

}  // namespace
}  // namespace kernels

void attend_head(const float* query, size_t head_dim, std::span<const KeyValueRun> runs, size_t value_dim,
                 float scale, float soft_cap, float* out) {
  size_t n_keys = 0;
  for (const KeyValueRun& run : runs) n_keys += run.count;
  if (n_keys == 0) fail("attention needs at least one key, but its {} key runs hold none", runs.size());

  init_isa();
  kernels::attend_head_dispatch(query, head_dim, runs, value_dim, scale, soft_cap, out);
}

}  // namespace edgelm
#endif  // HWY_ONCE
