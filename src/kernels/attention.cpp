// Attention of the query heads that share one KV head, in a single pass over
// their keys (see attention.h). Two heads at a time load each key and value once.
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
// Key and query pairs whose dot products run side by side as independent FMA
// chains: eight chains hide the FMA latency and fit the 16 registers of AVX2
// and SSE4.
template <size_t kQueries>
constexpr size_t kKeyGroup = std::max<size_t>(1, 8 / kSumsPerKey / kQueries);

// Query heads attended together, which share each key and value load.
constexpr size_t kMaxQueries = 2;

// scores[q * kTile + k] = dot(queries[q], keys[k]) for k < kKeys. Vector i of
// the head goes into partial sum i % kSumsPerKey, and the partial sums are
// added pairwise. So a key's score does not depend on the group size or on
// the number of queries.
// NOTE: arrays of vectors do not compile for sizeless SVE/RVV vector types;
// only the x86 targets have been built and tested.
template <size_t kKeys, size_t kQueries>
HWY_INLINE void DotKeys(const float* const* queries, const float* const* keys, size_t head_dim, float* scores) {
  const AttentionTag d;
  const size_t lanes = hn::Lanes(d);
  AttentionVec acc[kQueries][kKeys][kSumsPerKey];
  for (size_t q = 0; q < kQueries; ++q) {
    for (size_t k = 0; k < kKeys; ++k) {
      for (size_t s = 0; s < kSumsPerKey; ++s) acc[q][k][s] = hn::Zero(d);
    }
  }

  // kSumsPerKey vectors per step, one per partial sum.
  size_t i = 0;
  for (; i + kSumsPerKey * lanes <= head_dim; i += kSumsPerKey * lanes) {
    for (size_t s = 0; s < kSumsPerKey; ++s) {
      for (size_t k = 0; k < kKeys; ++k) {
        const AttentionVec key = hn::LoadU(d, keys[k] + i + s * lanes);
        for (size_t q = 0; q < kQueries; ++q) {
          acc[q][k][s] = hn::MulAdd(hn::LoadU(d, queries[q] + i + s * lanes), key, acc[q][k][s]);
        }
      }
    }
  }

  // Fewer than kSumsPerKey whole vectors, then a partial one, continuing the rotation.
  size_t s = 0;
  for (; i + lanes <= head_dim; i += lanes, ++s) {
    for (size_t k = 0; k < kKeys; ++k) {
      const AttentionVec key = hn::LoadU(d, keys[k] + i);
      for (size_t q = 0; q < kQueries; ++q) acc[q][k][s] = hn::MulAdd(hn::LoadU(d, queries[q] + i), key, acc[q][k][s]);
    }
  }
  if (i < head_dim) {
    for (size_t k = 0; k < kKeys; ++k) {
      const AttentionVec key = LoadAttentionTail(d, keys[k] + i, head_dim - i);
      for (size_t q = 0; q < kQueries; ++q) {
        acc[q][k][s] = hn::MulAdd(LoadAttentionTail(d, queries[q] + i, head_dim - i), key, acc[q][k][s]);
      }
    }
  }

  for (size_t q = 0; q < kQueries; ++q) {
    for (size_t k = 0; k < kKeys; ++k) {
      for (size_t width = kSumsPerKey; width > 1; width /= 2) {
        for (size_t half = 0; half < width / 2; ++half) {
          acc[q][k][half] = hn::Add(acc[q][k][2 * half], acc[q][k][2 * half + 1]);
        }
      }
      scores[q * kTile + k] = hn::GetLane(hn::SumOfLanes(d, acc[q][k][0]));
    }
  }
}

// outs[q][offset, offset + kVectors * Lanes) = outs[q] * rescale[q] +
// sum_k weights[q * kTile + k] * values[k], with the output vectors held in
// registers for the whole tile.
template <size_t kVectors, size_t kQueries>
HWY_INLINE void AddWeightedValues(float* const* outs, size_t offset, const float* const* values, const float* weights,
                                  size_t n_keys, const float* rescale) {
  const AttentionTag d;
  const size_t lanes = hn::Lanes(d);
  AttentionVec sum[kQueries][kVectors];
  for (size_t q = 0; q < kQueries; ++q) {
    const AttentionVec factor = hn::Set(d, rescale[q]);
    for (size_t v = 0; v < kVectors; ++v) sum[q][v] = hn::Mul(hn::LoadU(d, outs[q] + offset + v * lanes), factor);
  }

  for (size_t k = 0; k < n_keys; ++k) {
    const float* value = values[k] + offset;
    for (size_t v = 0; v < kVectors; ++v) {
      const AttentionVec value_v = hn::LoadU(d, value + v * lanes);
      for (size_t q = 0; q < kQueries; ++q) sum[q][v] = hn::MulAdd(hn::Set(d, weights[q * kTile + k]), value_v, sum[q][v]);
    }
  }

  for (size_t q = 0; q < kQueries; ++q) {
    for (size_t v = 0; v < kVectors; ++v) hn::StoreU(sum[q][v], d, outs[q] + offset + v * lanes);
  }
}

// The same for the last `count` < Lanes output elements, through padded copies.
template <size_t kQueries>
HWY_INLINE void AddWeightedValuesTail(float* const* outs, size_t offset, size_t count, const float* const* values,
                                      const float* weights, size_t n_keys, const float* rescale) {
  const AttentionTag d;
  for (size_t q = 0; q < kQueries; ++q) {
    AttentionVec sum = hn::Mul(LoadAttentionTail(d, outs[q] + offset, count), hn::Set(d, rescale[q]));
    for (size_t k = 0; k < n_keys; ++k) {
      sum = hn::MulAdd(hn::Set(d, weights[q * kTile + k]), LoadAttentionTail(d, values[k] + offset, count), sum);
    }

    HWY_ALIGN float buffer[hn::MaxLanes(d)];
    hn::Store(sum, d, buffer);
    std::memcpy(outs[q] + offset, buffer, count * sizeof(float));
  }
}

// Runs AddWeightedValues over all value_dim output elements: blocks of
// 8 / kQueries vectors, then at most one block each of the smaller powers of
// two, then the tail.
template <size_t kQueries>
HWY_INLINE void AddTileValues(float* const* outs, size_t value_dim, const float* const* values, const float* weights,
                              size_t n_keys, const float* rescale) {
  const AttentionTag d;
  const size_t lanes = hn::Lanes(d);
  constexpr size_t kWidest = 8 / kQueries;
  size_t i = 0;
  for (; i + kWidest * lanes <= value_dim; i += kWidest * lanes) {
    AddWeightedValues<kWidest, kQueries>(outs, i, values, weights, n_keys, rescale);
  }
  if constexpr (kWidest > 4) {
    if (i + 4 * lanes <= value_dim) {
      AddWeightedValues<4, kQueries>(outs, i, values, weights, n_keys, rescale);
      i += 4 * lanes;
    }
  }
  if (i + 2 * lanes <= value_dim) {
    AddWeightedValues<2, kQueries>(outs, i, values, weights, n_keys, rescale);
    i += 2 * lanes;
  }
  if (i + lanes <= value_dim) {
    AddWeightedValues<1, kQueries>(outs, i, values, weights, n_keys, rescale);
    i += lanes;
  }
  if (i < value_dim) AddWeightedValuesTail<kQueries>(outs, i, value_dim - i, values, weights, n_keys, rescale);
}

// Scales and caps one query's raw scores of a tile and folds them into its
// state: weights[k] = exp(score - max) for k < n_keys and 0 after. Returns
// the factor exp(old max - new max) for the output accumulated so far.
HWY_INLINE float SoftmaxTile(float* HWY_RESTRICT scores, size_t n_keys, float scale, float soft_cap,
                             OnlineSoftmax& state, float* HWY_RESTRICT weights) {
  const AttentionTag d;
  const size_t lanes = hn::Lanes(d);

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
  for (size_t k = 0; k < n_keys; ++k) {
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
  const AttentionVec max_v = hn::Set(d, state.max_score);
  for (size_t i = 0; i < n_keys; i += lanes) {
    const AttentionVec weight = hn::Exp(d, hn::Sub(hn::Load(d, scores + i), max_v));
    hn::Store(hn::IfThenElseZero(hn::FirstN(d, n_keys - i), weight), d, weights + i);
  }

  float tile_sum = 0.0f;
  for (size_t k = 0; k < n_keys; ++k) tile_sum += weights[k];
  state.denominator = state.denominator * rescale + tile_sum;
  return rescale;
}

// Folds n_keys <= kTile keys into the states and unnormalized outputs of
// kQueries query heads.
template <size_t kQueries>
HWY_NOINLINE void AttendTile(const float* const* queries, size_t head_dim, const float* const* keys,
                             const float* const* values, size_t n_keys, size_t value_dim, float scale,
                             float soft_cap, OnlineSoftmax* states, float* const* outs) {
  // Raw dot products. Entries past n_keys stay 0 so whole vectors can be loaded.
  HWY_ALIGN float scores[kQueries * kTile] = {};
  constexpr size_t kGroup = kKeyGroup<kQueries>;
  size_t k = 0;
  for (; k + kGroup <= n_keys; k += kGroup) DotKeys<kGroup, kQueries>(queries, keys + k, head_dim, scores + k);
  if constexpr (kGroup > 4) {
    for (; k + 4 <= n_keys; k += 4) DotKeys<4, kQueries>(queries, keys + k, head_dim, scores + k);
  }
  for (; k < n_keys; ++k) DotKeys<1, kQueries>(queries, keys + k, head_dim, scores + k);

  HWY_ALIGN float weights[kQueries * kTile];
  float rescale[kQueries];
  for (size_t q = 0; q < kQueries; ++q) {
    rescale[q] = SoftmaxTile(scores + q * kTile, n_keys, scale, soft_cap, states[q], weights + q * kTile);
  }
  AddTileValues<kQueries>(outs, value_dim, values, weights, n_keys, rescale);
}

// Attends kQueries heads: queries[q] and outs[q] for q < kQueries.
template <size_t kQueries>
HWY_INLINE void AttendGroup(const float* const* queries, size_t head_dim, const KeyValueRun* runs, size_t n_runs,
                            size_t value_dim, float scale, float soft_cap, float* const* outs) {
  OnlineSoftmax states[kQueries];
  for (size_t q = 0; q < kQueries; ++q) {
    std::memset(outs[q], 0, value_dim * sizeof(float));
    states[q] = {-std::numeric_limits<float>::infinity(), 0.0f};
  }

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
        AttendTile<kQueries>(queries, head_dim, keys, values, n_keys, value_dim, scale, soft_cap, states, outs);
        n_keys = 0;
      }
    }
  }
  if (n_keys > 0) AttendTile<kQueries>(queries, head_dim, keys, values, n_keys, value_dim, scale, soft_cap, states, outs);

  for (size_t q = 0; q < kQueries; ++q) {
    for (size_t i = 0; i < value_dim; ++i) outs[q][i] /= states[q].denominator;
  }
}

// Heads i < n_heads: query at queries + i * head_dim, output at out + i * value_dim.
void AttendHeads(const float* queries, size_t n_heads, size_t head_dim, const KeyValueRun* runs, size_t n_runs,
                 size_t value_dim, float scale, float soft_cap, float* out) {
  size_t h = 0;
  for (; h + kMaxQueries <= n_heads; h += kMaxQueries) {
    const float* group_queries[kMaxQueries];
    float* group_outs[kMaxQueries];
    for (size_t q = 0; q < kMaxQueries; ++q) {
      group_queries[q] = queries + (h + q) * head_dim;
      group_outs[q] = out + (h + q) * value_dim;
    }
    AttendGroup<kMaxQueries>(group_queries, head_dim, runs, n_runs, value_dim, scale, soft_cap, group_outs);
  }
  for (; h < n_heads; ++h) {
    const float* query = queries + h * head_dim;
    float* head_out = out + h * value_dim;
    AttendGroup<1>(&query, head_dim, runs, n_runs, value_dim, scale, soft_cap, &head_out);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace edgelm::kernels
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace edgelm {
namespace kernels {

namespace {

HWY_EXPORT(AttendHeads);

void attend_heads_dispatch(const float* queries, size_t n_heads, size_t head_dim, std::span<const KeyValueRun> runs,
                           size_t value_dim, float scale, float soft_cap, float* out) {
  HWY_DYNAMIC_DISPATCH(AttendHeads)(queries, n_heads, head_dim, runs.data(), runs.size(), value_dim, scale, soft_cap,
                                    out);
}

}  // namespace
}  // namespace kernels

void attend_heads(const float* queries, size_t n_heads, size_t head_dim, std::span<const KeyValueRun> runs,
                  size_t value_dim, float scale, float soft_cap, float* out) {
  size_t n_keys = 0;
  for (const KeyValueRun& run : runs) n_keys += run.count;
  if (n_keys == 0) fail("attention needs at least one key, but its {} key runs hold none", runs.size());

  init_isa();
  kernels::attend_heads_dispatch(queries, n_heads, head_dim, runs, value_dim, scale, soft_cap, out);
}

void attend_head(const float* query, size_t head_dim, std::span<const KeyValueRun> runs, size_t value_dim,
                 float scale, float soft_cap, float* out) {
  attend_heads(query, 1, head_dim, runs, value_dim, scale, soft_cap, out);
}

}  // namespace edgelm
#endif  // HWY_ONCE
