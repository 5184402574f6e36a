#pragma once
// Vector versions of the tanh-based element-wise operations of kernels/ops.h.
// Callers go through ops.h, which selects the instruction set first.

#include <cstddef>

namespace edgelm::kernels {

void soft_cap(float* x, size_t n, float cap);
void gelu_tanh_mul(float* gate, const float* up, size_t n);

}  // namespace edgelm::kernels
