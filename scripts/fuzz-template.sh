#!/usr/bin/env bash
# Builds the chat template fuzz target with clang, seeds it with the real
# templates and runs libFuzzer for SECONDS (default 600).
# Usage: scripts/fuzz-template.sh [SECONDS]
set -euo pipefail
seconds="${1:-600}"
cd "$(dirname "$0")/.."

build="${EDGELM_FUZZ_BUILD:-build-fuzz}"
fixtures="${EDGELM_FIXTURES:-../shared/fixtures}"
corpus=fuzz/corpus/template
artifacts=fuzz/artifacts/template

CC=clang CXX=clang++ cmake -S . -B "$build" -G Ninja -DEDGELM_FUZZ=ON -DEDGELM_TESTS=OFF >/dev/null
cmake --build "$build" -j2 --target template_fuzz

mkdir -p "$corpus" "$artifacts"
cp "$fixtures"/templates/*.jinja "$corpus/"

"$build/fuzz/template_fuzz" "$corpus" \
  -max_len=8192 \
  -max_total_time="$seconds" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" \
  -print_final_stats=1
