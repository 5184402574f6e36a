#!/usr/bin/env bash
# Installs the dependencies, builds edgelm and runs the embedded tiny Gemma 2 model.
# Build output goes to stderr; stdout gets the prompt followed by the generated text.
set -euo pipefail
cd "$(dirname "$0")/.."
prompt="${1:-The meaning of life is}"

{
  scripts/install-deps.sh
  scripts/build.sh edgelm
} >&2

printf '%s' "$prompt"
build/edgelm --log-level warn run -m models/tiny-gemma2-q8_0.gguf -p "$prompt" -n 64 --temp 0.7 --seed 42
