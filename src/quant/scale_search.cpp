#include "quant/scale_search.h"

#include <algorithm>
#include <cmath>

#include "quant/quant_math.h"

namespace edgelm::quant {
namespace {

// Below this group maximum ggml treats a group as all zero.
constexpr float kGroupMaxEpsilon = 1e-15f;

// Weight of one value in the least-squares fit of fit_symmetric_scale.
float rmse_weight(int rmse_type, const float* weights, const float* x, int i) {
  if (weights != nullptr) return weights[i];
  switch (rmse_type) {
    case 1:
      return x[i] * x[i];
    case 2:
      return 1.0f;
    case 3:
      return std::fabs(x[i]);
    default:
      return std::sqrt(std::fabs(x[i]));
  }
}

// The quant of `value` for a symmetric scale, clamped to -nmax..nmax-1.
int symmetric_quant(float iscale, float value, int nmax) {
  return std::max(-nmax, std::min(nmax - 1, nearest_int(iscale * value)));
}

}  // namespace

float fit_symmetric_scale(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* weights) {
  // The signed extreme: the first value of largest magnitude.
  float max = 0.0f;
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEpsilon) {
    std::fill(L, L + n, int8_t{0});
    return 0.0f;
  }

  float iscale = -nmax / max;
  if (rmse_type == 0) {
    for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(nmax + symmetric_quant(iscale, x[i], nmax));
    return 1 / iscale;
  }

  // A negative rmse_type requests one refinement step and an early return.
  bool return_early = false;
  if (rmse_type < 0) {
    rmse_type = -rmse_type;
    return_early = true;
  }

  // Least-squares scale for the quants of the initial guess. The products
  // keep ggml's order, (w * x) * l and (w * l) * l, so the sums round alike.
  float sumlx = 0.0f;
  float suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = symmetric_quant(iscale, x[i], nmax);
    L[i] = static_cast<int8_t>(l + nmax);
    const float w = rmse_weight(rmse_type, weights, x, i);
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }
  float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
  if (return_early) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;

  // Trial scales nmax +- 0.1 * is; keep one when it explains more of the
  // signal (sumlx^2 / suml2 is the captured energy).
  float best = scale * sumlx;
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    iscale = -(nmax + 0.1f * is) / max;
    sumlx = 0.0f;
    suml2 = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = symmetric_quant(iscale, x[i], nmax);
      const float w = rmse_weight(rmse_type, weights, x, i);
      sumlx += w * x[i] * l;
      suml2 += w * l * l;
    }
    if (suml2 > 0 && sumlx * sumlx > best * suml2) {
      for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(nmax + symmetric_quant(iscale, x[i], nmax));
      scale = sumlx / suml2;
      best = scale * sumlx;
    }
  }
  return scale;
}

float fit_symmetric_scale_iterative(int n, int nmax, const float* x, int8_t* L) {
  float max = 0.0f;
  float amax = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
  if (amax < kGroupMaxEpsilon) {
    std::fill(L, L + n, int8_t{0});
    return 0.0f;
  }

  // Initial quants from the extreme, with weights x^2.
  const float iscale = -nmax / max;
  float sumlx = 0.0f;
  float suml2 = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = symmetric_quant(iscale, x[i], nmax);
    L[i] = static_cast<int8_t>(l);
    const float w = x[i] * x[i];
    sumlx += w * x[i] * l;
    suml2 += w * l * l;
  }

  // Up to five passes: re-round each value against the scale fitted without
  // it, and keep the change when the captured energy sumlx^2 / suml2 grows.
  for (int pass = 0; pass < 5; ++pass) {
    int n_changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = sumlx - w * x[i] * L[i];
      if (slx > 0) {
        float sl2 = suml2 - w * L[i] * L[i];
        const int new_l = std::max(-nmax, std::min(nmax - 1, nearest_int(x[i] * sl2 / slx)));
        if (new_l != L[i]) {
          slx += w * x[i] * new_l;
          sl2 += w * new_l * new_l;
          if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2) {
            L[i] = static_cast<int8_t>(new_l);
            sumlx = slx;
            suml2 = sl2;
            ++n_changed;
          }
        }
      }
    }
    if (n_changed == 0) break;
  }

  for (int i = 0; i < n; ++i) L[i] = static_cast<int8_t>(L[i] + nmax);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

float fit_scale_and_min(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* the_min,
                        uint8_t* scratch, float rmin, float rdelta, int nstep, bool use_mad) {
  float min = x[0];
  float max = x[0];
  float sum_w = weights[0];
  float sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    if (x[i] < min) min = x[i];
    if (x[i] > max) max = x[i];
    const float w = weights[i];
    sum_w += w;
    sum_x += w * x[i];
  }
  // The offset only ever subtracts: a group of positive values keeps min 0.
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(L, L + n, uint8_t{0});
    *the_min = -min;
    return 0.0f;
  }

  auto error_of = [use_mad](float diff) { return use_mad ? std::fabs(diff) : diff * diff; };

  // Initial quants: the range min..max spread over 0..nmax.
  float iscale = nmax / (max - min);
  float scale = 1 / iscale;
  float best_error = 0.0f;
  for (int i = 0; i < n; ++i) {
    const int l = nearest_int(iscale * (x[i] - min));
    L[i] = static_cast<uint8_t>(std::max(0, std::min(nmax, l)));
    const float diff = scale * L[i] + min - x[i];
    best_error += weights[i] * error_of(diff);
  }
  if (nstep < 1) {
    *the_min = -min;
    return scale;
  }

  for (int step = 0; step <= nstep; ++step) {
    // NOTE: min is the best minimum so far, not the group minimum, exactly
    // as in ggml: later trials round against the refit offset.
    iscale = (rmin + rdelta * step + nmax) / (max - min);
    float sum_l = 0.0f;
    float sum_l2 = 0.0f;
    float sum_xl = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int l = std::max(0, std::min(nmax, nearest_int(iscale * (x[i] - min))));
      scratch[i] = static_cast<uint8_t>(l);
      const float w = weights[i];
      sum_l += w * l;
      sum_l2 += w * l * l;
      sum_xl += w * l * x[i];
    }

    // Weighted least squares for value = scale * l + offset over these quants;
    // a positive offset is not allowed, so refit the scale alone then.
    const float determinant = sum_w * sum_l2 - sum_l * sum_l;
    if (determinant > 0) {
      float this_scale = (sum_w * sum_xl - sum_x * sum_l) / determinant;
      float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / determinant;
      if (this_min > 0) {
        this_min = 0;
        this_scale = sum_xl / sum_l2;
      }
      float error = 0.0f;
      for (int i = 0; i < n; ++i) {
        const float diff = this_scale * scratch[i] + this_min - x[i];
        error += weights[i] * error_of(diff);
      }
      if (error < best_error) {
        std::copy(scratch, scratch + n, L);
        best_error = error;
        scale = this_scale;
        min = this_min;
      }
    }
  }
  *the_min = -min;
  return scale;
}

}  // namespace edgelm::quant
