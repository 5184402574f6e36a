// Chat and text completions through the official openai client against one
// `edgelm serve` process: plain and streamed responses, max_tokens, stop
// strings, seeds, log-probabilities and /v1/models.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { BINARY, MODEL, postRaw, startServer } from './server.mjs';

const ALIAS = 'tiny-e2e';
// Greedy decoding of the tiny model answers this with words; many other
// questions get only a run of tabs, which would make the comparisons weak.
const QUESTION = [{ role: 'user', content: 'What should I do today?' }];

// Joins the content deltas of a chat stream and keeps what the checks need.
async function collectChatStream(stream) {
  const chunks = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
  }

  let content = '';
  let finishReason = null;
  for (const chunk of chunks) {
    for (const choice of chunk.choices) {
      content += choice.delta?.content ?? '';
      finishReason = choice.finish_reason ?? finishReason;
    }
  }
  return { chunks, content, finishReason };
}

function assertUsageConsistent(usage, maxTokens) {
  assert.ok(usage, 'response has no usage');
  assert.ok(Number.isInteger(usage.prompt_tokens), `prompt_tokens ${usage.prompt_tokens}`);
  assert.ok(usage.prompt_tokens > 0, `prompt_tokens ${usage.prompt_tokens}`);
  assert.ok(Number.isInteger(usage.completion_tokens), `completion_tokens ${usage.completion_tokens}`);
  assert.ok(usage.completion_tokens > 0, `completion_tokens ${usage.completion_tokens}`);
  assert.ok(usage.completion_tokens <= maxTokens, `completion_tokens ${usage.completion_tokens} > max_tokens ${maxTokens}`);
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
}

describe('chat and completions', { timeout: 120_000 }, () => {
  let server;
  let client;

  before(async () => {
    server = await startServer(['--alias', ALIAS, '--parallel', '2']);
    client = server.client();
  });

  after(async () => {
    await server?.stop();
  });

  test('chat non-streaming', async () => {
    const response = await client.chat.completions.create({
      model: ALIAS, messages: QUESTION, temperature: 0, max_tokens: 32,
    });

    assert.equal(response.object, 'chat.completion');
    assert.equal(response.model, ALIAS);
    assert.equal(response.choices.length, 1);
    const choice = response.choices[0];
    assert.equal(choice.index, 0);
    assert.equal(choice.message.role, 'assistant');
    assert.equal(typeof choice.message.content, 'string');
    assert.ok(choice.message.content.length > 0, 'empty content');
    assert.ok(['stop', 'length'].includes(choice.finish_reason), `finish_reason ${choice.finish_reason}`);
    assertUsageConsistent(response.usage, 32);
  });

  test('chat stream matches non-streaming', async () => {
    const request = { model: ALIAS, messages: QUESTION, temperature: 0, max_tokens: 32 };
    const whole = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({
      ...request, stream: true, stream_options: { include_usage: true },
    });
    const streamed = await collectChatStream(stream);

    const expected = whole.choices[0].message.content;
    assert.equal(streamed.content, expected);
    assert.ok(Buffer.from(streamed.content, 'utf8').equals(Buffer.from(expected, 'utf8')));
    assert.equal(streamed.finishReason, whole.choices[0].finish_reason);

    const first = streamed.chunks[0];
    assert.equal(first.object, 'chat.completion.chunk');
    assert.equal(first.choices[0].delta.role, 'assistant');
    const ids = new Set(streamed.chunks.map((chunk) => chunk.id));
    assert.equal(ids.size, 1, 'chunks of one stream carry different ids');

    // Only the last chunk has usage, and its choices are empty.
    const last = streamed.chunks.at(-1);
    assert.deepEqual(last.choices, []);
    assert.equal(last.usage.prompt_tokens, whole.usage.prompt_tokens);
    assert.equal(last.usage.completion_tokens, whole.usage.completion_tokens);
    assert.equal(last.usage.total_tokens, whole.usage.total_tokens);
    for (const chunk of streamed.chunks.slice(0, -1)) {
      assert.ok(chunk.usage == null, 'usage before the last chunk');
    }
  });

  test('stream ends with done', async () => {
    const reply = await postRaw(server, '/v1/chat/completions', {
      model: ALIAS, messages: QUESTION, temperature: 0, max_tokens: 4, stream: true,
    });

    assert.equal(reply.status, 200);
    assert.match(reply.headers.get('content-type'), /^text\/event-stream/);
    const events = reply.raw.split('\n\n').filter((event) => event.length > 0);
    assert.equal(events.at(-1), 'data: [DONE]');
    for (const event of events.slice(0, -1)) {
      assert.ok(event.startsWith('data: '), `event ${JSON.stringify(event)}`);
      assert.equal(JSON.parse(event.slice('data: '.length)).object, 'chat.completion.chunk');
    }
  });

  test('completions string prompt', async () => {
    const response = await client.completions.create({
      model: ALIAS, prompt: 'The meaning of life is', temperature: 0, max_tokens: 16,
    });

    assert.equal(response.object, 'text_completion');
    assert.equal(response.choices.length, 1);
    assert.equal(typeof response.choices[0].text, 'string');
    assert.ok(response.choices[0].text.length > 0, 'empty text');
    assert.ok(['stop', 'length'].includes(response.choices[0].finish_reason));
    assertUsageConsistent(response.usage, 16);
  });

  test('completions token-list prompt', async () => {
    // `edgelm tokenize` prints the ids with BOS, as the string form is fed.
    const prompt = 'The meaning of life is';
    const output = execFileSync(BINARY, ['tokenize', '-m', MODEL, '-p', prompt], { encoding: 'utf8' });
    const tokens = JSON.parse(output);
    const request = { model: ALIAS, temperature: 0, max_tokens: 16 };

    const fromText = await client.completions.create({ ...request, prompt });
    const fromTokens = await client.completions.create({ ...request, prompt: tokens });

    assert.equal(fromTokens.usage.prompt_tokens, tokens.length);
    assert.equal(fromText.usage.prompt_tokens, tokens.length);
    assert.equal(fromTokens.choices[0].text, fromText.choices[0].text);
  });

  test('max_tokens gives length', async () => {
    const chat = await client.chat.completions.create({
      model: ALIAS, messages: QUESTION, temperature: 0, max_tokens: 7, ignore_eos: true,
    });
    assert.equal(chat.choices[0].finish_reason, 'length');
    assert.equal(chat.usage.completion_tokens, 7);

    const text = await client.completions.create({
      model: ALIAS, prompt: 'Once upon a time', temperature: 0, max_tokens: 5, ignore_eos: true,
    });
    assert.equal(text.choices[0].finish_reason, 'length');
    assert.equal(text.usage.completion_tokens, 5);

    const modern = await client.chat.completions.create({
      model: ALIAS, messages: QUESTION, temperature: 0, max_completion_tokens: 3, ignore_eos: true,
    });
    assert.equal(modern.choices[0].finish_reason, 'length');
    assert.equal(modern.usage.completion_tokens, 3);
  });

  test('stop strings end the text', async () => {
    const request = {
      model: ALIAS, prompt: 'The meaning of life is', temperature: 0, max_tokens: 48, ignore_eos: true,
    };
    const free = (await client.completions.create(request)).choices[0].text;
    assert.ok(free.length >= 8, `too little text to pick a stop string from: ${JSON.stringify(free)}`);

    // A stop string taken from the middle of the greedy text: generation must
    // end right before its first occurrence.
    const stop = free.slice(Math.floor(free.length / 2), Math.floor(free.length / 2) + 3);
    const expected = free.slice(0, free.indexOf(stop));

    const stopped = await client.completions.create({ ...request, stop: [stop, 'never-in-this-text'] });
    assert.equal(stopped.choices[0].text, expected);
    assert.equal(stopped.choices[0].finish_reason, 'stop');

    const single = await client.completions.create({ ...request, stop });
    assert.equal(single.choices[0].text, expected);

    const stream = await client.completions.create({ ...request, stop, stream: true });
    let streamed = '';
    let finishReason = null;
    for await (const chunk of stream) {
      streamed += chunk.choices[0]?.text ?? '';
      finishReason = chunk.choices[0]?.finish_reason ?? finishReason;
    }
    assert.equal(streamed, expected);
    assert.equal(finishReason, 'stop');
  });

  test('seed repeats sampling', async () => {
    const request = { model: ALIAS, messages: QUESTION, temperature: 1, max_tokens: 24, ignore_eos: true };
    const first = await client.chat.completions.create({ ...request, seed: 1234 });
    const second = await client.chat.completions.create({ ...request, seed: 1234 });
    assert.equal(second.choices[0].message.content, first.choices[0].message.content);

    // Different seeds must be able to change the text. Five identical
    // 24-token samples at temperature 1 would mean the seed is ignored.
    const texts = new Set([first.choices[0].message.content]);
    for (const seed of [1, 2, 3, 4]) {
      const other = await client.chat.completions.create({ ...request, seed });
      texts.add(other.choices[0].message.content);
    }
    assert.ok(texts.size >= 2, 'every seed gave the same text');
  });

  test('chat logprobs', async () => {
    const response = await client.chat.completions.create({
      model: ALIAS, messages: QUESTION, temperature: 0, max_tokens: 12, logprobs: true, top_logprobs: 3,
    });
    const choice = response.choices[0];
    const entries = choice.logprobs.content;
    assert.ok(Array.isArray(entries), `logprobs.content is ${JSON.stringify(entries)}`);
    assert.ok(entries.length > 0, 'logprobs.content is empty');
    assert.ok(entries.length <= response.usage.completion_tokens);

    for (const entry of entries) {
      assert.equal(typeof entry.token, 'string');
      assert.ok(entry.logprob <= 0, `logprob ${entry.logprob} > 0`);
      assert.ok(Array.isArray(entry.bytes));
      assert.equal(entry.top_logprobs.length, 3);

      const top = entry.top_logprobs;
      for (let i = 1; i < top.length; i++) {
        assert.ok(top[i - 1].logprob >= top[i].logprob, `top_logprobs not sorted: ${JSON.stringify(top)}`);
      }
      for (const alternative of top) {
        assert.ok(alternative.logprob <= 0);
      }
      const probabilitySum = top.reduce((sum, alternative) => sum + Math.exp(alternative.logprob), 0);
      assert.ok(probabilitySum <= 1 + 1e-4, `top probabilities sum to ${probabilitySum}`);

      // Greedy decoding picks the most likely token.
      assert.equal(entry.token, top[0].token);
      assert.ok(Math.abs(entry.logprob - top[0].logprob) < 1e-5);
    }

    // The tokens' bytes spell the content.
    const bytes = Buffer.from(entries.flatMap((entry) => entry.bytes));
    assert.equal(bytes.toString('utf8'), choice.message.content);
  });

  test('completions logprobs', async () => {
    const response = await client.completions.create({
      model: ALIAS, prompt: 'The meaning of life is', temperature: 0, max_tokens: 6, ignore_eos: true, logprobs: 2,
    });
    const choice = response.choices[0];
    const { tokens, token_logprobs: tokenLogprobs, top_logprobs: topLogprobs, text_offset: textOffset } = choice.logprobs;

    assert.equal(tokens.length, 6);
    assert.equal(tokenLogprobs.length, 6);
    assert.equal(topLogprobs.length, 6);
    assert.equal(textOffset.length, 6);
    assert.equal(tokens.join(''), choice.text);
    for (let i = 0; i < tokens.length; i++) {
      assert.ok(tokenLogprobs[i] <= 0);
      const alternatives = Object.entries(topLogprobs[i]);
      assert.ok(alternatives.length >= 1, `top_logprobs[${i}] is empty`);
      assert.ok(alternatives.length <= 2, `top_logprobs[${i}] ${JSON.stringify(topLogprobs[i])} has more than 2 entries`);
      const best = Math.max(...alternatives.map(([, logprob]) => logprob));
      assert.ok(Math.abs(tokenLogprobs[i] - best) < 1e-5, 'greedy token is not the most likely one');
    }
    for (let i = 1; i < textOffset.length; i++) {
      assert.equal(textOffset[i], textOffset[i - 1] + tokens[i - 1].length);
    }
  });

  test('models lists the alias', async () => {
    const page = await client.models.list();
    const ids = page.data.map((model) => model.id);
    assert.deepEqual(ids, [ALIAS]);
    assert.equal(page.data[0].object, 'model');
    assert.equal(page.data[0].owned_by, 'edgelm');
  });
});
