#pragma once
// Keys and values of one sequence, per layer, in float32.
//
// Global layers keep every position of the context. Sliding-window layers keep
// a ring buffer of exactly `sliding_window` positions: position p lives in slot
// p % window, so their memory stops growing once the context passes the window.
// Callers always address by logical position.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "model/hparams.h"

namespace edgelm {

class KvCache {
 public:
  // Sizes each layer for a context of n_ctx positions. Memory is reserved
  // up front and committed by the OS only as positions are written. Sliding
  // layers get `rewind` positions beyond the window, so that a sequence can
  // step back that far after its ring has wrapped (see Sequence::truncate).
  KvCache(const HParams& hp, uint32_t n_ctx, uint32_t rewind = 0);
  ~KvCache();
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  uint32_t n_ctx() const { return n_ctx_; }
  uint32_t n_layers() const { return static_cast<uint32_t>(layers_.size()); }
  // Positions layer `il` holds: n_ctx for global layers, the window for sliding ones.
  uint32_t capacity(uint32_t il) const { return layers_[il].capacity; }
  bool is_sliding(uint32_t il) const { return layers_[il].sliding; }

  // Key and value vectors (k_dim and v_dim floats) of logical position `pos`.
  // For sliding layers only the last `window` positions written are valid.
  float* key(uint32_t il, uint32_t pos) { return layers_[il].keys + slot(il, pos) * k_dim_; }
  float* value(uint32_t il, uint32_t pos) { return layers_[il].values + slot(il, pos) * v_dim_; }
  const float* key(uint32_t il, uint32_t pos) const { return layers_[il].keys + slot(il, pos) * k_dim_; }
  const float* value(uint32_t il, uint32_t pos) const { return layers_[il].values + slot(il, pos) * v_dim_; }

  // Bytes reserved for layer il, and totals over the sliding and global layers.
  size_t layer_bytes(uint32_t il) const;
  size_t sliding_bytes() const;
  size_t global_bytes() const;
  size_t total_bytes() const { return sliding_bytes() + global_bytes(); }

  // Bytes that hold data once the first n_positions positions are written
  // (sliding layers count at most their window).
  size_t filled_bytes(uint32_t n_positions) const;

 private:
  struct Layer {
    bool sliding = false;
    uint32_t capacity = 0;
    float* keys = nullptr;    // [capacity, k_dim]
    float* values = nullptr;  // [capacity, v_dim]
    void* mapping = nullptr;
    size_t mapping_bytes = 0;
  };

  size_t slot(uint32_t il, uint32_t pos) const { return pos % layers_[il].capacity; }

  uint32_t n_ctx_;
  size_t k_dim_;
  size_t v_dim_;
  std::vector<Layer> layers_;
};

}  // namespace edgelm
