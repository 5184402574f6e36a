#!/usr/bin/env bash
# Builds the safetensors fuzz target with clang, seeds fuzz/corpus/safetensors
# with small hand-made files and a shrunk copy of the fixture checkpoint, and
# runs libFuzzer for SECONDS (default 600).
# Usage: scripts/fuzz-safetensors.sh [SECONDS]
# Environment: EDGELM_FIXTURES (default ../shared/fixtures), EDGELM_FUZZ_BUILD
# (build folder, default build-fuzz).
set -euo pipefail
seconds="${1:-600}"
cd "$(dirname "$0")/.."

build="${EDGELM_FUZZ_BUILD:-build-fuzz}"
fixtures="${EDGELM_FIXTURES:-../shared/fixtures}"
corpus=fuzz/corpus/safetensors
artifacts=fuzz/artifacts/safetensors
max_len=16384

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DEDGELM_FUZZ=ON -DEDGELM_TESTS=OFF -DEDGELM_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target safetensors_fuzz safetensors_seeds

mkdir -p "$corpus" "$artifacts"
"$build/fuzz/safetensors_seeds" "$corpus" "$fixtures/tiny-gemma2/model.safetensors"

"$build/fuzz/safetensors_fuzz" "$corpus" \
  -dict=fuzz/safetensors.dict \
  -max_len="$max_len" \
  -max_total_time="$seconds" \
  -artifact_prefix="$artifacts/" \
  -print_final_stats=1
