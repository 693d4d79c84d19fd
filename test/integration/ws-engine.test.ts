// ws steps end to end through runPlan against the WebSocket fixture server
// (test/fixtures/ws/server.mjs): captures feeding later steps, expect skipping
// what does not match, the bounded buffer, and each failure mode (refused,
// non-101 answer, closed by the server mid-wait, timeout, run aborted) with its message.
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePlan } from '../../src/plan/load.js';
import { BUFFER_CAP } from '../../src/engines/ws/index.js';
import { freePort } from '../helpers/free-port.js';
import { named, runYaml, startWsServer, type Pad } from '../helpers/run-helpers.js';

let server: Pad;
let ws: string;
before(async () => {
  server = await startWsServer();
  ws = server.url.replace('http:', 'ws:');
});
after(() => server.stop());

/** Connections the server still counts, once its side of every close has had up to a second to finish. */
async function openConnections(): Promise<number> {
  const deadline = performance.now() + 1000;
  for (;;) {
    const { open } = (await (await fetch(`${server.url}/stats`)).json()) as { open: number };
    if (open === 0 || performance.now() > deadline) return open;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a capture from one message feeds later steps; headers and the subprotocol reach the server', { timeout: 15_000 }, async () => {
  const { outcome, results } = await runYaml(`
name: ws capture
target: ${server.url}
workers: 2
scenario:
  - ws: { connect: /hello, headers: { x-user: "u{{ worker.id }}" }, protocols: [chat, other] }
  - name: hello
    ws: { expect: { json: { $.type: hello } }, capture: { id: { json: $.id }, user: { json: $.user }, proto: { regex: '"protocol":"(\\w+)"' } } }
  - ws: { send: { json: { from: "{{ captures.id }}", user: "{{ captures.user }}", proto: "{{ captures.proto }}" } } }
  - name: echo
    ws: { expect: { json: { $.from: "{{ captures.id }}", $.user: "u{{ worker.id }}", $.proto: chat } }, capture: { whole: { body: true } } }
  - expect: { value: "{{ captures.whole }}", is: { matches: '^\\{"from":"c\\d+","user":"u[01]","proto":"chat"\\}$' } }
  - ws: { close: true }
`);
  assert.equal(outcome, 'passed', JSON.stringify(results.filter((r) => r.outcome !== 'ok')));
  const hello = named(results, 'hello');
  assert.equal(hello.length, 2);
  for (const r of hello) assert.deepEqual({ ...r.ws, bytes: 0 }, { url: `${ws}/hello`, sent: 0, received: 1, skipped: 0, dropped: 0, bytes: 0 });
  const echo = named(results, 'echo');
  assert.deepEqual(
    echo.map((r) => r.ws?.received),
    [1, 1],
  );
  const closes = results.filter((r) => r.name === 'ws close');
  assert.deepEqual(
    closes.map((r) => r.ws?.closeCode),
    [1000, 1000],
  );
  assert.equal(await openConnections(), 0);
});

test('frames sent just before a close reach the server, in order, before the close', { timeout: 15_000 }, async () => {
  // Sends are written at the end of the turn; the sender's three sends and its close all start in one turn.
  const { outcome, results } = await runYaml(`
name: ws send then close
target: ${server.url}
workers: 2
roles:
  sender: { workers: [1] }
  receiver: { rest: true }
barriers:
  listening: { parties: [sender, receiver] }
scenario:
  - ws: { connect: /broadcast }
  - barrier: listening
  - { name: one, role: sender, ws: { send: one } }
  - { name: two, role: sender, ws: { send: two } }
  - { name: three, role: sender, ws: { send: three } }
  - { name: bye, role: sender, ws: { close: true } }
  - { name: first, role: receiver, ws: { expect: { text: { matches: '.' } }, within: 3s, capture: { a: { body: true } } } }
  - { name: second, role: receiver, ws: { expect: { text: { matches: '.' } }, capture: { b: { body: true } } } }
  - { name: third, role: receiver, ws: { expect: { text: { matches: '.' } }, capture: { c: { body: true } } } }
  - { role: receiver, expect: { value: "{{ captures.a }} {{ captures.b }} {{ captures.c }}", is: "one two three" } }
`);
  assert.equal(outcome, 'passed', JSON.stringify(results.filter((r) => r.outcome !== 'ok')));
  assert.deepEqual(
    ['one', 'two', 'three'].map((n) => named(results, n)[0]?.ws?.sent),
    [1, 1, 1],
  );
  assert.equal(named(results, 'bye')[0]?.ws?.closeCode, 1000);
  assert.deepEqual(
    ['first', 'second', 'third'].map((n) => named(results, n)[0]?.ws?.received),
    [1, 1, 1],
  );
});

test('expect skips messages that do not match, in arrival order, and the next expect goes on from there', { timeout: 15_000 }, async () => {
  const { outcome, results } = await runYaml(`
name: ws skip
target: ${server.url}
scenario:
  - ws: { connect: /echo }
  - ws: { send: "burst 5 m" }
  - name: third or later
    ws: { expect: { matches: "^m [{{ round + 2 }}-9]$" } }
  - name: any next
    ws: { expect: {}, capture: { next: { body: true } } }
  - expect: { value: "{{ captures.next }}", is: m 4 }
`);
  assert.equal(outcome, 'passed', JSON.stringify(results.filter((r) => r.outcome !== 'ok')));
  assert.deepEqual(
    ['third or later', 'any next'].map((n) => ({ received: named(results, n)[0]!.ws!.received, skipped: named(results, n)[0]!.ws!.skipped })),
    [
      { received: 3, skipped: 2 },
      { received: 1, skipped: 0 },
    ],
  );
});

test("connect again closes the worker's connection first; its unread messages count as skipped", { timeout: 15_000 }, async () => {
  const { outcome, results } = await runYaml(`
name: ws reconnect
target: ${server.url}
scenario:
  - ws: { connect: /echo }
  - ws: { send: "burst 3 u" }
  - sleep: 300ms
  - name: again
    ws: { connect: /hello }
  - name: fresh
    ws: { expect: { json: { $.type: hello } } }
`);
  assert.equal(outcome, 'passed', JSON.stringify(results.filter((r) => r.outcome !== 'ok')));
  assert.deepEqual(named(results, 'again')[0]!.ws, { url: `${ws}/hello`, sent: 0, received: 0, skipped: 3, dropped: 0, bytes: 0 });
  assert.deepEqual(named(results, 'fresh')[0]!.ws?.skipped, 0);
  assert.equal(await openConnections(), 0);
});

test('messages past the buffer cap drop the oldest and are counted on the next step', { timeout: 15_000 }, async () => {
  const { outcome, results } = await runYaml(`
name: ws overflow
target: ${server.url}
scenario:
  - ws: { connect: /echo }
  - ws: { send: "burst ${BUFFER_CAP + 5} b" }
  # Time for every message to arrive before anything reads the buffer (a loaded machine can be slow).
  - sleep: 2s
  - name: oldest kept
    ws: { expect: {}, capture: { first: { body: true } } }
  - expect: { value: "{{ captures.first }}", is: b 6 }
`);
  assert.equal(outcome, 'passed', JSON.stringify(results.filter((r) => r.outcome !== 'ok')));
  assert.deepEqual(named(results, 'oldest kept')[0]!.ws, { url: `${ws}/echo`, sent: 0, received: 1, skipped: 0, dropped: 5, bytes: 3 });
});

test('a refused connection and a non-101 answer fail the connect step with the URL', { timeout: 15_000 }, async () => {
  const port = await freePort();
  const { outcome, results } = await runYaml(`
name: ws refused
target: ${server.url}
onError: continue
scenario:
  - name: refused
    ws: { connect: "ws://127.0.0.1:${port}/socket" }
  - name: not found
    ws: { connect: /nowhere }
  - name: send without connection
    ws: { send: hi }
`);
  assert.equal(outcome, 'failed');
  const [refused] = named(results, 'refused');
  assert.equal(refused!.error?.code, 'connect');
  assert.equal(refused!.error?.message, `cannot connect to 127.0.0.1:${port} (ECONNREFUSED) for ws://127.0.0.1:${port}/socket: is the server running and the target right?`);
  assert.deepEqual(refused!.ws, { url: `ws://127.0.0.1:${port}/socket`, sent: 0, received: 0, skipped: 0, dropped: 0, bytes: 0 });
  const [notFound] = named(results, 'not found');
  assert.equal(notFound!.error?.code, 'ws');
  assert.equal(notFound!.error?.message, `${ws}/nowhere answered the WebSocket handshake with status 404 instead of 101 Switching Protocols`);
  const [send] = named(results, 'send without connection');
  assert.equal(send!.error?.message, 'this worker has no WebSocket connection: put a `ws: { connect: … }` step before this one (a `close` step ends it)');
});

test('the server closing the connection mid-wait fails the expect with the close code and the last messages', { timeout: 15_000 }, async () => {
  const { outcome, results } = await runYaml(`
name: ws closed
target: ${server.url}
onError: continue
scenario:
  - ws: { connect: /echo }
  - ws: { send: "before" }
  - ws: { send: "close-in 300 4001 bye" }
  - name: waits
    ws: { expect: { text: never }, within: 5s }
  - name: send after close
    ws: { send: again }
`);
  assert.equal(outcome, 'failed');
  const [waits] = named(results, 'waits');
  assert.equal(waits!.error?.code, 'closed');
  assert.equal(
    waits!.error?.message,
    `${ws}/echo was closed by the server (code 4001 "bye") before a message with text "never" arrived (skipped 1 other message; last messages: "before")`,
  );
  assert.ok(waits!.durationMs >= 250 && waits!.durationMs < 2000, `${waits!.durationMs}ms`);
  assert.deepEqual(waits!.ws, { url: `${ws}/echo`, sent: 0, received: 1, skipped: 1, dropped: 0, bytes: 0, closeCode: 4001 });
  const [again] = named(results, 'send after close');
  assert.equal(again!.error?.code, 'closed');
  assert.equal(again!.error?.message, `cannot send: ${ws}/echo was closed by the server (code 4001 "bye")`);
});

test('an expect that sees no matching message within its time fails with what it awaited and what it saw', { timeout: 15_000 }, async () => {
  const { outcome, results } = await runYaml(`
name: ws timeout
target: ${server.url}
onError: continue
scenario:
  - ws: { connect: /echo }
  - ws: { send: "burst 2 y" }
  - name: within
    ws: { expect: { text: nope, json: { $.a: 1 } }, within: 300ms }
  - name: step timeout
    timeout: 300ms
    ws: { expect: { text: { contains: zzz } }, within: 10s }
`);
  assert.equal(outcome, 'failed');
  const [within] = named(results, 'within');
  assert.equal(within!.error?.code, 'timeout');
  assert.equal(
    within!.error?.message,
    `timed out after 300ms waiting on ${ws}/echo for a message with text "nope" and json $.a 1 (skipped 2 other messages; last messages: "y 1", "y 2")`,
  );
  assert.ok(within!.durationMs >= 290 && within!.durationMs < 2000, `${within!.durationMs}ms`);
  const [stepTimeout] = named(results, 'step timeout');
  assert.equal(stepTimeout!.error?.code, 'timeout');
  assert.equal(stepTimeout!.error?.message, `timed out after 300ms waiting on ${ws}/echo for a message with text a value containing "zzz" (last messages: "y 1", "y 2")`);
  assert.ok(stepTimeout!.durationMs >= 290 && stepTimeout!.durationMs < 1200, `${stepTimeout!.durationMs}ms`);
});

test('aborting the run ends a waiting expect at once and closes every connection', { timeout: 15_000 }, async () => {
  const stop = new AbortController();
  const started = performance.now();
  const { outcome, results } = await runYaml(
    `
name: ws abort
target: ${server.url}
workers: 3
scenario:
  - ws: { connect: /echo }
  - name: waits
    ws: { expect: { text: never } }
`,
    {
      signal: stop.signal,
      emit: (e) => {
        if (e.type === 'step:begin' && e.name === 'waits' && e.worker === 2) setTimeout(() => stop.abort(), 200);
      },
    },
  );
  assert.equal(outcome, 'aborted');
  assert.ok(performance.now() - started < 3000, `${performance.now() - started}ms`);
  const waits = named(results, 'waits');
  assert.deepEqual(
    waits.map((r) => [r.outcome, r.error?.code]),
    [
      ['skipped', 'aborted'],
      ['skipped', 'aborted'],
      ['skipped', 'aborted'],
    ],
  );
  // At once: not after the runtime's 1 s grace for engines that ignore the signal.
  for (const r of waits) assert.ok(r.durationMs < 900, `${r.durationMs}ms`);
  assert.match(waits[0]!.error!.message, /^stopped: the run was aborted while waiting on ws:\/\/127\.0\.0\.1:\d+\/echo for a message with text "never"$/);
  assert.equal(await openConnections(), 0);
});

test('a server that never answers the close: the close step times out and the socket is dropped', { timeout: 15_000 }, async () => {
  // Accepts the upgrade by hand, then ignores every frame, the close frame included.
  let dropped = false;
  const srv = createServer();
  srv.on('upgrade', (req, socket: Socket) => {
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    socket.on('data', () => undefined);
    // http.Server sockets are half-open: the client dropping its socket shows as 'end'.
    socket.on('end', () => {
      dropped = true;
      socket.destroy();
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `ws://127.0.0.1:${(srv.address() as AddressInfo).port}/mute`;
  try {
    const { results } = await runYaml(`
name: ws mute
scenario:
  - ws: { connect: "${url}" }
  - name: close
    timeout: 300ms
    ws: { close: true }
`);
    const [close] = named(results, 'close');
    assert.equal(close!.error?.code, 'timeout');
    assert.equal(close!.error?.message, `timed out after 300ms waiting for ${url} to answer the close (code 1000); the socket was dropped`);
    assert.ok(close!.durationMs >= 290 && close!.durationMs < 900, `${close!.durationMs}ms`);
    for (let i = 0; i < 50 && !dropped; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(dropped, true);
  } finally {
    await new Promise((r) => srv.close(r));
  }
});

test('plan checks: ws keys beside the wrong action, captures a message cannot give, and non-ws URLs', () => {
  assert.throws(
    () => parsePlan('name: x\ntarget: http://h\nscenario:\n  - ws: { send: hi, within: 1s }\n', 'mem.yml'),
    /scenario\[0\]\.ws\.within: `within` goes with `expect`, not `send`/,
  );
  assert.throws(
    () => parsePlan('name: x\ntarget: http://h\nscenario:\n  - ws: { expect: {}, capture: { s: { status: true } } }\n', 'mem.yml'),
    /a ws expect captures from the message it matched \(json, regex, body\); `status` is not part of a message/,
  );
  assert.throws(() => parsePlan('name: x\nscenario:\n  - ws: { connect: "ftp://h/x" }\n', 'mem.yml'), /`ftp:\/\/h\/x` is not a ws\(s\) or http\(s\) URL/);
  assert.throws(() => parsePlan('name: x\nscenario:\n  - ws: { connect: /socket }\n', 'mem.yml'), /the relative URL `\/socket` needs `target`/);
  const plan = parsePlan('name: x\nscenario:\n  - ws: { connect: "wss://h/x" }\n  - ws: { close: true }\n', 'mem.yml');
  assert.deepEqual(
    plan.scenarios.get('worker')!.map((s) => s.name),
    ['ws connect wss://h/x', 'ws close'],
  );
});
