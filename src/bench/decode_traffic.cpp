#include "bench/decode_traffic.h"

#include "core/error.h"

namespace edgelm {

uint64_t decode_weight_bytes(const GgufFile& file) {
  const GgufTensor* embedding = file.find_tensor("token_embd.weight");
  if (embedding == nullptr || embedding->n_rows() == 0) {
    fail("{}: token_embd.weight is missing or empty; the file is not a model edgelm can run", file.path());
  }

  uint64_t total = 0;
  for (const GgufTensor& tensor : file.tensors()) total += tensor.n_bytes;

  // With a separate head, token_embd costs a lookup of one row. A tied head
  // reads all of it as the output matrix, plus the lookup row.
  const uint64_t row_bytes = embedding->n_bytes / embedding->n_rows();
  if (file.find_tensor("output.weight") != nullptr) total -= embedding->n_bytes;
  return total + row_bytes;
}

uint64_t decode_kv_bytes(const KvCache& kv, uint32_t n_gen) {
  if (n_gen == 0) return 0;
  if (n_gen > kv.n_ctx()) fail("{} decode steps exceed the KV cache's context of {} positions", n_gen, kv.n_ctx());

  uint64_t total = 0;
  for (uint32_t position = 0; position < n_gen; ++position) total += kv.filled_bytes(position + 1);
  return (total + n_gen / 2) / n_gen;
}

}  // namespace edgelm
