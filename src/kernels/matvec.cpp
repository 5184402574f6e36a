// Argument checks and row splitting for the kernels of dot_kernels.cpp.

#include "kernels/matvec.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "core/error.h"
#include "kernels/dot_kernels.h"
#include "tensor/reference.h"

namespace edgelm {
namespace {

// Rows per parallel task. 16 float outputs fill one 64-byte cache line, so
// threads seldom write to the same line of y.
constexpr size_t kRowsPerChunk = 16;

// Chunks per piece of a prompt's matmul, which threads take as they finish
// the last one. A piece's 64 rows stay in L2 while every token block passes.
// A token alone (decoding) is split evenly instead: one contiguous range per
// thread reads memory as one stream.
constexpr size_t kChunksPerPiece = 4;

// Splits [0, n_chunks) across the pool, evenly for one token and in pieces
// taken on demand for several.
void for_each_chunk(ThreadPool& pool, size_t n_chunks, size_t n_tokens,
                    const std::function<void(size_t begin, size_t end)>& fn) {
  if (n_tokens == 1) return pool.parallel_for(n_chunks, fn);
  pool.parallel_for_dynamic(n_chunks, kChunksPerPiece, fn);
}

void check_row(DType type, size_t n) {
  if (!dtype_supported(type)) {
    fail("tensor type {} is not supported by the kernels (supported: {})", dtype_name(type),
         supported_dtype_names());
  }
  const uint32_t block = dtype_info(type).block_size;
  if (n % block != 0) {
    fail("row length {} is not a multiple of the {} block size {}", n, dtype_name(type), block);
  }
}

void check_matrix(const WeightMatrix& w) {
  check_row(w.type, w.cols);
  const size_t bytes = row_bytes(w.type, w.cols);
  if (w.rows > 1 && w.row_stride < bytes) {
    fail("weight row stride {} is smaller than a row of {} {} values ({} bytes)", w.row_stride, w.cols,
         dtype_name(w.type), bytes);
  }
  if (w.data == nullptr && w.rows > 0 && bytes > 0) fail("weight matrix has no data");
}

// Quantized activations of the calling thread. The buffer grows to the
// largest request and is then reused, so repeated calls do not allocate.
std::vector<uint8_t>& activation_buffer(size_t bytes) {
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer;
}

// Quantizes the activations of n_tokens tokens (cols floats each) to rows
// of `stride` bytes; a prompt's tokens are split across the pool.
void quantize_tokens(DType activations, const float* x, size_t cols, size_t n_tokens, uint8_t* out, size_t stride,
                     ThreadPool& pool) {
  if (n_tokens == 1) return kernels::quantize_activations(activations, x, out, cols);
  struct Job {
    DType activations;
    const float* x;
    size_t cols;
    uint8_t* out;
    size_t stride;
  };
  const Job job{activations, x, cols, out, stride};
  pool.parallel_for(n_tokens, [&job](size_t begin, size_t end) {
    for (size_t t = begin; t < end; ++t) {
      kernels::quantize_activations(job.activations, job.x + t * job.cols, job.out + t * job.stride, job.cols);
    }
  });
}

// matmul through the integer kernels: every token's activations are quantized
// once, before the rows are split across the pool.
void matmul_quantized(const WeightMatrix& w, DType activations, const float* x, size_t n_tokens, float* y,
                      ThreadPool& pool) {
  const size_t stride = row_bytes(activations, w.cols);
  std::vector<uint8_t>& buffer = activation_buffer(n_tokens * stride);
  quantize_tokens(activations, x, w.cols, n_tokens, buffer.data(), stride, pool);

  struct Job {
    const WeightMatrix& w;
    const uint8_t* xq;
    size_t stride;
    size_t n_tokens;
    float* y;
  };
  const Job job{w, buffer.data(), stride, n_tokens, y};

  const size_t n_chunks = (w.rows + kRowsPerChunk - 1) / kRowsPerChunk;
  for_each_chunk(pool, n_chunks, n_tokens, [&job](size_t begin, size_t end) {
    const size_t row_begin = begin * kRowsPerChunk;
    const size_t row_end = std::min(end * kRowsPerChunk, job.w.rows);
    kernels::matmul_rows_quantized(job.w, job.xq, job.stride, job.n_tokens, job.y, row_begin, row_end);
  });
}

}  // namespace

DType activation_type(DType weight_type) {
  init_isa();
  return kernels::activation_type(weight_type);
}

void matmul(const WeightMatrix& w, const float* x, size_t n_tokens, float* y, ThreadPool& pool) {
  init_isa();
  check_matrix(w);
  if (w.rows == 0 || n_tokens == 0) return;

  const DType activations = kernels::activation_type(w.type);
  if (activations != DType::F32) return matmul_quantized(w, activations, x, n_tokens, y, pool);

  // The lambda captures one pointer, so std::function stores it without allocating.
  struct Job {
    const WeightMatrix& w;
    const float* x;
    size_t n_tokens;
    float* y;
  };
  const Job job{w, x, n_tokens, y};

  const size_t n_chunks = (w.rows + kRowsPerChunk - 1) / kRowsPerChunk;
  for_each_chunk(pool, n_chunks, n_tokens, [&job](size_t begin, size_t end) {
    const size_t row_begin = begin * kRowsPerChunk;
    const size_t row_end = std::min(end * kRowsPerChunk, job.w.rows);
    kernels::matmul_rows(job.w, job.x, job.n_tokens, job.y, row_begin, row_end);
  });
}

void matvec(const WeightMatrix& w, const float* x, float* y, ThreadPool& pool) { matmul(w, x, 1, y, pool); }

void matmul_shared_input(std::span<const MatmulOutput> outputs, const float* x, size_t n_tokens, ThreadPool& pool) {
  init_isa();
  if (outputs.empty() || n_tokens == 0) return;

  // One loop needs one weight type and row length; other groups run one by one.
  const WeightMatrix& first = *outputs[0].w;
  for (const MatmulOutput& output : outputs) {
    check_matrix(*output.w);
    if (output.w->type != first.type || output.w->cols != first.cols) {
      for (const MatmulOutput& each : outputs) matmul(*each.w, x, n_tokens, each.y, pool);
      return;
    }
  }

  // Activations quantized once for every matrix, as matmul would for each.
  const DType activations = kernels::activation_type(first.type);
  const size_t stride = activations == DType::F32 ? 0 : row_bytes(activations, first.cols);
  const uint8_t* xq = nullptr;
  if (activations != DType::F32) {
    std::vector<uint8_t>& buffer = activation_buffer(n_tokens * stride);
    quantize_tokens(activations, x, first.cols, n_tokens, buffer.data(), stride, pool);
    xq = buffer.data();
  }

  // Chunks of kRowsPerChunk rows, numbered across the matrices in order.
  size_t n_chunks = 0;
  for (const MatmulOutput& output : outputs) n_chunks += (output.w->rows + kRowsPerChunk - 1) / kRowsPerChunk;
  struct Job {
    std::span<const MatmulOutput> outputs;
    const float* x;
    const uint8_t* xq;
    size_t stride;
    size_t n_tokens;
  };
  const Job job{outputs, x, xq, stride, n_tokens};
  for_each_chunk(pool, n_chunks, n_tokens, [&job](size_t begin, size_t end) {
    const auto [outputs, x, xq, stride, n_tokens] = job;
    size_t chunk = 0;
    for (const MatmulOutput& output : outputs) {
      const WeightMatrix& w = *output.w;
      const size_t w_chunks = (w.rows + kRowsPerChunk - 1) / kRowsPerChunk;
      const size_t lo = std::max(begin, chunk);
      const size_t hi = std::min(end, chunk + w_chunks);
      if (lo < hi) {
        const size_t row_begin = (lo - chunk) * kRowsPerChunk;
        const size_t row_end = std::min((hi - chunk) * kRowsPerChunk, w.rows);
        if (xq) {
          kernels::matmul_rows_quantized(w, xq, stride, n_tokens, output.y, row_begin, row_end);
        } else {
          kernels::matmul_rows(w, x, n_tokens, output.y, row_begin, row_end);
        }
      }
      chunk += w_chunks;
    }
  });
}

float dot_row(DType type, const uint8_t* row, const float* x, size_t n) {
  init_isa();
  check_row(type, n);

  // The same path as matvec, so a row's result is the same through both.
  const DType activations = kernels::activation_type(type);
  if (activations == DType::F32) return kernels::dot_row(type, row, x, n);
  std::vector<uint8_t>& buffer = activation_buffer(row_bytes(activations, n));
  kernels::quantize_activations(activations, x, buffer.data(), n);
  return kernels::dot_row_quantized(type, row, buffer.data(), n);
}

float dot_f32(const float* a, const float* b, size_t n) {
  init_isa();
  return kernels::dot_f32(a, b, n);
}

void axpy_f32(float a, const float* x, float* y, size_t n) {
  init_isa();
  kernels::axpy_f32(a, x, y, n);
}

void dequantize_row(DType type, const uint8_t* src, float* dst, size_t n) {
  init_isa();
  check_row(type, n);
  kernels::dequantize_row(type, src, dst, n);
}

}  // namespace edgelm
