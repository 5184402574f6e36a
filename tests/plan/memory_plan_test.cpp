// Memory plans of the built-in shapes checked against hand-computed sums.

#include <gtest/gtest.h>

#include <cstdint>

#include "core/error.h"
#include "kernels/matvec.h"
#include "plan/memory_plan.h"
#include "plan/model_shapes.h"
#include "tensor/dtype.h"

namespace edgelm {
namespace {

HParams shape(const char* name) { return shape_hparams(find_model_shape(name)); }

TEST(MemoryPlanKv, Gemma9bSlidingAndGlobal) {
  const KvPlan kv = plan_kv_cache(shape("gemma-2-9b"), default_deployment(8192, 1, KvType::kF32, 1));

  // 21 global layers of 8192 positions and 21 sliding layers of a 4096-position
  // ring, each position holding K and V of 8 heads x 256 floats.
  const uint64_t position_bytes = 2ull * 8 * 256 * 4;
  EXPECT_EQ(kv.global_bytes, 21ull * 8192 * position_bytes);
  EXPECT_EQ(kv.sliding_bytes, 21ull * 4096 * position_bytes);
  EXPECT_EQ(kv.total_bytes(), 21ull * (8192 + 4096) * 2 * 8 * 256 * 4);
  EXPECT_EQ(kv.total_bytes(), 4227858432ull);
  EXPECT_EQ(kv.without_swa_bytes, 42ull * 8192 * 2 * 8 * 256 * 4);
  EXPECT_EQ(kv.without_swa_bytes, 5637144576ull);
}

TEST(MemoryPlanKv, ContextShorterThanWindow) {
  // A ring never has more positions than the context.
  const KvPlan kv = plan_kv_cache(shape("gemma-2-2b"), default_deployment(1000, 1, KvType::kF32, 1));
  const uint64_t position_bytes = 2ull * 4 * 256 * 4;
  EXPECT_EQ(kv.global_bytes, 13ull * 1000 * position_bytes);
  EXPECT_EQ(kv.sliding_bytes, 13ull * 1000 * position_bytes);
  EXPECT_EQ(kv.without_swa_bytes, kv.total_bytes());
}

TEST(MemoryPlanKv, LlamaHasNoSlidingLayers) {
  const KvPlan kv = plan_kv_cache(shape("llama-3.1-8b"), default_deployment(8192, 1, KvType::kF32, 1));
  EXPECT_EQ(kv.sliding_bytes, 0u);
  EXPECT_EQ(kv.global_bytes, 32ull * 8192 * 2 * 8 * 128 * 4);
  EXPECT_EQ(kv.without_swa_bytes, kv.total_bytes());
}

TEST(MemoryPlanKv, ParallelMultipliesEverySequence) {
  const HParams hp = shape("gemma-2-9b");
  const Deployment single_sequence = default_deployment(8192, 1, KvType::kF32, 1);
  Deployment four_sequences = single_sequence;
  four_sequences.n_parallel = 4;
  const KvPlan single = plan_kv_cache(hp, single_sequence);
  const KvPlan multiple = plan_kv_cache(hp, four_sequences);
  EXPECT_EQ(multiple.global_bytes, 4 * single.global_bytes);
  EXPECT_EQ(multiple.sliding_bytes, 4 * single.sliding_bytes);
  EXPECT_EQ(multiple.without_swa_bytes, 4 * single.without_swa_bytes);
}

TEST(MemoryPlanKv, ServeRingsKeepRewindPositions) {
  // serve's sequences keep 64 positions beyond the window for prefix reuse.
  const Deployment serve = default_deployment(8192, 3, KvType::kF32, 1);
  EXPECT_EQ(serve.rewind, 64u);
  EXPECT_EQ(serve.batch_rows, 256u);
  const KvPlan kv = plan_kv_cache(shape("gemma-2-9b"), serve);
  const uint64_t position_bytes = 2ull * 8 * 256 * 4;
  EXPECT_EQ(kv.global_bytes, 3 * 21ull * 8192 * position_bytes);
  EXPECT_EQ(kv.sliding_bytes, 3 * 21ull * (4096 + 64) * position_bytes);
}

TEST(MemoryPlanKv, ElementSizesOfEachType) {
  const HParams hp = shape("gemma-2-9b");
  const uint64_t f32 = plan_kv_cache(hp, default_deployment(8192, 1, KvType::kF32, 1)).total_bytes();
  const uint64_t bf16 = plan_kv_cache(hp, default_deployment(8192, 1, KvType::kBF16, 1)).total_bytes();
  const uint64_t q8 = plan_kv_cache(hp, default_deployment(8192, 1, KvType::kQ8_0, 1)).total_bytes();
  EXPECT_EQ(bf16, f32 / 2);
  // q8_0 stores 32 values in 34 bytes: 2048 keys of a position take 64 blocks.
  EXPECT_EQ(q8, 21ull * (8192 + 4096) * 2 * (2048 / 32 * 34));
  EXPECT_EQ(q8 * 128, f32 * 34);

  EXPECT_EQ(kv_type_bytes(KvType::kF32, 10), 40u);
  EXPECT_EQ(kv_type_bytes(KvType::kBF16, 10), 20u);
  EXPECT_EQ(kv_type_bytes(KvType::kQ8_0, 64), 68u);
  EXPECT_EQ(kv_type_bytes(KvType::kQ8_0, 33), 68u);
}

TEST(MemoryPlanKv, ParsesKvTypeNames) {
  EXPECT_EQ(parse_kv_type("f32"), KvType::kF32);
  EXPECT_EQ(parse_kv_type("BF16"), KvType::kBF16);
  EXPECT_EQ(parse_kv_type("q8_0"), KvType::kQ8_0);
  EXPECT_THROW(parse_kv_type("f16"), Error);
  EXPECT_EQ(kv_type_name(KvType::kQ8_0), "q8_0");
}

TEST(MemoryPlanWeights, Gemma2bQ8MatchesHandSum) {
  const std::vector<TensorDesc> tensors = shape_tensors(find_model_shape("gemma-2-2b"), "q8_0");
  const MemoryPlan plan = plan_memory("gemma-2-2b", shape("gemma-2-2b"), tensors,
                                      default_deployment(8192, 1, KvType::kF32, 1), RuntimeOverhead{});

  // Q8_0 rows: 34 bytes per 32 values. A row of 2304 values is 72 blocks, of
  // 2048 values 64 blocks, of 9216 values 288 blocks.
  const uint64_t row_2304 = 72 * 34;
  const uint64_t row_2048 = 64 * 34;
  const uint64_t row_9216 = 288 * 34;
  const uint64_t embedding = 256000 * row_2304;      // tied, so it is also the output head
  const uint64_t attention = 2048 * row_2304          // attn_q: 8 heads x 256 rows
                             + 2 * 1024 * row_2304    // attn_k, attn_v: 4 heads x 256 rows
                             + 2304 * row_2048;       // attn_output
  const uint64_t ffn = 2 * 9216 * row_2304 + 2304 * row_9216;  // gate, up, down
  const uint64_t norms = 4 * 2304 * 4;                        // four F32 norms per layer
  const uint64_t expected = embedding + 26 * (attention + ffn + norms) + 2304 * 4;

  EXPECT_EQ(plan.weights_bytes, expected);
  EXPECT_EQ(plan.weights_bytes, 2778448896ull);
  ASSERT_EQ(plan.weights_by_type.size(), 2u);
  EXPECT_EQ(plan.weights_by_type.at("f32"), 26 * norms + 2304 * 4);
  EXPECT_EQ(plan.weights_by_type.at("q8_0"), expected - 26 * norms - 2304 * 4);
}

TEST(MemoryPlanWeights, FloatTypesKeepNormsF32) {
  const ModelShape& llama = find_model_shape("llama-3.1-8b");
  const std::vector<TensorDesc> tensors = shape_tensors(llama, "bf16");
  uint64_t bf16 = 0;
  uint64_t f32 = 0;
  for (const TensorDesc& tensor : tensors) (tensor.type == DType::BF16 ? bf16 : f32) += tensor_bytes(tensor);

  // 8,029,995,008 parameters in matrices, and 266,304 floats in norms and rope_freqs.
  const uint64_t matrices = 2ull * 128256 * 4096 +
                            32ull * (4096ull * 4096 * 2 + 2ull * 1024 * 4096 + 3ull * 14336 * 4096);
  EXPECT_EQ(bf16, 2 * matrices);
  EXPECT_EQ(f32, 4 * (4096 + 64 + 32ull * 2 * 4096));
  EXPECT_EQ(tensors.size(), 3u + 1 + 32 * 9);
}

TEST(MemoryPlanCompute, TinyShapeByHand) {
  // The tiny Gemma 2 test model's shape.
  HParams hp = shape("gemma-2-2b");
  hp.n_embd = 256;
  hp.n_head = 4;
  hp.n_head_kv = 2;
  hp.head_dim = hp.head_dim_v = hp.n_rot = 64;
  hp.n_ff = 768;
  hp.n_vocab = 8192;
  const std::vector<TensorDesc> f32_tensors = {{"blk.0.ffn_down.weight", {768, 256}, DType::F32}};
  const Deployment deployment = default_deployment(1024, 1, KvType::kF32, 2);

  // Per row: x, xn, proj (256 each), q 256, k 128, v 128, attention output
  // 256, gate and up (768 each) and RoPE cos and sin (32 each) floats.
  const uint64_t floats_per_row = 3 * 256 + 256 + 128 + 128 + 256 + 2 * 768 + 64;
  const uint64_t activations = 64 * floats_per_row * 4;
  const uint64_t bookkeeping = 64 * (24 + 4 + 8);
  const uint64_t logits = 8192 * 4;
  const uint64_t scores = 2 * 1024 * 4;
  uint64_t expected = activations + bookkeeping + logits + scores;
  if (activation_type(DType::F32) != DType::F32) expected += 64 * row_bytes(activation_type(DType::F32), 768);
  EXPECT_EQ(plan_compute_bytes(hp, deployment, f32_tensors), expected);

  // Integer kernels quantize a batch of the widest row (768 values of ffn_down) first.
  const std::vector<TensorDesc> q8_tensors = {{"blk.0.ffn_down.weight", {768, 256}, DType::Q8_0},
                                              {"blk.0.ffn_up.weight", {256, 768}, DType::Q8_0}};
  const DType q8_activations = activation_type(DType::Q8_0);
  const uint64_t quantized = q8_activations == DType::F32 ? 0 : 64 * row_bytes(q8_activations, 768);
  EXPECT_EQ(plan_compute_bytes(hp, deployment, q8_tensors), activations + bookkeeping + logits + scores + quantized);
}

TEST(MemoryPlanTotal, SumsEveryPart) {
  const ModelShape& gemma = find_model_shape("gemma-2-9b");
  const std::vector<TensorDesc> tensors = shape_tensors(gemma, "q4_k_m");
  const HParams hp = shape_hparams(gemma);
  const Deployment deployment = default_deployment(8192, 1, KvType::kF32, 4);
  const RuntimeOverhead overhead = estimate_runtime_overhead(tensors, gemma.n_vocab, gemma.n_merges, 0);
  const MemoryPlan plan = plan_memory("gemma-2-9b", hp, tensors, deployment, overhead);

  EXPECT_EQ(plan.total_bytes(), plan.weights_bytes + plan.kv.total_bytes() + plan.compute_bytes +
                                    overhead.baseline_bytes + overhead.load_bytes + overhead.vocab_bytes + overhead.metadata_bytes +
                                    overhead.norm_copy_bytes);
  EXPECT_EQ(overhead.baseline_bytes, kBaselineRssBytes);
  // Four norms per layer and the output norm, as floats.
  EXPECT_EQ(overhead.norm_copy_bytes, (42ull * 4 + 1) * 3584 * 4);
  EXPECT_EQ(plan.kv.total_bytes(), 4227858432ull);
}

}  // namespace
}  // namespace edgelm
