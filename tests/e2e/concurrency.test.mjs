// Sixteen clients stream three-turn chats at once into a server with four
// sequence slots. Each conversation must read as it does when run alone, and
// a second round must not grow the server's memory.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { startServer } from './server.mjs';

const PARALLEL = 4;
const CLIENTS = 16;
const TOPICS = [
  'the sea', 'a wise cat', 'fresh bread', 'the quiet sky', 'a long journey', 'a happy life', 'the weather',
  'tomorrow', 'an old friend', 'the mountains', 'a lost key', 'the moon', 'a small garden', 'the library',
  'a red bicycle', 'winter',
];
// With these follow-ups every conversation of the tiny model stays wordy
// (others decay into runs of tabs), and 11 of the 16 differ.
const FOLLOW_UPS = ['What is love?', 'What should I do today?'];
const SETTINGS = { temperature: 0, max_tokens: 32 };

// After the warm-up round every buffer the server keeps exists already: the
// KV caches of the four slots, batch buffers and HTTP worker threads. A second
// identical round may still move some allocator pages (glibc keeps freed
// memory in per-thread arenas), so it may grow the RSS by 8 MiB or 10 % of the
// warm RSS, whichever is larger. The growth measured with the tiny model was
// about 0.1 MiB. A round is 48 requests of about 100 positions each, so
// keeping the KV pages of every request (1 KiB per position and layer, in
// float32) would add an estimated 20 MiB and fail the check.
const RSS_GROWTH_MIN_BYTES = 8 * 1024 * 1024;
const RSS_GROWTH_FRACTION = 0.10;

// Streams one reply and returns its text.
async function streamReply(client, model, messages) {
  const stream = await client.chat.completions.create({ model, messages, ...SETTINGS, stream: true });
  let text = '';
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  return text;
}

// Runs one three-turn conversation: each turn appends the reply and the next
// user message. Returns the three replies.
async function converse(client, model, topic) {
  const messages = [{ role: 'user', content: `What is ${topic}?` }];
  const replies = [];
  for (let turn = 0; turn < 3; turn++) {
    let reply;
    try {
      reply = await streamReply(client, model, messages);
    } catch (error) {
      // The openai client's "Connection error." hides the socket error in `cause`.
      const cause = error.cause ? ` (${error.cause.code ?? ''} ${error.cause.message})` : '';
      throw new Error(`conversation about ${topic}, turn ${turn + 1}: ${error.message}${cause}`, { cause: error });
    }
    replies.push(reply);
    if (turn < FOLLOW_UPS.length) {
      messages.push({ role: 'assistant', content: reply }, { role: 'user', content: FOLLOW_UPS[turn] });
    }
  }
  return replies;
}

function assertSameConversations(actual, expected, round) {
  for (let i = 0; i < CLIENTS; i++) {
    assert.deepEqual(actual[i], expected[i], `${round}: conversation ${i} about ${TOPICS[i]} differs from its solo run`);
  }
}

test('concurrent conversations match solo', { timeout: 180_000 }, async (t) => {
  const server = await startServer(['--parallel', String(PARALLEL), '--max-queue', String(CLIENTS * 2)]);
  try {
    const client = server.client();
    const model = await server.modelId();

    const solo = [];
    for (const topic of TOPICS) {
      solo.push(await converse(client, model, topic));
    }
    const distinct = new Set(solo.map((replies) => JSON.stringify(replies)));
    assert.ok(distinct.size >= CLIENTS / 2, `only ${distinct.size} distinct conversations, too few to catch mixed-up replies`);

    const warmUp = await Promise.all(TOPICS.map((topic) => converse(client, model, topic)));
    assertSameConversations(warmUp, solo, 'warm-up round');
    const warmRss = server.rssBytes();

    const measured = await Promise.all(TOPICS.map((topic) => converse(client, model, topic)));
    assertSameConversations(measured, solo, 'measured round');
    const finalRss = server.rssBytes();

    const allowed = Math.max(RSS_GROWTH_MIN_BYTES, warmRss * RSS_GROWTH_FRACTION);
    const growth = finalRss - warmRss;
    const mib = (bytes) => (bytes / (1024 * 1024)).toFixed(1);
    t.diagnostic(`requests resent after a stale keep-alive connection: ${server.staleConnectionRetries}`);
    t.diagnostic(`edgelm serve RSS: ${mib(warmRss)} MiB after warm-up, ${mib(finalRss)} MiB after ${CLIENTS} clients`);
    assert.ok(growth <= allowed,
      `RSS grew by ${mib(growth)} MiB (from ${mib(warmRss)} to ${mib(finalRss)} MiB), more than ${mib(allowed)} MiB`);
  } finally {
    await server.stop();
  }
});
