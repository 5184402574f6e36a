#!/usr/bin/env bash
# Installs the dependencies, builds edgelm and runs the embedded tiny Gemma 2 model.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
build/edgelm run -m models/tiny-gemma2-q8_0.gguf -p "${1:-The meaning of life is}" -n 64 --temp 0.7 --seed 42
