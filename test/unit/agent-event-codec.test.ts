// The compact form of the events an agent sends: whatever the sequence, the
// controller rebuilds each event as it was emitted (same fields, same order),
// and a steady run of the same steps goes as tuples, far smaller than the events.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RunEvent, StepResult } from '../../src/contract/events.js';
import { EventDecoder, EventEncoder } from '../../src/agents/event-codec.js';

/** Encodes in batches sent through JSON, as the stream carries them, and decodes them in order. */
function roundTrip(events: RunEvent[], batch = 7): { decoded: RunEvent[]; bytes: number } {
  const encoder = new EventEncoder();
  const decoder = new EventDecoder();
  const decoded: RunEvent[] = [];
  let bytes = 0;
  for (let i = 0; i < events.length; i += batch) {
    const wire = JSON.stringify(events.slice(i, i + batch).map((e) => encoder.encode(e)));
    bytes += wire.length;
    for (const w of JSON.parse(wire)) decoded.push(decoder.decode(w));
  }
  return { decoded, bytes };
}

const worker = fc.integer({ min: -2, max: 3 });
const role = fc.constantFrom('writer', 'reader');
const stepId = fc.constantFrom('writer/0', 'writer/1', 'reader/0');
const name = fc.constantFrom('GET /health', 'post', 'wait');
const kind = fc.constantFrom('request', 'ws', 'wait');
const time = fc.double({ min: 1.7e12, max: 1.8e12, noNaN: true });
const extra = fc.record(
  {
    error: fc.record({ code: fc.constantFrom('timeout', 'expectation'), message: fc.string() }),
    http: fc.record(
      { method: fc.constantFrom('GET', 'POST'), url: fc.webUrl(), bytes: fc.nat(), status: fc.integer({ min: 100, max: 599 }) },
      { requiredKeys: ['method', 'url', 'bytes'] },
    ),
    wait: fc.record({ barrier: fc.string(), waitedMs: fc.double({ min: 0, max: 1e5, noNaN: true }) }),
    scheduledStart: time,
    lagMs: fc.double({ min: 0, max: 100, noNaN: true }),
  },
  { requiredKeys: [] },
);

const event: fc.Arbitrary<RunEvent> = fc.oneof(
  fc.record({ type: fc.constant('step:begin' as const), time, worker, role, round: fc.nat(5), stepId, name, kind }),
  fc
    .record({
      time,
      worker,
      role,
      round: fc.nat(5),
      stepId,
      name,
      kind,
      start: time,
      durationMs: fc.double({ min: 0, max: 1e4, noNaN: true }),
      outcome: fc.constantFrom('ok', 'failed', 'skipped'),
      extra,
    })
    .map(({ time: t, extra: x, ...r }) => ({ type: 'step:end' as const, time: t, result: { ...r, ...x } as StepResult })),
  fc.record({ type: fc.constant('round:begin' as const), time, worker, role, round: fc.nat(5) }),
  fc.record({ type: fc.constant('round:end' as const), time, worker, role, round: fc.nat(5), ok: fc.boolean() }),
  fc.record({ type: fc.constant('worker:begin' as const), time, worker, role }),
  // An event of a known type with a field the compact form has no place for goes as it is.
  fc.record({ type: fc.constant('round:begin' as const), time, worker, role, round: fc.nat(5), scheduled: fc.boolean() }) as fc.Arbitrary<RunEvent>,
);

test('any sequence of events comes back as it was emitted: same fields, same order', () => {
  fc.assert(
    fc.property(fc.array(event, { maxLength: 60 }), fc.integer({ min: 1, max: 10 }), (events, batch) => {
      const { decoded } = roundTrip(events, batch);
      assert.deepEqual(
        decoded.map((e) => JSON.stringify(e)),
        events.map((e) => JSON.stringify(e)),
      );
    }),
    { numRuns: 300 },
  );
});

test('a steady run of request steps goes as tuples: under half the bytes of the events', () => {
  const events: RunEvent[] = [];
  for (let round = 1; round <= 100; round++) {
    for (const w of [0, 1]) {
      const t = 1_796_184_737_351.846 + round * 10;
      events.push({ type: 'round:begin', time: t, worker: w, role: 'worker', round });
      events.push({ type: 'step:begin', time: t, worker: w, role: 'worker', round, stepId: 'worker/0', name: 'GET /health', kind: 'request' });
      const result: StepResult = {
        worker: w,
        role: 'worker',
        round,
        stepId: 'worker/0',
        name: 'GET /health',
        kind: 'request',
        start: t,
        durationMs: 0.9058479999999,
        outcome: 'ok',
        http: { method: 'GET', url: 'http://127.0.0.1:9042/health', bytes: 11, status: 200 },
      };
      events.push({ type: 'step:end', time: t + 1, result });
      events.push({ type: 'round:end', time: t + 1, worker: w, role: 'worker', round, ok: true });
    }
  }
  const { decoded, bytes } = roundTrip(events, 200);
  assert.deepEqual(decoded, events);
  const plain = JSON.stringify(events).length;
  assert.ok(bytes < plain / 2, `${bytes} bytes compact against ${plain} as events`);
});

test('a compact event the decoder was not told about first is refused, not guessed', () => {
  const decoder = new EventDecoder();
  assert.throws(() => decoder.decode([2, 1, 4, 1]), /a compact event of worker 4 came before its role/);
  decoder.decode({ type: 'round:begin', time: 1, worker: 4, role: 'reader', round: 1 });
  assert.throws(() => decoder.decode([0, 1, 4, 1, 'reader/3']), /a compact event of step reader\/3 came before its name/);
});
