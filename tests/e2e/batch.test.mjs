// Batch invariance: a greedy request gives the same bytes whether it runs
// alone or in one batch with seven others.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startServer } from './server.mjs';

// Questions whose greedy replies from the tiny model differ from each other,
// so that a reply delivered to the wrong request fails the comparison.
const QUESTIONS = [
  'What is the secret of a happy life?',
  'Who will I meet tomorrow?',
  'Tell me a joke.',
  'What is love?',
  'Say something wise.',
  'Give me a fortune.',
  'What should I do today?',
  'What does the wise cat say?',
];

test('batch matches solo runs', { timeout: 120_000 }, async () => {
  const server = await startServer(['--parallel', String(QUESTIONS.length)]);
  try {
    const client = server.client();
    const model = await server.modelId();
    const ask = async (question) => {
      const response = await client.chat.completions.create({
        model, messages: [{ role: 'user', content: question }], temperature: 0, max_tokens: 48, ignore_eos: true,
      });
      assert.equal(response.usage.completion_tokens, 48);
      return response.choices[0].message.content;
    };

    const solo = [];
    for (const question of QUESTIONS) {
      solo.push(await ask(question));
    }
    assert.equal(new Set(solo).size, QUESTIONS.length, 'two questions got the same solo reply');
    const batched = await Promise.all(QUESTIONS.map(ask));

    for (let i = 0; i < QUESTIONS.length; i++) {
      assert.ok(Buffer.from(batched[i]).equals(Buffer.from(solo[i])),
        `request ${i} (${QUESTIONS[i]}): batched ${JSON.stringify(batched[i])} != solo ${JSON.stringify(solo[i])}`);
    }
  } finally {
    await server.stop();
  }
});
