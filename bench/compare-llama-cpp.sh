#!/usr/bin/env bash
# Compares the prefill and decode speed of `edgelm bench` with llama.cpp's
# llama-bench on one GGUF file and writes a markdown report.
#
#   bench/compare-llama-cpp.sh --llama-bench PATH -m FILE [-t 2] [-p 512] [-n 128]
#       [-r 5] [--rounds 3] [-o OUT.md] [--edgelm PATH]
#       [--llama-arg ARG]... [--edgelm-arg ARG]...
#
# Each round runs llama-bench (-o json), then edgelm bench (--json), with the
# same file, threads, prompt and decode lengths and repetitions, so that both
# see the same machine load. A run's speed is the median over its repetitions:
# of llama-bench's samples_ts, and edgelm's prefill_tok_s and decode_tok_s.
# The report gives the median of those over the rounds. llama-bench is built by
# the user outside this repository. Needs jq.

set -euo pipefail

repo_root=$(cd "$(dirname "$0")/.." && pwd)
command_line=$(printf '%q ' "$0" "$@")

usage() {
  cat >&2 <<EOF
usage: $0 --llama-bench PATH -m FILE [-t THREADS] [-p N_PROMPT] [-n N_GEN] [-r REPETITIONS]
          [--rounds ROUNDS] [-o OUT.md] [--edgelm PATH] [--llama-arg ARG]... [--edgelm-arg ARG]...
  --llama-bench PATH  llama.cpp's llama-bench binary (required)
  -m FILE             GGUF model file (required)
  -t THREADS          threads of both programs, 0 for one per online CPU [2]
  -p N_PROMPT         prompt tokens of the prefill test; 0 skips it [512]
  -n N_GEN            tokens of the decode test; 0 skips it [128]
  -r REPETITIONS      timed runs of each test per program and round [5]
  --rounds ROUNDS     rounds of llama-bench then edgelm [3]
  -o OUT.md           report path [bench/results/compare-llama-cpp-DATE-MODEL-tTHREADS.md]
  --edgelm PATH       edgelm binary [build/edgelm]
  --llama-arg ARG     one more argument for llama-bench, such as --llama-arg -lm --llama-arg none
                      (read the file into memory, as edgelm does by default); repeatable
  --edgelm-arg ARG    one more argument for edgelm bench, such as --edgelm-arg --mmap; repeatable
EOF
  exit 2
}

error() {
  echo "error: $*" >&2
  exit 2
}

llama_bench=""
model=""
threads=2
n_prompt=512
n_gen=128
repetitions=5
rounds=3
out=""
edgelm=$repo_root/build/edgelm
llama_args=()
edgelm_args=()

while [[ $# -gt 0 ]]; do
  [[ $1 == -h || $1 == --help ]] && usage
  [[ $# -ge 2 ]] || error "option $1 needs a value (see --help)"
  case $1 in
    --llama-bench) llama_bench=$2 ;;
    -m | --model) model=$2 ;;
    -t | --threads) threads=$2 ;;
    -p | --n-prompt) n_prompt=$2 ;;
    -n | --n-gen) n_gen=$2 ;;
    -r | --repetitions) repetitions=$2 ;;
    --rounds) rounds=$2 ;;
    -o | --output) out=$2 ;;
    --edgelm) edgelm=$2 ;;
    --llama-arg) llama_args+=("$2") ;;
    --edgelm-arg) edgelm_args+=("$2") ;;
    *) error "unknown option '$1' (see --help)" ;;
  esac
  shift 2
done

# Prints the value $2 of option $1 as a decimal number after checking that
# it is a whole number of at least $3.
check_count() {
  local option=$1 value=$2 minimum=$3
  [[ $value =~ ^[0-9]{1,9}$ ]] || error "$option '$value' is not a whole number"
  (( 10#$value >= minimum )) || error "$option $value is invalid; give at least $minimum"
  echo $(( 10#$value ))
}

[[ -n $llama_bench ]] || error "--llama-bench PATH is required: llama.cpp's llama-bench binary"
[[ -n $model ]] || error "-m FILE is required: the GGUF model file to run"
[[ -e $llama_bench ]] || error "llama-bench '$llama_bench' not found; build llama.cpp's llama-bench and pass its path"
[[ -f $llama_bench && -x $llama_bench ]] || error "llama-bench '$llama_bench' is not an executable file"
[[ -f $edgelm && -x $edgelm ]] || error "edgelm '$edgelm' is not an executable file; build it or pass --edgelm PATH"
[[ -f $model && -r $model ]] || error "model '$model' is not a readable file; llama-bench needs a GGUF file"
command -v jq >/dev/null || error "jq not found; install it (scripts/install-deps.sh lists it)"
threads=$(check_count -t "$threads" 0)
# 0 means one thread per online CPU, as in edgelm; llama-bench needs the number.
if (( threads == 0 )); then threads=$(nproc); fi
n_prompt=$(check_count -p "$n_prompt" 0)
n_gen=$(check_count -n "$n_gen" 0)
repetitions=$(check_count -r "$repetitions" 1)
rounds=$(check_count --rounds "$rounds" 1)
(( n_prompt > 0 || n_gen > 0 )) || error "-p 0 and -n 0 leave nothing to measure; give a positive -p or -n"

model_name=$(basename "$model" .gguf)
out=${out:-$repo_root/bench/results/compare-llama-cpp-$(date +%F)-$model_name-t$threads.md}
raw=$(mktemp -d /tmp/compare-llama-cpp.XXXXXX)
mkdir -p "$(dirname "$out")"

# Runs one program; on failure shows the end of its stderr and stops.
run_logged() {
  local name=$1 json=$2
  shift 2
  if ! "$@" > "$json" 2> "${json%.json}.err"; then
    echo "error: $name failed; the end of its output (all of it in ${json%.json}.err):" >&2
    tail -n 20 "${json%.json}.err" >&2
    exit 1
  fi
  jq empty "$json" 2>/dev/null || error "$name printed no valid JSON; see $json"
}

for round in $(seq 1 "$rounds"); do
  echo "round $round of $rounds: llama-bench" >&2
  run_logged llama-bench "$raw/llama-$round.json" \
    "$llama_bench" -m "$model" -t "$threads" -p "$n_prompt" -n "$n_gen" -r "$repetitions" -o json \
    ${llama_args[@]+"${llama_args[@]}"}
  echo "round $round of $rounds: edgelm bench" >&2
  run_logged "edgelm bench" "$raw/edgelm-$round.json" \
    "$edgelm" bench -m "$model" -t "$threads" -p "$n_prompt" -n "$n_gen" -r "$repetitions" --json \
    ${edgelm_args[@]+"${edgelm_args[@]}"}
done

jq_median='def median: sort | if length == 0 then null
  elif length % 2 == 1 then .[length / 2 | floor]
  else (.[length / 2 - 1] + .[length / 2]) / 2 end;'

# Median over rounds of llama-bench's per-run median for the test with the
# given prompt and decode lengths.
llama_speed() {
  jq -s "$jq_median"' [.[] | .[] | select(.n_prompt == $p and .n_gen == $n and .n_depth == 0)
    | .samples_ts | median] | median' --argjson p "$1" --argjson n "$2" "$raw"/llama-*.json
}

# Median over rounds of an edgelm field.
edgelm_median() {
  jq -s "$jq_median"' [.[] | .[$field] | select(. != null)] | median' --arg field "$1" "$raw"/edgelm-*.json
}

# The first edgelm run's value of a field that does not change between rounds.
edgelm_fixed() {
  jq -r --arg field "$1" '.[$field]' "$raw/edgelm-1.json"
}

# A number formatted with printf, or "n/a" for null.
format_number() {
  local format=$1 value=$2
  # shellcheck disable=SC2059  # the format is the caller's, such as %.2f
  if [[ $value == null ]]; then echo "n/a"; else LC_ALL=C printf "$format" "$value"; fi
}

speed_row() {
  local test=$1 llama=$2 edgelm_speed=$3
  local ratio=null
  if [[ $llama != null && $edgelm_speed != null ]]; then
    ratio=$(jq -n --argjson a "$edgelm_speed" --argjson b "$llama" '$a / $b')
  fi
  echo "| $test | $(format_number %.2f "$llama") | $(format_number %.2f "$edgelm_speed") | $(format_number %.3f "$ratio") |"
}

# Prints one table row per round: both programs' speeds and edgelm's bandwidth,
# roofline fraction and load time, each run's median over its repetitions.
round_rows() {
  local round llama_pp llama_tg edgelm_row
  for round in $(seq 1 "$rounds"); do
    llama_pp=$(jq "$jq_median"' [.[] | select(.n_prompt == $p and .n_gen == 0 and .n_depth == 0) | .samples_ts | median] | .[0]' \
      --argjson p "$n_prompt" "$raw/llama-$round.json")
    llama_tg=$(jq "$jq_median"' [.[] | select(.n_prompt == 0 and .n_gen == $n and .n_depth == 0) | .samples_ts | median] | .[0]' \
      --argjson n "$n_gen" "$raw/llama-$round.json")
    edgelm_row=$(jq -r '[.prefill_tok_s, .decode_tok_s, .bandwidth_gb_s, .roofline_fraction, .load_s]
      | map(if . == null then "n/a" else (. * 1000 | round / 1000 | tostring) end) | join(" | ")' "$raw/edgelm-$round.json")
    echo "| $round | $(format_number %.2f "$llama_pp") | $(format_number %.2f "$llama_tg") | $edgelm_row |"
  done
}

cpu_model=$(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//' || true)
# x86 lists "flags", Arm "Features"; these are the ones SIMD kernels choose between.
cpu_flags=$(grep -m1 -E '^(flags|Features)' /proc/cpuinfo | cut -d: -f2- | tr ' ' '\n' |
  grep -E '^(avx|avx2|fma|f16c|avx_vnni|avx512.*|amx.*|asimd|asimddp|i8mm|sve.*|sme(2|[bfi][0-9a-z]+)?)$' | sort -u | paste -sd ' ' || true)
llama_build=$(jq -r '.[0] | "\(.build_commit) (build \(.build_number))"' "$raw/llama-1.json")
llama_kv=$(jq -r '.[0] | "\(.type_k)/\(.type_v)"' "$raw/llama-1.json")
# How each program brought the file into memory: llama-bench's load mode
# (auto maps it) and whether edgelm mapped it or read it.
llama_load=$(jq -r '.[0].load_mode // "not reported"' "$raw/llama-1.json")
if [[ $(edgelm_fixed mapped) == true ]]; then edgelm_load="mapped"; else edgelm_load="read into memory"; fi
# The edgelm build measured: this checkout's commit, marked when files differ from it.
repo_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
edgelm_commit=$(git -C "$repo_dir" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ $edgelm_commit != unknown && -n $(git -C "$repo_dir" status --porcelain --untracked-files=no 2>/dev/null) ]]; then
  edgelm_commit+=" with uncommitted changes"
fi

{
  echo "# edgelm bench and llama.cpp llama-bench on $model_name"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- command: \`${command_line% }\`"
  echo "- CPU: ${cpu_model:-unknown}; kernel-relevant flags: ${cpu_flags:-none listed}"
  echo "- model: \`$model\`, $(edgelm_fixed file_bytes) bytes"
  echo "- edgelm commit: $edgelm_commit"
  echo "- threads: $threads; repetitions per run: $repetitions; rounds: $rounds, each llama-bench then edgelm"
  echo "- llama.cpp: $llama_build, KV cache $llama_kv, load mode $llama_load; edgelm: kernels $(edgelm_fixed isa), KV cache f32, file $edgelm_load"
  echo
  echo "| test | llama.cpp tok/s | edgelm tok/s | edgelm / llama.cpp |"
  echo "| --- | ---: | ---: | ---: |"
  if (( n_prompt > 0 )); then speed_row "pp$n_prompt" "$(llama_speed "$n_prompt" 0)" "$(edgelm_median prefill_tok_s)"; fi
  if (( n_gen > 0 )); then speed_row "tg$n_gen" "$(llama_speed 0 "$n_gen")" "$(edgelm_median decode_tok_s)"; fi
  echo
  echo "tok/s: median over the rounds of each run's median over its repetitions."
  echo
  echo "| edgelm | median over rounds |"
  echo "| --- | ---: |"
  echo "| memory read bandwidth, GB/s (fastest of 5 passes per run) | $(format_number %.2f "$(edgelm_median bandwidth_gb_s)") |"
  echo "| bytes read per decoded token | $(edgelm_fixed bytes_per_token) |"
  echo "| roofline, tok/s | $(format_number %.2f "$(edgelm_median roofline_tok_s)") |"
  echo "| decode / roofline | $(format_number %.3f "$(edgelm_median roofline_fraction)") |"
  echo "| resident set, MiB | $(format_number %.1f "$(edgelm_median rss_bytes | jq '. / 1048576')") |"
  echo "| file size, MiB | $(format_number %.1f "$(edgelm_fixed file_bytes | jq '. / 1048576')") |"
  echo
  echo "Each round (medians over the run's repetitions):"
  echo
  echo "| round | llama.cpp pp tok/s | llama.cpp tg tok/s | edgelm pp tok/s | edgelm tg tok/s | bandwidth, GB/s | decode / roofline | edgelm load, s |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  round_rows
  echo
  echo "Raw JSON of every run: \`$raw\`."
} > "$out"

echo "wrote $out (raw runs in $raw)" >&2
