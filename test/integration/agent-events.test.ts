// The agents' event stream on a real Redis: batches arrive in order, and the
// controller's reader trims what it has read, so a long run's events do not
// pile up in Redis, while an entry it has not read yet is never dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBatcher, EventReader, type StreamItem } from '../../src/agents/event-stream.js';
import { TALLY_RESULT_FIELDS, TALLY_ROUND_FIELDS, type RunEvent, type StepResult } from '../../src/contract/events.js';
import { redisForFile } from '../helpers/redis-file.js';

const redis = redisForFile();

const log = (n: number): RunEvent => ({ type: 'log', time: n, level: 'info', message: `event ${n}` });
/** The numbers from `from` on, `count` of them. */
const numbers = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i);

/** Reads until `count` events came (each read waits at most 1 s). */
async function readEvents(reader: EventReader, count: number): Promise<number[]> {
  const got: number[] = [];
  while (got.length < count) {
    const items: StreamItem[] = await reader.next(1_000);
    assert.ok(items.length > 0, `no entry after ${got.length} of ${count} events`);
    for (const item of items) for (const e of item.events ?? []) got.push(e.time);
  }
  return got;
}

test('the controller trims the entries it read: 2,000 read leave at most a few hundred, and later entries all arrive, in order', { timeout: 30_000 }, async () => {
  const [writer, reader] = await Promise.all([redis.connect(), redis.connect()]);
  const key = 'planrun:{events-trim}:events';
  const batcher = new EventBatcher(writer, key, 'a1');
  // One entry per event: the stream's nodes (100 entries each by default) fill, so trimming has whole nodes to drop.
  for (let n = 0; n < 2_000; n++) {
    batcher.push(log(n));
    void batcher.flush();
  }
  await batcher.flush();
  assert.equal(await writer.xLen(key), 2_000);
  const stream = new EventReader(reader, key);
  assert.deepEqual(await readEvents(stream, 2_000), numbers(0, 2_000));
  const left = await writer.xLen(key);
  assert.ok(left >= 1 && left <= 300, `${left} entries left after reading all 2,000`);
  // Entries written after the trim are read whole and in order.
  for (let n = 2_000; n < 2_250; n++) {
    batcher.push(log(n));
    void batcher.flush();
  }
  await batcher.end({ outcome: 'passed' });
  assert.deepEqual(await readEvents(stream, 250), numbers(2_000, 250));
});

test('ok rounds go as one tally a batch, a failed round as its events, and a round held too long goes out before it ends', { timeout: 30_000 }, async () => {
  const [writer, reader] = await Promise.all([redis.connect(), redis.connect()]);
  const key = 'planrun:{events-tally}:events';
  const batcher = new EventBatcher(writer, key, 'a1');
  const t = Date.now();
  const round = (worker: number, n: number, ok: boolean): RunEvent[] => {
    const result: StepResult = { worker, role: 'r', round: n, stepId: 'r/0', name: 'GET /', kind: 'request', start: t, durationMs: 1, outcome: ok ? 'ok' : 'failed' };
    if (!ok) result.error = { message: 'status 500', code: 'status' };
    return [
      { type: 'round:begin', time: t, worker, role: 'r', round: n },
      { type: 'step:begin', time: t, worker, role: 'r', round: n, stepId: 'r/0', name: 'GET /', kind: 'request' },
      { type: 'step:end', time: t + 1, result },
      { type: 'round:end', time: t + 1, worker, role: 'r', round: n, ok },
    ];
  };
  for (let n = 1; n <= 100; n++) for (const e of round(0, n, n !== 50)) batcher.push(e);
  // Worker 1 begins a round and stays in its step: the batcher sends it once it is held past MAX_HELD_MS.
  for (const e of round(1, 1, true).slice(0, 2)) batcher.push(e);
  const stream = new EventReader(reader, key);
  const got: RunEvent[] = [];
  const deadline = Date.now() + 10_000;
  while (!got.some((e) => e.type === 'step:begin' && e.worker === 1) && Date.now() < deadline) for (const item of await stream.next(500)) got.push(...(item.events ?? []));
  const types = got.map((e) => (e.type === 'steps:tally' ? `tally of ${e.tally.rounds.length / TALLY_ROUND_FIELDS}` : `${e.type} ${'worker' in e ? e.worker : ''}`));
  // Rounds 1-49 folded, round 50 (failed) as its four events, 51-100 folded; then worker 1's round as it began.
  assert.deepEqual(types, ['tally of 49', 'round:begin 0', 'step:begin 0', 'step:end ', 'round:end 0', 'tally of 50', 'round:begin 1', 'step:begin 1']);
  const tallies = got.filter((e) => e.type === 'steps:tally');
  assert.equal(
    tallies.reduce((n, e) => n + e.tally.results.length / TALLY_RESULT_FIELDS, 0),
    99,
  );
  await batcher.end({ outcome: 'passed' });
});
