#pragma once
// Scale searches of the k-quants: for a small group of values, find the
// scale (and minimum) whose rounded quants reconstruct the group best.
// Each follows ggml's search step for step so the results are bit-identical.

#include <cstdint>

namespace edgelm::quant {

// Symmetric quants in -nmax..nmax-1, stored as L[i] = q + nmax. With
// rmse_type 0 the scale maps the signed extreme to -nmax. With rmse_type 1
// it is refined by weighted least squares (weights x^2, or `weights` when
// given) over 18 trial scales around nmax. Returns the scale (0 for an
// all-zero group). ggml: make_qx_quants.
float fit_symmetric_scale(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* weights);

// Symmetric quants as above with nmax 4 and an iterative refinement that
// moves one quant at a time while the weighted error falls.
// ggml: make_q3_quants with do_rmse.
float fit_symmetric_scale_iterative(int n, int nmax, const float* x, int8_t* L);

// Asymmetric quants L[i] in 0..nmax for value = scale * L[i] - min, min >= 0.
// Tries nstep + 1 scales (nmax + rmin + rdelta * step over the range) and keeps the
// one with the least weighted error (absolute with use_mad, else squared).
// Writes the minimum to *min and returns the scale. `scratch` has room for n bytes.
// ggml: make_qkx2_quants.
float fit_scale_and_min(int n, int nmax, const float* x, const float* weights, uint8_t* L, float* min,
                        uint8_t* scratch, float rmin, float rdelta, int nstep, bool use_mad);

}  // namespace edgelm::quant
