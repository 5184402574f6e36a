#!/usr/bin/env bash
# Compares the serving throughput of `edgelm serve` with llama.cpp's
# llama-server on one model file.
#
#   bench/serve-compare.sh EDGELM_BINARY LLAMA_SERVER MODEL [THREADS]
#
# LLAMA_SERVER may also come from the environment (pass "" as the argument).
# For each round and each concurrency C, both servers are started in turn
# (the order alternates between rounds) with C parallel slots, the same
# threads and the same context per slot. bench/serve-load.mjs then runs C
# streaming clients against each. The report, with the median over rounds, is
# written to bench/results/serve-DATE-MODEL-tTHREADS.md (or $OUT).
#
# Environment (defaults in brackets):
#   CONCURRENCY  concurrency levels, slots = streams ["1 4 8"]
#   ROUNDS       repetitions of the whole sweep [3]
#   MAX_TOKENS   tokens generated per request, ignore_eos is set [128]
#   CTX          context positions per slot [512]
#   DURATION     seconds each run keeps starting requests [10]
#   API          chat or completions [chat]
#   PORT         loopback port of edgelm; llama-server gets PORT + 1 [18480]
#   OUT          report path [bench/results/serve-$(date +%F)-MODEL-tTHREADS.md]
#   KEEP_RAW     directory for the raw JSON lines and server logs [a new one under /tmp]
#   REPORT_ONLY  when 1, skip the runs and rewrite the report from KEEP_RAW/results.jsonl

set -euo pipefail

usage() {
  echo "usage: $0 EDGELM_BINARY LLAMA_SERVER MODEL [THREADS]" >&2
  echo "  LLAMA_SERVER may be \"\" when the LLAMA_SERVER environment variable is set" >&2
  exit 2
}
[[ $# -ge 3 && $# -le 4 ]] || usage

EDGELM=$1
LLAMA=${2:-${LLAMA_SERVER:-}}
MODEL=$3
THREADS=${4:-2}

CONCURRENCY=${CONCURRENCY:-"1 4 8"}
ROUNDS=${ROUNDS:-3}
MAX_TOKENS=${MAX_TOKENS:-128}
CTX=${CTX:-512}
DURATION=${DURATION:-10}
API=${API:-chat}
PORT=${PORT:-18480}

here=$(cd "$(dirname "$0")" && pwd)
model_name=$(basename "$MODEL" .gguf)
OUT=${OUT:-$here/results/serve-$(date +%F)-$model_name-t$THREADS.md}

for file in "$EDGELM" "$LLAMA"; do
  [[ -n $file && -x $file ]] || { echo "error: '$file' is not an executable file" >&2; usage; }
done
[[ -r $MODEL ]] || { echo "error: model '$MODEL' is not readable" >&2; exit 2; }
command -v node >/dev/null || { echo "error: node not found; serve-load.mjs needs Node 18 or newer" >&2; exit 2; }
command -v curl >/dev/null || { echo "error: curl not found; the script polls /health with it" >&2; exit 2; }

raw=${KEEP_RAW:-$(mktemp -d /tmp/serve-compare.XXXXXX)}
mkdir -p "$raw" "$(dirname "$OUT")"
results=$raw/results.jsonl
if [[ ${REPORT_ONLY:-0} == 1 ]]; then
  [[ -s $results ]] || { echo "error: REPORT_ONLY=1 needs the results of earlier runs in $results" >&2; exit 2; }
else
  : > "$results"
fi

# At most one server runs at a time; the EXIT trap stops it if the script fails.
server_pid=""
shutdown_seconds=""
stop_server() {
  local name=$1
  [[ -n $server_pid ]] || return 0
  local signalled
  signalled=$(date +%s.%N)
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "warning: $name (pid $server_pid) still running 10 s after SIGTERM; sending SIGKILL" >&2
    echo "$name did not exit within 10 s of SIGTERM" >> "$raw/shutdown-problems.txt"
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  shutdown_seconds=$(awk -v start="$signalled" -v end="$(date +%s.%N)" 'BEGIN { print end - start }')
  local status=0
  wait "$server_pid" 2>/dev/null || status=$?
  if (( status != 0 && status != 137 )); then
    echo "$name exited with status $status after SIGTERM" >> "$raw/shutdown-problems.txt"
  fi
  server_pid=""
}
trap 'stop_server "server under test"' EXIT

# Each server has a port of its own: cpp-httplib 0.11.4, which edgelm uses,
# binds with SO_REUSEPORT and no SO_REUSEADDR, so binding fails while
# connections that llama-server closed on that port are in TIME_WAIT.
port_of() {
  case $1 in
    edgelm) echo "$PORT" ;;
    llama-server) echo "$((PORT + 1))" ;;
  esac
}

# Fills the array `command` with the command line of a server with $2 slots
# of CTX positions each. llama-server splits -c evenly over its -np slots when
# the KV cache is not unified, so it gets slots * CTX. -cram 0 turns off its
# host-memory prompt cache, which edgelm has no counterpart of; both servers
# still reuse the KV prefix left in a slot.
server_command() {
  local name=$1 slots=$2
  case $name in
    edgelm)
      command=("$EDGELM" serve -m "$MODEL" --host 127.0.0.1 --port "$(port_of edgelm)" --parallel "$slots"
               -c "$CTX" -t "$THREADS") ;;
    llama-server)
      command=("$LLAMA" -m "$MODEL" --host 127.0.0.1 --port "$(port_of llama-server)" -np "$slots"
               -c "$((slots * CTX))" --no-kv-unified -t "$THREADS" -cram 0 --no-webui) ;;
  esac
}

# Fills the array `command` with the load generator's command line for
# server $1 and $2 streams.
load_command() {
  local name=$1 slots=$2
  command=(node "$here/serve-load.mjs" --url "http://127.0.0.1:$(port_of "$name")" --api "$API"
           --concurrency "$slots" --duration "$DURATION" --max-tokens "$MAX_TOKENS"
           --temperature 0 --warmup 1)
}

wait_healthy() {
  local name=$1 log=$2
  for _ in $(seq 600); do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "error: $name exited before it was ready; last lines of $log:" >&2
      tail -n 20 "$log" >&2
      exit 1
    fi
    if [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(port_of "$name")/health") == 200 ]]; then
      return 0
    fi
    sleep 0.1
  done
  echo "error: $name did not return 200 from /health within 60 s; see $log" >&2
  exit 1
}

run_one() {
  local name=$1 slots=$2 round=$3
  local log=$raw/$name-c$slots-r$round.log
  local command=()

  server_command "$name" "$slots"
  echo "${command[*]}" > "$log"
  "${command[@]}" >> "$log" 2>&1 &
  server_pid=$!
  wait_healthy "$name" "$log"

  local json
  load_command "$name" "$slots"
  json=$("${command[@]}" --server-pid "$server_pid" --label "$name c=$slots round=$round") || true
  stop_server "$name"
  if [[ -z $json ]]; then
    echo "error: every request of $name c=$slots round=$round failed; see $log" >&2
    exit 1
  fi

  echo "$json" | node -e '
    const [name, round, shutdown] = process.argv.slice(1);
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    Object.assign(r, { server: name, round: Number(round), shutdown_s: Number(shutdown) });
    console.log(JSON.stringify(r));
    console.error(`${r.label}: ${r.tokens_per_s} tok/s, TTFT ${r.ttft_ms?.mean} ms, ` +
      `ITL ${r.itl_ms?.mean} ms, failed ${r.requests_failed}, short ${r.requests_short}, ` +
      `CPU s: server ${r.server_cpu_s}, client ${r.client_cpu_s}, others ${r.other_cpu_s}, ` +
      `wall ${r.elapsed_s} s, exit after SIGTERM ${r.shutdown_s.toFixed(2)} s`);' \
    "$name" "$round" "$shutdown_seconds" >> "$results"
}

for round in $(seq "$ROUNDS"); do
  [[ ${REPORT_ONLY:-0} == 1 ]] && break
  for slots in $CONCURRENCY; do
    if (( round % 2 == 1 )); then order="edgelm llama-server"; else order="llama-server edgelm"; fi
    for name in $order; do
      run_one "$name" "$slots" "$round"
    done
  done
done

# The report: medians over rounds, then every run. Values reach the script
# through the environment, so no shell text is quoted into JavaScript.
COMMANDS=""
command=()
for slots in $CONCURRENCY; do
  for name in edgelm llama-server; do
    server_command "$name" "$slots"
    COMMANDS+="${command[*]}"$'\n'
    load_command "$name" "$slots"
    COMMANDS+="${command[*]} --server-pid PID"$'\n'
  done
done
CPU_MODEL=$(lscpu | sed -n 's/^Model name: *//p')
CPU_COUNT=$(nproc)
CPU_FLAGS=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' |
  grep -E '^(avx2|fma|f16c|avx_vnni|avx512.*)$' | sort | tr '\n' ' ')
EDGELM_VERSION=$("$EDGELM" --version 2>/dev/null | head -n 1 || true)
LLAMA_VERSION=$("$LLAMA" --version 2>&1 | grep -m1 -i version || true)
EDGELM_COMMIT=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$here/.." status --porcelain --untracked-files=no 2>/dev/null) ]]; then
  EDGELM_COMMIT+=" with uncommitted changes"
fi
export RESULTS=$results OUT MODEL model_name THREADS CTX MAX_TOKENS API ROUNDS DURATION \
  COMMANDS CPU_MODEL CPU_COUNT CPU_FLAGS EDGELM_VERSION \
  LLAMA_VERSION EDGELM_COMMIT

node <<'SCRIPT'
const fs = require("fs");
const env = process.env;
const runs = fs.readFileSync(env.RESULTS, "utf8").trim().split("\n").map((line) => JSON.parse(line));

const median = (values) => {
  const s = values.filter((v) => v !== null && v !== undefined).sort((a, b) => a - b);
  if (s.length === 0) return null;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fixed = (v, digits) => (v === null || v === undefined ? "n/a" : v.toFixed(digits));
const levels = [...new Set(runs.map((r) => r.concurrency))];
const pick = (name, c) => runs.filter((r) => r.server === name && r.concurrency === c);
const endpoint = env.API === "chat" ? "/v1/chat/completions" : "/v1/completions";

const lines = [];
lines.push("# Serving throughput: edgelm serve and llama-server");
lines.push("");
lines.push(`Model \`${env.model_name}\` (\`${env.MODEL}\`), ${env.THREADS} thread${env.THREADS === "1" ? "" : "s"}, slots = concurrent ` +
  `streams, ${env.CTX} context positions per slot, ${env.MAX_TOKENS} generated tokens per request ` +
  `(ignore_eos), temperature 0, ${endpoint} with stream and include_usage. Medians of ` +
  `${env.ROUNDS} rounds; the order of the two servers alternates between rounds.`);
lines.push("");
lines.push("| streams | edgelm tok/s | llama-server tok/s | edgelm / llama-server | edgelm TTFT ms | " +
  "llama-server TTFT ms | edgelm ITL ms | llama-server ITL ms | edgelm tok per CPU s | " +
  "llama-server tok per CPU s |");
lines.push("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
const perCpuSecond = (r) => (r.server_cpu_s > 0 ? r.generated_tokens / r.server_cpu_s : null);
for (const c of levels) {
  const e = pick("edgelm", c);
  const l = pick("llama-server", c);
  const et = median(e.map((r) => r.tokens_per_s));
  const lt = median(l.map((r) => r.tokens_per_s));
  const ratio = et !== null && lt ? (et / lt).toFixed(2) : "n/a";
  lines.push(`| ${c} | ${fixed(et, 1)} | ${fixed(lt, 1)} | ${ratio} | ` +
    `${fixed(median(e.map((r) => r.ttft_ms?.mean)), 1)} | ${fixed(median(l.map((r) => r.ttft_ms?.mean)), 1)} | ` +
    `${fixed(median(e.map((r) => r.itl_ms?.mean)), 2)} | ${fixed(median(l.map((r) => r.itl_ms?.mean)), 2)} | ` +
    `${fixed(median(e.map(perCpuSecond)), 0)} | ${fixed(median(l.map(perCpuSecond)), 0)} |`);
}
lines.push("");
lines.push("tok/s: generated tokens (usage.completion_tokens) of the measured requests divided by the wall " +
  "time from the first request to the end of the last. TTFT: from sending the request to the first chunk " +
  "with text, mean over requests. ITL: (last text chunk - first text chunk) / (tokens - 1), mean over requests. " +
  "Tok per CPU s: generated tokens divided by the CPU time the server process used meanwhile, which depends " +
  "less on what else runs on the machine (but counts the CPU time of threads that spin while waiting).");
lines.push("");

const cpuCount = Number(env.CPU_COUNT);
const otherShare = runs.filter((r) => r.other_cpu_s !== undefined)
  .map((r) => r.other_cpu_s / (r.elapsed_s * cpuCount));
const sharedPercent = 100 * median(otherShare);
lines.push("## Machine");
lines.push("");
lines.push(`- CPU: ${env.CPU_MODEL}, ${cpuCount} logical CPUs`);
lines.push(`- Flags: ${env.CPU_FLAGS.trim()}`);
lines.push(`- edgelm: ${env.EDGELM_VERSION || "version not printed"} (commit ${env.EDGELM_COMMIT}); ` +
  `llama-server: ${env.LLAMA_VERSION || "version not printed"}`);
lines.push(sharedPercent > 5
  ? `- The machine was shared: other processes used a median ${sharedPercent.toFixed(0)} % (max ` +
    `${(100 * Math.max(...otherShare)).toFixed(0)} %) of all CPUs during the runs, so single runs are noisy.`
  : `- Other processes used a median ${sharedPercent.toFixed(0)} % of all CPUs during the runs.`);
lines.push("");
lines.push("## Commands");
lines.push("");
lines.push("```");
lines.push(env.COMMANDS.trimEnd());
lines.push("```");
lines.push("");
lines.push("Each run starts the server, waits for /health 200, sends one unmeasured warm-up request per " +
  `stream, keeps every stream busy with new requests for ${env.DURATION} s (requests in flight at the ` +
  "end finish and count), and stops the server with SIGTERM.");
lines.push("");
lines.push("## Every run");
lines.push("");
lines.push("| round | streams | server | tok/s | TTFT ms | ITL ms | max chunk gap ms | requests | " +
  "wall s | server CPU s | client CPU s | others' CPU s | failed | retried | short | exit s |");
lines.push("| ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of runs) {
  lines.push(`| ${r.round} | ${r.concurrency} | ${r.server} | ${r.tokens_per_s} | ${fixed(r.ttft_ms?.mean, 1)} | ` +
    `${fixed(r.itl_ms?.mean, 2)} | ${fixed(r.chunk_gap_ms?.max, 0)} | ${r.requests_ok} | ${r.elapsed_s} | ` +
    `${fixed(r.server_cpu_s, 1)} | ${fixed(r.client_cpu_s, 1)} | ${fixed(r.other_cpu_s, 1)} | ` +
    `${r.requests_failed} | ${r.requests_retried} | ${r.requests_short} | ${fixed(r.shutdown_s, 2)} |`);
}
lines.push("");
lines.push("CPU s: CPU time during the measured requests, from /proc. Client: the load generator, which shares " +
  "the CPUs with the server. Others: every other process on the machine. Retried: requests sent again " +
  "because the server closed the reused keep-alive connection before responding. Short: requests that " +
  "generated fewer than max_tokens. Exit s: from SIGTERM to the server's exit, with no request in flight.");
const failed = runs.filter((r) => r.errors.length > 0);
if (failed.length > 0) {
  lines.push("");
  lines.push("Errors:");
  for (const r of failed) lines.push(`- ${r.label}: ${r.errors.join("; ")}`);
}
fs.writeFileSync(env.OUT, lines.join("\n") + "\n");
SCRIPT

if [[ -s $raw/shutdown-problems.txt ]]; then
  { echo; echo "Shutdown problems:"; sort -u "$raw/shutdown-problems.txt" | sed 's/^/- /'; } >> "$OUT"
fi
echo "wrote $OUT (raw results and server logs in $raw)" >&2
