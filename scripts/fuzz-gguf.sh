#!/usr/bin/env bash
# Builds the GGUF fuzz target with clang, seeds fuzz/corpus/gguf from the
# fixture models and runs libFuzzer for SECONDS (default 600).
# Usage: scripts/fuzz-gguf.sh [SECONDS]
# Environment: EDGELM_FIXTURES (default ../shared/fixtures), EDGELM_FUZZ_BUILD
# (build folder, default build-fuzz).
set -euo pipefail
seconds="${1:-600}"
cd "$(dirname "$0")/.."

build="${EDGELM_FUZZ_BUILD:-build-fuzz}"
fixtures="${EDGELM_FIXTURES:-../shared/fixtures}"
corpus=fuzz/corpus/gguf
artifacts=fuzz/artifacts/gguf
max_len=65536

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DEDGELM_FUZZ=ON -DEDGELM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target gguf_fuzz gguf_seeds

# Seeds: shrunk copies of real models, hand-made files, and the first
# max_len bytes of a real model (its whole header and tensor infos).
mkdir -p "$corpus" "$artifacts"
"$build/fuzz/gguf_seeds" "$corpus" \
  "$fixtures/stories260K.gguf" \
  "$fixtures/tiny-gemma2-q8_0.gguf" \
  "$fixtures/tiny-gemma2-q4_k_m.gguf" \
  "$fixtures/tiny-gemma2-bf16.gguf" \
  "$fixtures/vocab/ggml-vocab-llama-spm.gguf"
head -c "$max_len" "$fixtures/stories260K.gguf" > "$corpus/head-stories260K.gguf"

"$build/fuzz/gguf_fuzz" "$corpus" \
  -dict=fuzz/gguf.dict \
  -max_len="$max_len" \
  -max_total_time="$seconds" \
  -artifact_prefix="$artifacts/" \
  -print_final_stats=1
