#include "kv/kv_cache.h"

#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.h"

namespace edgelm {

KvCache::KvCache(const HParams& hp, uint32_t n_ctx, uint32_t rewind)
    : n_ctx_(n_ctx), k_dim_(hp.k_dim()), v_dim_(hp.v_dim()), layers_(hp.n_layer) {
  if (n_ctx == 0) fail("context length must be at least 1");

  for (uint32_t il = 0; il < hp.n_layer; ++il) {
    Layer& layer = layers_[il];
    layer.sliding = hp.layer_is_sliding[il] && hp.sliding_window > 0;
    layer.capacity = layer.sliding ? std::min<uint64_t>(uint64_t{hp.sliding_window} + rewind, n_ctx) : n_ctx;

    // Anonymous mappings are zero pages until written, so a long context
    // costs physical memory only for the positions actually used.
    size_t key_bytes = size_t{layer.capacity} * k_dim_ * sizeof(float);
    size_t value_bytes = size_t{layer.capacity} * v_dim_ * sizeof(float);
    layer.mapping_bytes = key_bytes + value_bytes;
    void* p = ::mmap(nullptr, layer.mapping_bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
      fail("cannot reserve {} bytes of KV cache for layer {} (context {}): {}; use a smaller -c",
           layer.mapping_bytes, il, n_ctx, std::strerror(errno));
    }
    layer.mapping = p;
    layer.keys = static_cast<float*>(p);
    layer.values = layer.keys + size_t{layer.capacity} * k_dim_;
  }
}

KvCache::~KvCache() {
  for (Layer& layer : layers_) {
    if (layer.mapping != nullptr) ::munmap(layer.mapping, layer.mapping_bytes);
  }
}

size_t KvCache::layer_bytes(uint32_t il) const { return layers_[il].mapping_bytes; }

size_t KvCache::sliding_bytes() const {
  size_t total = 0;
  for (const Layer& layer : layers_) total += layer.sliding ? layer.mapping_bytes : 0;
  return total;
}

size_t KvCache::global_bytes() const {
  size_t total = 0;
  for (const Layer& layer : layers_) total += layer.sliding ? 0 : layer.mapping_bytes;
  return total;
}

size_t KvCache::filled_bytes(uint32_t n_positions) const {
  size_t total = 0;
  for (const Layer& layer : layers_) {
    total += size_t{std::min(n_positions, layer.capacity)} * (k_dim_ + v_dim_) * sizeof(float);
  }
  return total;
}

}  // namespace edgelm
