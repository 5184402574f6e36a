#include "kernels/ops.h"

#include "kernels/activations.h"
#include "kernels/matvec.h"

#include <algorithm>
#include <cmath>

namespace edgelm {

void rms_norm(const float* x, const float* weight, float eps, float* out, size_t n) {
  double sum_squares = 0.0;
  for (size_t i = 0; i < n; ++i) sum_squares += static_cast<double>(x[i]) * x[i];
  float scale = static_cast<float>(1.0 / std::sqrt(sum_squares / static_cast<double>(n) + eps));
  for (size_t i = 0; i < n; ++i) out[i] = x[i] * scale * weight[i];
}

void soft_cap(float* x, size_t n, float cap) {
  init_isa();
  kernels::soft_cap(x, n, cap);
}

void gelu_tanh_mul(float* gate, const float* up, size_t n) {
  init_isa();
  kernels::gelu_tanh_mul(gate, up, n);
}

void silu_mul(float* gate, const float* up, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void softmax(float* x, size_t n) {
  float max_value = *std::max_element(x, x + n);
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max_value);
    sum += x[i];
  }
  float inv_sum = static_cast<float>(1.0 / sum);
  for (size_t i = 0; i < n; ++i) x[i] *= inv_sum;
}

void rope_angles(uint32_t n_rot, uint32_t pos, float base, const float* freq_factors, float* cos, float* sin) {
  for (uint32_t i = 0; i < n_rot / 2; ++i) {
    // Angles in double: at long positions a float angle loses the digits that matter.
    double inv_freq = std::pow(static_cast<double>(base), -2.0 * i / n_rot);
    if (freq_factors != nullptr) inv_freq /= freq_factors[i];
    double angle = static_cast<double>(pos) * inv_freq;
    cos[i] = static_cast<float>(std::cos(angle));
    sin[i] = static_cast<float>(std::sin(angle));
  }
}

void rope_rotate(float* head, uint32_t n_rot, bool halves, const float* cos, const float* sin) {
  uint32_t half = n_rot / 2;
  for (uint32_t i = 0; i < half; ++i) {
    uint32_t a = halves ? i : 2 * i;
    uint32_t b = halves ? i + half : 2 * i + 1;
    float x0 = head[a];
    float x1 = head[b];
    head[a] = x0 * cos[i] - x1 * sin[i];
    head[b] = x0 * sin[i] + x1 * cos[i];
  }
}

void add_in_place(float* x, const float* y, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace edgelm
