#include "kv/kv_cache.h"

#include <gtest/gtest.h>

namespace edgelm {
namespace {

// Gemma 2 2B's attention shape: 26 layers alternating sliding (even) and global (odd).
HParams gemma2_2b_shape() {
  HParams hp;
  hp.n_layer = 26;
  hp.n_head = 8;
  hp.n_head_kv = 4;
  hp.head_dim = 256;
  hp.head_dim_v = 256;
  hp.sliding_window = 4096;
  hp.layer_is_sliding.resize(hp.n_layer);
  for (uint32_t il = 0; il < hp.n_layer; ++il) hp.layer_is_sliding[il] = il % 2 == 0;
  return hp;
}

TEST(KvCache, SlidingBytesStopAtWindow) {
  HParams hp = gemma2_2b_shape();
  KvCache at_window(hp, hp.sliding_window);
  KvCache at_8x(hp, 8 * hp.sliding_window);

  EXPECT_EQ(at_window.sliding_bytes(), at_8x.sliding_bytes());
  EXPECT_EQ(at_8x.global_bytes(), 8 * at_window.global_bytes());

  // 13 sliding layers x 4096 positions x (keys + values of 4 heads x 256) x 4 bytes.
  EXPECT_EQ(at_8x.sliding_bytes(), size_t{13} * 4096 * 2 * 1024 * 4);
  EXPECT_EQ(at_8x.capacity(0), 4096u);
  EXPECT_EQ(at_8x.capacity(1), 8u * 4096u);
}

TEST(KvCache, SlidingCapacityIsContextWhenShorter) {
  HParams hp = gemma2_2b_shape();
  KvCache cache(hp, 100);
  EXPECT_EQ(cache.capacity(0), 100u);
  EXPECT_EQ(cache.capacity(1), 100u);
}

TEST(KvCache, RingAddressesByLogicalPosition) {
  HParams hp = gemma2_2b_shape();
  hp.sliding_window = 32;
  KvCache cache(hp, 256);

  // Position p and p + window share a slot in a sliding layer, never in a global one.
  for (uint32_t pos = 0; pos < 100; ++pos) cache.key(0, pos)[0] = static_cast<float>(pos);
  for (uint32_t pos = 68; pos < 100; ++pos) EXPECT_EQ(cache.key(0, pos)[0], static_cast<float>(pos));
  EXPECT_EQ(cache.key(0, 3), cache.key(0, 35));
  EXPECT_NE(cache.key(1, 3), cache.key(1, 35));
}

TEST(KvCache, LlamaHasNoSlidingLayers) {
  HParams hp = gemma2_2b_shape();
  hp.sliding_window = 0;
  hp.layer_is_sliding.assign(hp.n_layer, false);
  KvCache cache(hp, 1000);
  EXPECT_EQ(cache.sliding_bytes(), 0u);
  EXPECT_EQ(cache.capacity(0), 1000u);
}

}  // namespace
}  // namespace edgelm
