#pragma once
// Element-wise and per-vector operations of the decoder, in float32.
// Not bandwidth-bound like the matrix products, so they are plain loops.

#include <cstddef>
#include <cstdint>

namespace edgelm {

// out = x / sqrt(mean(x²) + eps) * weight. The weight of Gemma files already
// contains (1 + w). Sums in double so the norm does not depend on the length.
void rms_norm(const float* x, const float* weight, float eps, float* out, size_t n);

// softcap(s, c) = c * tanh(s / c), in place.
void soft_cap(float* x, size_t n, float cap);

// gelu_tanh(g) * u, in place into gate: GELU with the tanh approximation.
void gelu_tanh_mul(float* gate, const float* up, size_t n);

// silu(g) * u, in place into gate.
void silu_mul(float* gate, const float* up, size_t n);

// Softmax in place, subtracting the max first.
void softmax(float* x, size_t n);

// Fills cos[i] and sin[i] (n_rot / 2 each) of the RoPE angles of position
// `pos`: pair i turns by pos * base^(-2i / n_rot) / freq_factors[i].
// freq_factors may be null.
void rope_angles(uint32_t n_rot, uint32_t pos, float base, const float* freq_factors, float* cos, float* sin);

// Rotates the first n_rot dimensions of one head by the given angles.
// `halves` pairs i with i + n_rot/2 (Gemma); otherwise 2i with 2i + 1.
void rope_rotate(float* head, uint32_t n_rot, bool halves, const float* cos, const float* sin);

// x += y.
void add_in_place(float* x, const float* y, size_t n);

}  // namespace edgelm
