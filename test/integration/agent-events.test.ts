// The agents' event stream on a real Redis: batches arrive in order, and the
// controller's reader trims what it has read, so a long run's events do not
// pile up in Redis, while an entry it has not read yet is never dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EventBatcher, EventReader, type StreamItem } from '../../src/agents/event-stream.js';
import type { RunEvent } from '../../src/contract/events.js';
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
