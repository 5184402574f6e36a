// Speed of the weight-matrix kernels on Gemma 2 2B's matrix shapes: matvec
// (one token, as in decoding) and matmul (a prompt of tokens, as in prefill).
// Benchmark arguments are the type's DType number (8 q8_0, 12 q4_k, 14 q6_k),
// rows, columns and tokens; the type's name is the label. Threads come from
// EDGELM_BENCH_THREADS (default 2).
//
//   build/bench/matmul_bench --benchmark_filter='Matmul/8/'      # Q8_0 only

#include <cstdlib>
#include <map>
#include <random>
#include <vector>

#include <benchmark/benchmark.h>

#include "core/thread_pool.h"
#include "kernels/matvec.h"
#include "quant/quantize.h"
#include "tensor/dtype.h"

namespace edgelm {
namespace {

size_t bench_threads() {
  const char* value = std::getenv("EDGELM_BENCH_THREADS");
  return value ? static_cast<size_t>(std::atoi(value)) : 2;
}

ThreadPool& pool() {
  static ThreadPool shared(bench_threads());
  return shared;
}

// A rows x cols matrix of normally distributed weights in `type`, made once per shape.
const std::vector<uint8_t>& matrix_bytes(DType type, size_t rows, size_t cols) {
  static std::map<std::tuple<DType, size_t, size_t>, std::vector<uint8_t>> cache;
  auto& bytes = cache[{type, rows, cols}];
  if (!bytes.empty()) return bytes;

  std::mt19937 rng(1);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> row(cols);
  const size_t stride = row_bytes(type, cols);
  bytes.resize(rows * stride);
  for (size_t r = 0; r < rows; ++r) {
    for (float& v : row) v = dist(rng);
    quantize_row(type, row.data(), bytes.data() + r * stride, cols);
  }
  return bytes;
}

// Arguments: type, rows, cols, tokens.
void BM_Matmul(benchmark::State& state) {
  const auto type = static_cast<DType>(state.range(0));
  const size_t rows = state.range(1), cols = state.range(2), tokens = state.range(3);
  const std::vector<uint8_t>& bytes = matrix_bytes(type, rows, cols);
  const WeightMatrix w{type, bytes.data(), rows, cols, row_bytes(type, cols)};

  std::mt19937 rng(2);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(tokens * cols), y(tokens * rows);
  for (float& v : x) v = dist(rng);

  for (auto _ : state) {
    matmul(w, x.data(), tokens, y.data(), pool());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(dtype_name(type)));
  state.counters["GB/s"] = benchmark::Counter(static_cast<double>(bytes.size()), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["GMAC/s"] =
      benchmark::Counter(static_cast<double>(rows * cols * tokens), benchmark::Counter::kIsIterationInvariantRate);
}

// Decoding reads each matrix once per token from memory, not from cache:
// one matvec on each of 12 distinct matrices (about 270 MB in Q8_0).
// Arguments: type, rows, cols.
void BM_MatvecFromMemory(benchmark::State& state) {
  const auto type = static_cast<DType>(state.range(0));
  const size_t rows = state.range(1), cols = state.range(2);
  constexpr size_t kMatrices = 12;
  std::vector<WeightMatrix> matrices;
  for (size_t i = 0; i < kMatrices; ++i) {
    // Distinct shapes per copy keep the cache entries apart; one extra row each.
    const std::vector<uint8_t>& bytes = matrix_bytes(type, rows + i, cols);
    matrices.push_back({type, bytes.data(), rows, cols, row_bytes(type, cols)});
  }

  std::vector<float> x(cols, 0.5f), y(rows);
  for (auto _ : state) {
    for (const WeightMatrix& w : matrices) matvec(w, x.data(), y.data(), pool());
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(dtype_name(type)));
  const double bytes = static_cast<double>(kMatrices * rows * row_bytes(type, cols));
  state.counters["GB/s"] = benchmark::Counter(bytes, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_MatvecFromMemory)
    ->Args({static_cast<int64_t>(DType::Q8_0), 9216, 2304})
    ->Args({static_cast<int64_t>(DType::Q4_K), 9216, 2304})
    ->Args({static_cast<int64_t>(DType::Q6_K), 9216, 2304})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

void shapes(benchmark::internal::Benchmark* b) {
  for (DType type : {DType::Q8_0, DType::Q4_K, DType::Q6_K}) {
    const auto t = static_cast<int64_t>(type);
    b->Args({t, 9216, 2304, 1});    // ffn_gate / ffn_up, decode
    b->Args({t, 2304, 9216, 1});    // ffn_down, decode
    b->Args({t, 9216, 2304, 64});   // prefill tile
    b->Args({t, 9216, 2304, 512});  // prefill of 512 tokens
    b->Args({t, 2304, 9216, 512});  // ffn_down prefill: 64 tokens of activations exceed L2
  }
}

BENCHMARK(BM_Matmul)->Apply(shapes)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace edgelm

BENCHMARK_MAIN();
