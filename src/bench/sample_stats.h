#pragma once
// Summary of repeated measurements: median and spread.

#include <span>

namespace edgelm {

struct SampleStats {
  double median = 0.0;  // the middle value, or the mean of the two middle ones
  double min = 0.0;
  double max = 0.0;
  double stddev = 0.0;  // sample standard deviation (divides by n - 1); 0 for one sample
};

// Summarizes `samples`. Throws Error when there are none.
SampleStats summarize_samples(std::span<const double> samples);

}  // namespace edgelm
