#pragma once
// The generation loop: prefill a prompt, then sample, decode and stream text until a stop.

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "model/context.h"
#include "sample/sampler.h"

namespace edgelm {

enum class StopReason { kEndOfGeneration, kLength, kCancelled };

struct GenerationStats {
  size_t n_prompt = 0;
  size_t n_generated = 0;
  double prefill_seconds = 0.0;
  double decode_seconds = 0.0;  // from the first sampled token to the last
  StopReason stop_reason = StopReason::kLength;
  std::vector<int32_t> tokens;  // generated ids, without an end-of-generation token

  double prefill_tokens_per_second() const;
  double decode_tokens_per_second() const;
};

// Receives each piece of valid UTF-8 text as it is generated; returning false
// cancels generation.
using TextCallback = std::function<bool(std::string_view text)>;

// Evaluates `prompt` in `context` (which must be empty or hold a prefix the
// caller wants kept), then generates at most n_predict tokens, stopping early
// at an end-of-generation token. Throws Error when the prompt plus n_predict
// does not fit in the context.
GenerationStats generate(Context& context, const std::vector<int32_t>& prompt, int32_t n_predict, Sampler& sampler,
                         const TextCallback& on_text);

}  // namespace edgelm
