#include "bench/speed_test.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "core/error.h"

namespace edgelm {
namespace {

using Clock = std::chrono::steady_clock;

double tokens_per_second(size_t n_tokens, Clock::time_point start, Clock::time_point end) {
  // A clock tick is at least a nanosecond, which keeps the rate finite.
  const double seconds = std::max(1e-9, std::chrono::duration<double>(end - start).count());
  return static_cast<double>(n_tokens) / seconds;
}

// Runs `run` once untimed, then `repetitions` times, each from an empty context.
template <typename Run>
std::vector<double> time_runs(Context& context, size_t n_tokens, int repetitions, Run run) {
  if (repetitions < 1) fail("repetitions {} is invalid; give at least 1", repetitions);

  context.reset();
  run();

  std::vector<double> samples;
  for (int i = 0; i < repetitions; ++i) {
    context.reset();
    const Clock::time_point start = Clock::now();
    run();
    samples.push_back(tokens_per_second(n_tokens, start, Clock::now()));
  }
  return samples;
}

}  // namespace

std::vector<int32_t> random_tokens(size_t n, uint32_t n_vocab, uint64_t seed) {
  if (n_vocab == 0) fail("cannot draw tokens from an empty vocabulary");
  std::mt19937_64 generator(seed);
  std::uniform_int_distribution<int32_t> distribution(0, static_cast<int32_t>(n_vocab - 1));
  std::vector<int32_t> tokens(n);
  for (int32_t& token : tokens) token = distribution(generator);
  return tokens;
}

std::vector<double> time_prefill(Context& context, std::span<const int32_t> tokens, int repetitions) {
  if (tokens.empty()) fail("the prefill test needs at least one token");
  return time_runs(context, tokens.size(), repetitions,
                   [&] { context.eval(tokens.data(), tokens.size(), LogitsMode::kLast); });
}

std::vector<double> time_decode(Context& context, std::span<const int32_t> tokens, int repetitions) {
  if (tokens.empty()) fail("the decode test needs at least one token");
  return time_runs(context, tokens.size(), repetitions, [&] {
    for (const int32_t& token : tokens) context.eval(&token, 1, LogitsMode::kLast);
  });
}

}  // namespace edgelm
