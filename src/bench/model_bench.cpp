#include "bench/model_bench.h"

#include <algorithm>
#include <chrono>
#include <filesystem>

#include <fmt/format.h>

#include "bench/decode_traffic.h"
#include "bench/machine_info.h"
#include "bench/speed_test.h"
#include "core/count_noun.h"
#include "core/error.h"
#include "core/log.h"
#include "core/thread_pool.h"
#include "kernels/matvec.h"
#include "model/context.h"
#include "model/model.h"
#include "plan/memory_check.h"

namespace edgelm {
namespace {

constexpr uint64_t kMaxContext = uint64_t{1} << 24;

void check_settings(const BenchSettings& settings) {
  if (settings.n_prompt == 0 && settings.n_gen == 0) {
    fail("both tests are empty (0 prompt and 0 decode tokens); give a positive prompt or decode length");
  }
  // One context contains both tests. The cap is the -c maximum of the other commands.
  if (uint64_t{settings.n_prompt} + settings.n_gen > kMaxContext) {
    fail("{} prompt + {} decode tokens exceed the maximum context of {} tokens", settings.n_prompt, settings.n_gen,
         kMaxContext);
  }
  if (settings.repetitions < 1) fail("repetitions {} is invalid; give at least 1", settings.repetitions);
  if (settings.bandwidth_passes < 1) fail("bandwidth passes {} is invalid; give at least 1", settings.bandwidth_passes);
}

SpeedTest summarize_test(uint32_t n_tokens, std::vector<double> samples) {
  SpeedTest test;
  test.n_tokens = n_tokens;
  test.tok_s = summarize_samples(samples);
  test.samples_tok_s = std::move(samples);
  return test;
}

}  // namespace

double roofline_tokens_per_second(double bandwidth_gb_s, uint64_t bytes_per_token) {
  if (bytes_per_token == 0) fail("cannot compute a roofline for 0 bytes per token");
  return bandwidth_gb_s * 1e9 / static_cast<double>(bytes_per_token);
}

uint64_t model_file_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code error;
  if (!fs::is_directory(path, error)) {
    const uint64_t bytes = fs::file_size(path, error);
    if (error) fail("{}: reading the file size failed: {}", path, error.message());
    return bytes;
  }

  fs::directory_iterator entries(path, error);
  if (error) fail("{}: listing the directory failed: {}", path, error.message());
  uint64_t total = 0;
  for (const fs::directory_entry& entry : entries) {
    if (entry.path().extension() != ".safetensors") continue;
    std::error_code size_error;
    const uint64_t bytes = entry.file_size(size_error);
    if (size_error) fail("{}: reading the file size failed: {}", entry.path().string(), size_error.message());
    total += bytes;
  }
  return total;
}

BenchReport run_model_bench(const BenchSettings& settings) {
  check_settings(settings);
  ThreadPool pool(settings.n_threads);

  BenchReport report;
  report.model_path = settings.model_path;
  report.file_bytes = model_file_bytes(settings.model_path);
  report.n_threads = pool.size();
  report.n_prompt = settings.n_prompt;
  report.n_gen = settings.n_gen;
  report.repetitions = settings.repetitions;
  report.cpu = cpu_model_name();

  const auto load_start = std::chrono::steady_clock::now();
  std::unique_ptr<Model> model =
      Model::load(settings.model_path, settings.mmap ? FileAccess::kMap : FileAccess::kReadIntoMemory);
  report.load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  report.architecture = model->hparams().arch_name;
  report.mapped = model->file().access() == FileAccess::kMap;
  report.isa = active_isa();
  for (const GgufTensor& tensor : model->file().tensors()) report.weights_bytes += tensor.n_bytes;
  spdlog::info("bench: loaded {} ({}) in {:.3f} s; kernels {}, {}", settings.model_path, report.architecture,
               report.load_s, report.isa, count_noun(report.n_threads, "thread"));

  const HParams& hp = model->hparams();
  const uint32_t n_ctx = settings.n_prompt + settings.n_gen;
  if (hp.n_ctx_train > 0 && n_ctx > hp.n_ctx_train) {
    report.warnings.push_back(fmt::format("-p + -n = {} tokens exceeds the trained context of {} tokens; the speeds "
                                          "are measured, but the model's output past its trained context has no meaning",
                                          n_ctx, hp.n_ctx_train));
  }
  if (report.n_threads > ThreadPool::hardware_threads()) {
    report.warnings.push_back(fmt::format("{} share {}, so the speeds come out lower than with -t {}",
                                          count_noun(report.n_threads, "thread"),
                                          count_noun(ThreadPool::hardware_threads(), "CPU"),
                                          ThreadPool::hardware_threads()));
  }
  for (const std::string& warning : report.warnings) spdlog::warn("bench: {}", warning);

  // One context for both tests. Its batch takes the whole prompt, so the
  // prefill test is a single forward pass.
  Context context(*model, n_ctx, pool, std::max<uint32_t>(settings.n_prompt, 1));
  const uint32_t n_vocab = hp.n_vocab;

  if (settings.n_prompt > 0) {
    spdlog::info("bench: pp{}: 1 warm-up run and {}", settings.n_prompt,
                 count_noun(settings.repetitions, "timed run"));
    const std::vector<int32_t> prompt = random_tokens(settings.n_prompt, n_vocab, settings.seed);
    report.prefill = summarize_test(settings.n_prompt, time_prefill(context, prompt, settings.repetitions));
  }
  if (settings.n_gen > 0) {
    spdlog::info("bench: tg{}: 1 warm-up run and {}", settings.n_gen, count_noun(settings.repetitions, "timed run"));
    const std::vector<int32_t> generated = random_tokens(settings.n_gen, n_vocab, settings.seed + 1);
    report.decode = summarize_test(settings.n_gen, time_decode(context, generated, settings.repetitions));
  }
  report.rss_bytes = resident_bytes();
  report.kv_bytes = context.kv_cache().total_bytes();

  report.weight_bytes_per_token = decode_weight_bytes(model->file());
  report.kv_read_bytes_per_token = decode_kv_bytes(context.kv_cache(), settings.n_gen);
  report.bytes_per_token = report.weight_bytes_per_token + report.kv_read_bytes_per_token;

  const uint64_t buffer_bytes =
      settings.bandwidth_buffer_bytes > 0 ? settings.bandwidth_buffer_bytes : default_bandwidth_buffer_bytes();
  const std::optional<uint64_t> cache_bytes = last_level_cache_bytes();
  if (cache_bytes && buffer_bytes < 4 * *cache_bytes) {
    spdlog::warn("bench: the bandwidth buffer of {} MiB is under 4 times the {} MiB last-level cache, so part of "
                 "it is read from the cache and the bandwidth comes out too high",
                 buffer_bytes >> 20, *cache_bytes >> 20);
  }
  spdlog::info("bench: memory bandwidth: {} over {} MiB", count_noun(settings.bandwidth_passes, "pass", "passes"),
               buffer_bytes >> 20);
  report.bandwidth = measure_read_bandwidth(pool, buffer_bytes, settings.bandwidth_passes);

  // The fastest pass is the ceiling that the decode speed is set against.
  report.roofline_tok_s = roofline_tokens_per_second(report.bandwidth.best_gb_per_s, report.bytes_per_token);
  if (report.decode) report.roofline_fraction = report.decode->tok_s.median / report.roofline_tok_s;
  return report;
}

}  // namespace edgelm
