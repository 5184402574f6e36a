#!/usr/bin/env bash
# Builds the OpenAI request body fuzz target with clang, seeds it with valid
# and invalid request bodies and runs libFuzzer for SECONDS (default 600).
# Usage: scripts/fuzz-request.sh [SECONDS]
set -euo pipefail
seconds="${1:-600}"
cd "$(dirname "$0")/.."

build="${EDGELM_FUZZ_BUILD:-build-fuzz}"
corpus=fuzz/corpus/request
artifacts=fuzz/artifacts/request

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DEDGELM_FUZZ=ON -DEDGELM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target request_fuzz

mkdir -p "$corpus" "$artifacts"

# Seeds: one body per file, covering every field and prompt form, plus
# bodies each reader must reject.
seed() { printf '%s' "$2" >"$corpus/seed-$1.json"; }
seed chat-minimal '{"messages": [{"role": "user", "content": "Hi"}]}'
seed chat-full '{"model": "tiny", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}], "n": 1, "max_tokens": 7, "max_completion_tokens": 5, "temperature": 0.5, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "repeat_penalty": 1.1, "presence_penalty": -1.5, "frequency_penalty": 2, "seed": -42, "stop": ["a", "bc"], "ignore_eos": true, "logprobs": true, "top_logprobs": 20, "stream": true, "stream_options": {"include_usage": true}}'
seed chat-nulls '{"messages": [{"role": "user", "content": "\u00e9\ud83d\ude00"}], "stop": null, "seed": null, "top_logprobs": null, "stream_options": null}'
seed chat-bad-types '{"messages": [{"role": 1}], "temperature": "hot", "n": 2, "stop": ["", 1]}'
seed completion-text '{"prompt": "Once upon a time", "max_tokens": 16, "logprobs": 5, "stop": "\n", "stream": true, "stream_options": {"include_usage": false}}'
seed completion-list '{"prompt": ["Once"], "logprobs": 0, "echo": false}'
seed completion-ids '{"prompt": [2, 651, 6862, 0], "seed": 18446744073709551615}'
seed completion-nested '{"prompt": [[2, 651]], "top_k": 2147483647}'
seed completion-bad '{"prompt": [[1], [2]], "logprobs": 6, "max_tokens": 0}'
seed not-object '[{"prompt": "x"}]'
seed truncated '{"messages": [{"role": "user", "content": "Hi"'
seed deep '{"messages": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}'

# Field names and values the JSON mutator would take long to find.
dict="$build/request.dict"
printf '%s\n' '"\"messages\""' '"\"role\""' '"\"content\""' '"\"prompt\""' '"\"max_tokens\""' \
  '"\"max_completion_tokens\""' '"\"temperature\""' '"\"top_p\""' '"\"top_k\""' '"\"min_p\""' \
  '"\"repeat_penalty\""' '"\"presence_penalty\""' '"\"frequency_penalty\""' '"\"seed\""' '"\"stop\""' \
  '"\"logprobs\""' '"\"top_logprobs\""' '"\"stream\""' '"\"stream_options\""' '"\"include_usage\""' \
  '"\"ignore_eos\""' '"\"model\""' '"\"type\""' '"\"text\""' '"\"n\""' '"null"' '"true"' '"false"' \
  '"1e400"' '"-0"' '"18446744073709551616"' '"\"\\ud800\""' >"$dict"

"$build/fuzz/request_fuzz" "$corpus" \
  -dict="$dict" \
  -max_len=4096 \
  -max_total_time="$seconds" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" \
  -print_final_stats=1
