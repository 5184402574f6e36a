#pragma once
// `edgelm bench`: the prefill and decode speed of a model file on this
// machine, set against the memory-bandwidth roofline of decoding.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bench/memory_bandwidth.h"
#include "bench/sample_stats.h"

namespace edgelm {

struct BenchSettings {
  std::string model_path;              // GGUF file or Hugging Face directory
  uint32_t n_prompt = 512;             // prefill tokens; 0 skips the prefill test
  uint32_t n_gen = 128;                // decode tokens; 0 skips the decode test
  int repetitions = 5;                 // timed runs of each test, after one warm-up run
  size_t n_threads = 0;                // 0: one per online CPU
  uint64_t bandwidth_buffer_bytes = 0;  // 0: default_bandwidth_buffer_bytes()
  int bandwidth_passes = 5;
  uint64_t seed = 1234;  // of the random prompt and decode tokens
  bool mmap = false;     // map the GGUF file instead of reading it into memory
};

// One test's timed runs in tokens per second.
struct SpeedTest {
  uint32_t n_tokens = 0;
  std::vector<double> samples_tok_s;
  SampleStats tok_s;
};

struct BenchReport {
  std::string model_path;
  std::string architecture;  // general.architecture
  uint64_t file_bytes = 0;     // the GGUF file, or the directory's .safetensors files
  uint64_t weights_bytes = 0;  // sum of the tensors' bytes
  size_t n_threads = 0;
  uint32_t n_prompt = 0;
  uint32_t n_gen = 0;
  int repetitions = 0;
  std::string isa;  // the kernels' instruction set
  std::string cpu;
  std::vector<std::string> warnings;  // settings that make the figures misleading

  double load_s = 0.0;  // Model::load
  bool mapped = false;  // the weights were mapped, not read into memory
  std::optional<SpeedTest> prefill;  // absent when n_prompt is 0
  std::optional<SpeedTest> decode;   // absent when n_gen is 0
  uint64_t rss_bytes = 0;            // resident set after the tests, context still allocated
  uint64_t kv_bytes = 0;             // the KV cache of the context of n_prompt + n_gen positions

  uint64_t weight_bytes_per_token = 0;  // decode_weight_bytes
  uint64_t kv_read_bytes_per_token = 0;  // mean KV cache bytes read per decode step (decode_kv_bytes)
  uint64_t bytes_per_token = 0;         // the sum of the two
  BandwidthResult bandwidth;            // measured with the tests' thread pool
  double roofline_tok_s = 0.0;          // roofline_tokens_per_second of the best bandwidth pass
  std::optional<double> roofline_fraction;  // median decode tok/s / roofline_tok_s; absent without decode
};

// The decode speed that memory bandwidth alone allows:
// bandwidth_gb_s * 1e9 / bytes_per_token.
double roofline_tokens_per_second(double bandwidth_gb_s, uint64_t bytes_per_token);

// Bytes of the model on disk: the size of a file, or the sum of the
// .safetensors files of a directory. Throws Error naming the path when it
// cannot be read.
uint64_t model_file_bytes(const std::string& path);

// Loads the model (timed), runs the prefill and decode tests on one context
// of n_prompt + n_gen positions whose batch takes the whole prompt, reads
// the resident set, then measures the read bandwidth on the same pool.
// Throws Error for invalid settings and for any failure to load or run.
BenchReport run_model_bench(const BenchSettings& settings);

}  // namespace edgelm
