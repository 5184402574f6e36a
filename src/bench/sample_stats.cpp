#include "bench/sample_stats.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace edgelm {

SampleStats summarize_samples(std::span<const double> samples) {
  if (samples.empty()) fail("no samples to summarize: a benchmark needs at least one repetition");

  std::vector<double> sorted(samples.begin(), samples.end());
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();

  SampleStats stats;
  stats.min = sorted.front();
  stats.max = sorted.back();
  stats.median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;

  if (n > 1) {
    double mean = 0.0;
    for (double x : sorted) mean += x;
    mean /= static_cast<double>(n);
    double squares = 0.0;
    for (double x : sorted) squares += (x - mean) * (x - mean);
    stats.stddev = std::sqrt(squares / static_cast<double>(n - 1));
  }
  return stats;
}

}  // namespace edgelm
