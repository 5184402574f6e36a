// A second chat turn reuses the first turn's KV cache: the server reports
// cached prompt tokens and still gives the reply that a fresh server gives.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startServer } from './server.mjs';

const FIRST = [{ role: 'user', content: 'What does the wise cat say?' }];
const SETTINGS = { temperature: 0, max_tokens: 24 };

// NOTE: the tiny model's sliding-window layers keep only the last 32
// positions, and the server can rewind a cached sequence to a shorter prefix
// only while the sequence fits in that window. The chat template trims the
// whitespace around the first reply, so the second prompt leaves the cached
// tokens inside that reply and needs such a rewind. The first turn (17 prompt
// tokens) therefore generates only 8 tokens.
const FIRST_TURN_SETTINGS = { temperature: 0, max_tokens: 8 };

test('multi-turn reuses cache', { timeout: 120_000 }, async () => {
  const warm = await startServer();
  let secondTurn;
  let warmReply;
  let model;
  try {
    const client = warm.client();
    model = await warm.modelId();

    const first = await client.chat.completions.create({ model, messages: FIRST, ...FIRST_TURN_SETTINGS });
    const firstReply = first.choices[0].message.content;
    assert.equal(first.usage.prompt_tokens_details?.cached_tokens ?? 0, 0, 'first request of a fresh server hit a cache');

    secondTurn = [
      ...FIRST,
      { role: 'assistant', content: firstReply },
      { role: 'user', content: 'What happens next?' },
    ];
    const second = await client.chat.completions.create({ model, messages: secondTurn, ...SETTINGS });
    warmReply = second.choices[0].message.content;

    const cached = second.usage.prompt_tokens_details?.cached_tokens;
    assert.ok(cached > 0, `second turn reports cached_tokens ${cached}`);
    assert.ok(cached < second.usage.prompt_tokens, `cached_tokens ${cached} >= prompt_tokens ${second.usage.prompt_tokens}`);
    assert.ok(cached >= first.usage.prompt_tokens,
      `only ${cached} of the first turn's ${first.usage.prompt_tokens} prompt tokens were reused`);
  } finally {
    await warm.stop();
  }

  // The same second turn on a server that never saw the first one.
  const fresh = await startServer();
  try {
    const second = await fresh.client().chat.completions.create({ model, messages: secondTurn, ...SETTINGS });
    assert.equal(second.usage.prompt_tokens_details?.cached_tokens ?? 0, 0);
    assert.equal(second.choices[0].message.content, warmReply);
  } finally {
    await fresh.stop();
  }
});
