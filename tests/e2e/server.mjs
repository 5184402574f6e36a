// Starts the real `edgelm serve` binary for the end-to-end tests and stops it
// the way an operator would (SIGTERM), checking that it exits with status 0.
//
// EDGELM_BINARY: the edgelm executable (default: build/edgelm in the repository).
// EDGELM_MODEL: the GGUF file to serve (default: models/tiny-gemma2-q8_0.gguf).

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import OpenAI from 'openai';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BINARY = path.resolve(REPO_ROOT, process.env.EDGELM_BINARY || 'build/edgelm');
export const MODEL = path.resolve(REPO_ROOT, process.env.EDGELM_MODEL || 'models/tiny-gemma2-q8_0.gguf');

const STARTUP_TIMEOUT_MS = 60_000;
const SHUTDOWN_TIMEOUT_MS = 30_000;
const LOG_TAIL_BYTES = 64 * 1024;

// Asks the kernel for a free loopback port by binding port 0, then releases it
// for the server. Another process could take it in between, which is unlikely
// on a test machine and shows up as a bind error in the server log.
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Socket errors of a request sent on a keep-alive connection that the server
// had already closed, before any response byte came back.
const STALE_CONNECTION_ERRORS = new Set(['UND_ERR_SOCKET', 'EPIPE', 'ECONNRESET']);

// A running `edgelm serve` process on 127.0.0.1.
export class EdgelmServer {
  constructor(child, port, args) {
    this.child = child;
    this.port = port;
    this.args = args;
    this.origin = `http://127.0.0.1:${port}`;
    this.baseURL = `${this.origin}/v1`;
    this.log = '';
    this.exit = null;
    this.staleConnectionRetries = 0;
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });

    const keepTail = (chunk) => {
      this.log = (this.log + chunk.toString('utf8')).slice(-LOG_TAIL_BYTES);
    };
    child.stdout.on('data', keepTail);
    child.stderr.on('data', keepTail);
  }

  get pid() {
    return this.child.pid;
  }

  // fetch, sending a request once more when it failed on a stale keep-alive
  // connection.
  // NOTE: the server closes a connection after 5 s idle (cpp-httplib's
  // default) and fetch closes idle ones after 4 s, but a client whose event
  // loop runs late can still reuse one just as the server closes it. Such a
  // request never reached a handler; staleConnectionRetries counts the resends.
  fetch = async (url, init) => {
    try {
      return await fetch(url, init);
    } catch (error) {
      if (!STALE_CONNECTION_ERRORS.has(error.cause?.code)) {
        throw error;
      }
      this.staleConnectionRetries++;
      return await fetch(url, init);
    }
  };

  // An OpenAI client for this server. The client's own retries are off so
  // that every test checks the server's first response.
  client(options = {}) {
    return new OpenAI({
      baseURL: this.baseURL, apiKey: 'unused', maxRetries: 0, timeout: 60_000, fetch: this.fetch, ...options,
    });
  }

  // The model id that GET /v1/models lists, which requests must name.
  async modelId() {
    const page = await this.client().models.list();
    return page.data[0].id;
  }

  // The server's resident set size in bytes (VmRSS of /proc/PID/status).
  rssBytes() {
    const status = readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const match = status.match(/^VmRSS:\s+(\d+)\s+kB$/m);
    if (!match) {
      throw new Error(`no VmRSS line in /proc/${this.pid}/status`);
    }
    return Number(match[1]) * 1024;
  }

  describeExit() {
    return `${BINARY} ${this.args.join(' ')} exited with ${JSON.stringify(this.exit)}; log tail:\n${this.log}`;
  }

  // Polls GET /health until it returns 200.
  async waitReady() {
    const deadline = Date.now() + STARTUP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.exit) {
        throw new Error(this.describeExit());
      }
      try {
        const response = await fetch(`${this.origin}/health`);
        await response.arrayBuffer();
        if (response.status === 200) {
          return;
        }
      } catch {
        // Not listening yet.
      }
      await sleep(50);
    }
    throw new Error(`edgelm serve did not report healthy within ${STARTUP_TIMEOUT_MS} ms; log tail:\n${this.log}`);
  }

  // Sends SIGTERM and waits for the exit. Throws unless the server exited
  // with status 0 on its own.
  async stop() {
    if (!this.exit) {
      this.child.kill('SIGTERM');
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), SHUTDOWN_TIMEOUT_MS);
    const exit = await this.exited;
    clearTimeout(timer);
    if (exit.code !== 0 || exit.signal !== null) {
      throw new Error(`after SIGTERM, ${this.describeExit()}`);
    }
  }
}

// Starts `edgelm serve -m MODEL --host 127.0.0.1 --port P ...args` and waits
// until it is ready.
export async function startServer(args = []) {
  const port = await freePort();
  const fullArgs = ['serve', '-m', MODEL, '--host', '127.0.0.1', '--port', String(port), ...args];
  // A key in the environment would apply to servers started without --api-key.
  const env = { ...process.env };
  delete env.EDGELM_API_KEY;
  const child = spawn(BINARY, fullArgs, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = new EdgelmServer(child, port, fullArgs);

  const spawned = new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (error) => reject(new Error(`cannot start ${BINARY}: ${error.message}`)));
  });
  await spawned;

  try {
    await server.waitReady();
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return server;
}

// POSTs a JSON body (or a raw string) with fetch and returns the status,
// headers and parsed JSON body (null when the body is not JSON).
export async function postRaw(server, route, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const response = await server.fetch(`${server.origin}${route}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: text,
  });
  const raw = await response.text();
  let json = null;
  try {
    json = JSON.parse(raw);
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, json, raw };
}
