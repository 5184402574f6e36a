// Error responses of `edgelm serve`: the API key through the openai client,
// and malformed, oversized and invalid requests through plain fetch.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { postRaw, startServer } from './server.mjs';

const ALIAS = 'tiny-e2e';
const API_KEY = 'e2e-secret-key';
const MAX_BODY = 4096;
const CONTEXT = 128;
const AUTHORIZATION = { authorization: `Bearer ${API_KEY}` };

// Checks the OpenAI error format: {"error": {"message", "type", "param", "code"}}.
function assertErrorBody(reply, status) {
  assert.equal(reply.status, status, `status ${reply.status}, body ${reply.raw}`);
  assert.ok(reply.json, `body is not JSON: ${JSON.stringify(reply.raw)}`);
  assert.equal(typeof reply.json.error, 'object', `no error object in ${reply.raw}`);
  const error = reply.json.error;
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0, 'empty error message');
  assert.equal(typeof error.type, 'string');
  return error;
}

describe('errors', { timeout: 120_000 }, () => {
  let server;

  before(async () => {
    server = await startServer([
      '--alias', ALIAS, '--api-key', API_KEY, '--max-body', String(MAX_BODY), '-c', String(CONTEXT),
      '--parallel', '1', '--max-queue', '1',
    ]);
  });

  after(async () => {
    await server?.stop();
  });

  test('wrong api key rejected', async () => {
    const request = { model: ALIAS, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 4 };
    const wrong = server.client({ apiKey: 'not-the-key' });
    await assert.rejects(wrong.chat.completions.create(request), (error) => {
      assert.ok(error instanceof OpenAI.AuthenticationError, `got ${error.constructor.name}: ${error.message}`);
      assert.equal(error.status, 401);
      return true;
    });

    const missing = await postRaw(server, '/v1/chat/completions', request);
    assertErrorBody(missing, 401);

    const right = await server.client({ apiKey: API_KEY }).chat.completions.create(request);
    assert.equal(right.object, 'chat.completion');
  });

  test('malformed json gives 400', async () => {
    const reply = await postRaw(server, '/v1/chat/completions', '{"model": "tiny-e2e", "messages": [', AUTHORIZATION);
    const error = assertErrorBody(reply, 400);
    assert.equal(error.type, 'invalid_request_error');
  });

  test('wrong field types give 400', async () => {
    const cases = [
      [{ model: ALIAS, messages: [{ role: 'user', content: 'Hi' }], temperature: 'hot' }, 'temperature'],
      [{ model: ALIAS, messages: 'Hi' }, 'messages'],
      [{ model: ALIAS, messages: [{ role: 'user', content: 'Hi' }], n: 2 }, 'n'],
    ];
    for (const [body, param] of cases) {
      const reply = await postRaw(server, '/v1/chat/completions', body, AUTHORIZATION);
      const error = assertErrorBody(reply, 400);
      assert.equal(error.param, param, `param for ${JSON.stringify(body)}`);
    }
  });

  test('body over max-body gives 413', async () => {
    const body = { model: ALIAS, messages: [{ role: 'user', content: 'x'.repeat(MAX_BODY * 2) }] };
    const reply = await postRaw(server, '/v1/chat/completions', body, AUTHORIZATION);
    assertErrorBody(reply, 413);
  });

  test('prompt over context gives 400', async () => {
    // A token-list prompt has a known length.
    const length = CONTEXT + 72;
    const tokens = [2, ...Array(length - 1).fill(321)];
    const reply = await postRaw(server, '/v1/completions', { model: ALIAS, prompt: tokens }, AUTHORIZATION);
    const error = assertErrorBody(reply, 400);
    assert.match(error.message, new RegExp(`\\b${length}\\b`), `message does not name the prompt length: ${error.message}`);
    assert.match(error.message, new RegExp(`\\b${CONTEXT}\\b`), `message does not name the context: ${error.message}`);

    const chat = await postRaw(server, '/v1/chat/completions', {
      model: ALIAS, messages: [{ role: 'user', content: 'fortune '.repeat(200) }],
    }, AUTHORIZATION);
    const chatError = assertErrorBody(chat, 400);
    assert.match(chatError.message, new RegExp(`\\b${CONTEXT}\\b`), chatError.message);
  });

  test('unknown model gives 400', async () => {
    const reply = await postRaw(server, '/v1/chat/completions', {
      model: 'no-such-model', messages: [{ role: 'user', content: 'Hi' }],
    }, AUTHORIZATION);
    const error = assertErrorBody(reply, 400);
    assert.equal(error.param, 'model');
    assert.match(error.message, /no-such-model/);
  });

  test('full queue gives 429', async () => {
    // One request runs and one waits, so of four sent at once at least one
    // finds the queue full, and exactly two do unless the first has finished
    // before the last arrives.
    const body = { model: ALIAS, prompt: 'Once upon a time', max_tokens: 112, ignore_eos: true };
    const replies = await Promise.all([0, 1, 2, 3].map(() => postRaw(server, '/v1/completions', body, AUTHORIZATION)));
    const statuses = replies.map((reply) => reply.status).sort();

    const accepted = statuses.filter((status) => status === 200).length;
    const rejected = statuses.filter((status) => status === 429).length;
    assert.equal(accepted + rejected, 4, `statuses ${statuses}`);
    assert.ok(accepted >= 2, `statuses ${statuses}`);
    assert.ok(rejected >= 1, `statuses ${statuses}`);
    for (const reply of replies.filter((candidate) => candidate.status === 429)) {
      const error = assertErrorBody(reply, 429);
      assert.equal(error.type, 'rate_limit_error');
      assert.match(reply.headers.get('retry-after') ?? '', /^\d+$/);
    }
  });
});
