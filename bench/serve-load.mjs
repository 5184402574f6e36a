#!/usr/bin/env node
// Load generator for OpenAI-compatible servers (edgelm serve, llama-server).
//
// Runs C concurrent clients. Each sends streaming requests back to back, with
// a prompt no other request uses, ignore_eos so every request generates
// exactly max_tokens, and stream_options.include_usage so the server reports
// the token count. Prints one JSON object with aggregate generated tokens/s,
// time to first token (TTFT) and inter-token latency (ITL).
//
// Only Node's built-ins are used (fetch, streams, util.parseArgs); Node 18+.
//
//   node bench/serve-load.mjs --url http://127.0.0.1:8080 --concurrency 4 \
//       --requests 32 --max-tokens 128 --api chat

import { parseArgs } from "node:util";
import { readFile } from "node:fs/promises";
import { performance } from "node:perf_hooks";

const USAGE = `Usage: node serve-load.mjs [options]
  --url URL            server base URL (default http://127.0.0.1:8080)
  --concurrency N      concurrent streaming clients (default 1)
  --requests N         measured requests in total, split evenly over the clients
                       (default 8 per client); ignored when --duration is set
  --duration SECONDS   keep starting requests for this long instead of a fixed count;
                       requests in flight at the end still finish and are counted
  --max-tokens N       tokens to generate per request (default 128)
  --api chat|completions
                       /v1/chat/completions or /v1/completions (default chat)
  --model NAME         model field of the requests (default: first id of /v1/models)
  --temperature T      sampling temperature; omit the field with "default" (default 0)
  --warmup N           unmeasured requests per client before the run (default 1)
  --api-key KEY        sent as "Authorization: Bearer KEY"
  --timeout SECONDS    abort a request after this long (default 600)
  --label TEXT         copied into the output, to tell runs apart
  --server-pid PID     also report the CPU time of this process and of the whole
                       machine during the measured requests (Linux /proc only)
  --help`;

function parseOptions(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string", default: "http://127.0.0.1:8080" },
      concurrency: { type: "string", default: "1" },
      requests: { type: "string" },
      duration: { type: "string" },
      "max-tokens": { type: "string", default: "128" },
      api: { type: "string", default: "chat" },
      model: { type: "string" },
      temperature: { type: "string", default: "0" },
      warmup: { type: "string", default: "1" },
      "api-key": { type: "string" },
      timeout: { type: "string", default: "600" },
      label: { type: "string" },
      "server-pid": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }

  const positiveInt = (name, text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) {
      throw new Error(`--${name} must be a positive integer, got "${text}"`);
    }
    return n;
  };
  const concurrency = positiveInt("concurrency", values.concurrency);
  const options = {
    url: values.url.replace(/\/+$/, ""),
    concurrency,
    requests: values.requests === undefined ? 8 * concurrency : positiveInt("requests", values.requests),
    duration_s: values.duration === undefined ? null : Number(values.duration),
    max_tokens: positiveInt("max-tokens", values["max-tokens"]),
    api: values.api,
    model: values.model ?? null,
    temperature: values.temperature === "default" ? null : Number(values.temperature),
    warmup: values.warmup === "0" ? 0 : positiveInt("warmup", values.warmup),
    api_key: values["api-key"] ?? null,
    timeout_s: Number(values.timeout),
    label: values.label ?? null,
    server_pid: values["server-pid"] === undefined ? null : positiveInt("server-pid", values["server-pid"]),
  };
  if (options.api !== "chat" && options.api !== "completions") {
    throw new Error(`--api must be "chat" or "completions", got "${options.api}"`);
  }
  if (options.duration_s !== null && !(options.duration_s > 0)) {
    throw new Error(`--duration must be a positive number of seconds, got "${values.duration}"`);
  }
  if (options.temperature !== null && !(options.temperature >= 0)) {
    throw new Error(`--temperature must be a number >= 0 or "default", got "${values.temperature}"`);
  }
  return options;
}

// Distinct prompts of similar length: the request index is in the text, so no
// two requests share more than a short prefix of cached KV.
const TOPICS = ["a lighthouse keeper", "the first snow", "a broken clock", "two rival bakers",
  "a lost map", "the night train", "an old violin", "a quiet harbour", "the last library",
  "a stubborn goat", "a paper boat", "the mountain road", "a forgotten garden", "the copper key",
  "a travelling circus", "the winter market"];

function promptFor(index) {
  const topic = TOPICS[index % TOPICS.length];
  return `Story ${index}: write a short story about ${topic}, told by a narrator who remembers day ${index * 7 + 3}.`;
}

function requestBody(options, model, index) {
  const body = {
    max_tokens: options.max_tokens,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
  };
  if (model !== null) body.model = model;
  if (options.temperature !== null) body.temperature = options.temperature;
  if (options.api === "chat") {
    body.messages = [{ role: "user", content: promptFor(index) }];
  } else {
    body.prompt = promptFor(index);
  }
  return body;
}

function headers(options) {
  const result = { "content-type": "application/json" };
  if (options.api_key !== null) result.authorization = `Bearer ${options.api_key}`;
  return result;
}

// Yields the parsed JSON of each `data:` event until `data: [DONE]`.
async function* readServerSentEvents(body) {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });

    let end;
    while ((end = buffer.search(/\r?\n\r?\n/)) !== -1) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, "");

      const data = event.split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""))
        .join("\n");
      if (data === "") continue;  // a comment or keep-alive ping
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
  throw new Error("stream ended without data: [DONE]");
}

// The generated text a chunk carries, or null for role, finish and usage chunks.
function chunkText(chunk, api) {
  const choice = chunk.choices?.[0];
  if (choice === undefined) return null;
  const text = api === "chat" ? choice.delta?.content : choice.text;
  return typeof text === "string" && text !== "" ? text : null;
}

const kMaxSendAttempts = 3;

// Sends one streaming request and returns its timings; throws on any failure.
async function runRequest(options, model, index) {
  const path = options.api === "chat" ? "/v1/chat/completions" : "/v1/completions";
  const send = () => fetch(options.url + path, {
    method: "POST",
    headers: headers(options),
    body: JSON.stringify(requestBody(options, model, index)),
    signal: AbortSignal.timeout(options.timeout_s * 1000),
  });

  // A server may close a keep-alive connection just as fetch reuses it
  // (llama-server build de3ff81 did, about once in 30 requests, on 2 CPUs).
  // The request then fails before any response arrived, so it is sent again,
  // up to kMaxSendAttempts times in all, and counted as retried.
  let started;
  let retries = 0;
  let response;
  for (;;) {
    started = performance.now();
    try {
      response = await send();
      break;
    } catch (error) {
      const closed = error.cause?.code === "UND_ERR_SOCKET" || error.cause?.code === "ECONNRESET";
      if (!closed || retries + 1 >= kMaxSendAttempts) throw error;
      retries++;
    }
  }
  if (response.status !== 200) {
    const text = await response.text();
    throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  }

  const chunkTimes = [];
  let usage = null;
  let finishReason = null;
  for await (const chunk of readServerSentEvents(response.body)) {
    if (chunk.error !== undefined) {
      throw new Error(`error event: ${JSON.stringify(chunk.error).slice(0, 300)}`);
    }
    if (chunkText(chunk, options.api) !== null) chunkTimes.push(performance.now());
    if (chunk.choices?.[0]?.finish_reason) finishReason = chunk.choices[0].finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  const finished = performance.now();

  if (chunkTimes.length === 0) throw new Error("stream carried no generated text");
  return {
    started,
    finished,
    chunkTimes,
    completionTokens: usage?.completion_tokens ?? null,
    promptTokens: usage?.prompt_tokens ?? null,
    cachedTokens: usage?.prompt_tokens_details?.cached_tokens ?? null,
    finishReason,
    retries,
  };
}

// Reads the CPU seconds used so far by the whole machine and by one process
// from /proc. Returns null without /proc (not Linux) or when the process has exited.
async function readCpuSeconds(pid) {
  // USER_HZ (`getconf CLK_TCK`), which is 100 on x86-64 and arm64 Linux.
  const ticksPerSecond = 100;
  try {
    const stat = await readFile("/proc/stat", "utf8");
    const fields = stat.split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq] = fields;
    const machine = (user + nice + system + irq + softirq) / ticksPerSecond;

    let processSeconds = null;
    if (pid !== null) {
      // Fields after the parenthesized command name; utime and stime are fields 14 and 15.
      const text = await readFile(`/proc/${pid}/stat`, "utf8");
      const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
      processSeconds = (Number(rest[11]) + Number(rest[12])) / ticksPerSecond;
    }
    return { machine, process: processSeconds };
  } catch {
    return null;
  }
}

async function firstModelId(options) {
  const response = await fetch(options.url + "/v1/models", { headers: headers(options) });
  if (response.status !== 200) {
    throw new Error(`GET /v1/models returned HTTP ${response.status}; pass --model NAME`);
  }
  const list = await response.json();
  const id = list.data?.[0]?.id;
  if (typeof id !== "string") throw new Error("GET /v1/models listed no model; pass --model NAME");
  return id;
}

// fetch reports socket errors as "fetch failed" with the reason in `cause`.
function describeError(error) {
  const cause = error.cause ? `: ${error.cause.code ?? ""} ${error.cause.message ?? error.cause}` : "";
  return `${error.message ?? error}${cause}`;
}

function summarize(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const mean = sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  const round = (v) => Math.round(v * 1000) / 1000;
  return { mean: round(mean), p50: round(at(0.5)), p90: round(at(0.9)), max: round(sorted[sorted.length - 1]) };
}

// The CPU seconds of the server and of all other processes but this one
// during the measured requests, when /proc could be read.
function cpuReport(start, end, clientSeconds) {
  if (start === null || end === null) return {};
  const round = (v) => Math.round(v * 100) / 100;
  const machine = end.machine - start.machine;
  const report = { machine_cpu_s: round(machine) };
  if (start.process !== null && end.process !== null) {
    const server = end.process - start.process;
    report.server_cpu_s = round(server);
    report.other_cpu_s = round(Math.max(0, machine - server - clientSeconds));
  }
  return report;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const model = options.model ?? await firstModelId(options);

  // Prompt indices: warm-up requests take the first ones, so no measured
  // prompt was seen before.
  let nextIndex = 0;
  const takeIndex = () => nextIndex++;

  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    for (let i = 0; i < options.warmup; i++) await runRequest(options, model, takeIndex());
  }));

  const results = [];
  const errors = [];
  const machineStart = await readCpuSeconds(options.server_pid);
  const cpuStart = process.cpuUsage();
  const runStart = performance.now();
  const deadline = options.duration_s === null ? null : runStart + options.duration_s * 1000;
  let remaining = options.requests;
  const claimRequest = () => {
    if (deadline !== null) return performance.now() < deadline;
    if (remaining === 0) return false;
    remaining--;
    return true;
  };

  await Promise.all(Array.from({ length: options.concurrency }, async () => {
    while (claimRequest()) {
      try {
        results.push(await runRequest(options, model, takeIndex()));
      } catch (error) {
        errors.push(describeError(error));
      }
    }
  }));
  const runEnd = performance.now();
  const cpu = process.cpuUsage(cpuStart);
  const machineEnd = await readCpuSeconds(options.server_pid);

  // Tokens counted from usage; a server that sends no usage is counted by chunks.
  const tokensOf = (r) => r.completionTokens ?? r.chunkTimes.length;
  const generatedTokens = results.reduce((sum, r) => sum + tokensOf(r), 0);
  const elapsedSeconds = (runEnd - runStart) / 1000;

  const ttft = results.map((r) => r.chunkTimes[0] - r.started);
  const itl = results.filter((r) => tokensOf(r) > 1)
    .map((r) => (r.chunkTimes[r.chunkTimes.length - 1] - r.chunkTimes[0]) / (tokensOf(r) - 1));
  const chunkGaps = results.flatMap((r) => r.chunkTimes.slice(1).map((t, i) => t - r.chunkTimes[i]));

  const report = {
    label: options.label,
    url: options.url,
    api: options.api,
    model,
    concurrency: options.concurrency,
    max_tokens: options.max_tokens,
    temperature: options.temperature,
    requests_ok: results.length,
    requests_failed: errors.length,
    errors: [...new Set(errors)].slice(0, 5),
    requests_retried: results.filter((r) => r.retries > 0).length,
    requests_without_usage: results.filter((r) => r.completionTokens === null).length,
    requests_short: results.filter((r) => tokensOf(r) !== options.max_tokens).length,
    finish_reasons: results.reduce((counts, r) => {
      counts[r.finishReason] = (counts[r.finishReason] ?? 0) + 1;
      return counts;
    }, {}),
    generated_tokens: generatedTokens,
    elapsed_s: Math.round(elapsedSeconds * 1000) / 1000,
    tokens_per_s: Math.round((generatedTokens / elapsedSeconds) * 10) / 10,
    prompt_tokens_mean: summarize(results.map((r) => r.promptTokens ?? 0))?.mean ?? null,
    cached_tokens_mean: summarize(results.map((r) => r.cachedTokens ?? 0))?.mean ?? null,
    chunks_per_request_mean: summarize(results.map((r) => r.chunkTimes.length))?.mean ?? null,
    ttft_ms: summarize(ttft),
    itl_ms: summarize(itl),
    chunk_gap_ms: summarize(chunkGaps),
    latency_ms: summarize(results.map((r) => r.finished - r.started)),
    client_cpu_s: Math.round((cpu.user + cpu.system) / 1000) / 1000,
    ...cpuReport(machineStart, machineEnd, (cpu.user + cpu.system) / 1e6),
  };
  console.log(JSON.stringify(report));
  if (results.length === 0) process.exit(1);
}

main().catch((error) => {
  console.error(`serve-load: ${describeError(error)}`);
  process.exit(1);
});
