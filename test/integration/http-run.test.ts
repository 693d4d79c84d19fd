// HTTP steps end to end through runPlan: workers, rounds, captures feeding
// later requests, standalone capture/expect steps on the last response, and
// how connection and timeout failures reach step:end events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan } from '../../src/plan/load.js';
import { runPlan } from '../../src/runtime/run.js';
import type { RunEvent, StepResult } from '../../src/contract/events.js';
import { readBody, startServer } from '../helpers/http-helpers.js';

async function runYaml(yamlText: string): Promise<{ outcome: string; results: StepResult[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'planrun-http-run-'));
  const events: RunEvent[] = [];
  try {
    const result = await runPlan(parsePlan(yamlText, join(dir, 'plan.yml')), { reportDir: dir, emit: (e) => events.push(e) });
    const results = events.flatMap((e) => (e.type === 'step:end' ? [e.result] : []));
    return { outcome: result.outcome, results };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('captures feed later requests; standalone capture and expect read the last response', { timeout: 15000 }, async () => {
  const seen: string[] = [];
  const server = await startServer(async (req, res) => {
    if (req.url === '/login') {
      const { user } = JSON.parse(await readBody(req)) as { user: string };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ token: `t-${user}` }));
      return;
    }
    const auth = req.headers.authorization ?? '';
    seen.push(auth);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ user: auth.replace('Bearer t-', '') }));
  });
  try {
    const { outcome, results } = await runYaml(`
name: http run
target: ${server.origin}
workers: 2
rounds: 3
scenario:
  - name: login
    request: { method: POST, url: /login, json: { user: "w{{ worker.id }}-r{{ round }}" }, capture: { token: { json: $.token } } }
  - name: me
    request: { url: /me, headers: { authorization: "Bearer {{ captures.token }}" } }
  - capture: { who: { json: $.user } }
  - expect: { status: 200, json: { "$.user": { matches: "^w[01]-r[123]$" } } }
  - expect: { value: "{{ captures.who + '/' + round }}", is: { oneOf: [w0-r1/1, w0-r2/2, w0-r3/3, w1-r1/1, w1-r2/2, w1-r3/3] } }
`);
    assert.equal(outcome, 'passed', JSON.stringify(results.filter((r) => r.outcome !== 'ok')));
    assert.equal(results.length, 2 * 3 * 5);
    assert.deepEqual(seen.sort(), ['Bearer t-w0-r1', 'Bearer t-w0-r2', 'Bearer t-w0-r3', 'Bearer t-w1-r1', 'Bearer t-w1-r2', 'Bearer t-w1-r3']);
    const me = results.filter((r) => r.name === 'me');
    assert.equal(me.length, 6);
    for (const r of me) {
      assert.deepEqual(r.http, { method: 'GET', url: `${server.origin}/me`, status: 200, bytes: Buffer.byteLength(JSON.stringify({ user: `w${r.worker}-r${r.round}` })) });
    }
    // Two workers, keep-alive: a handful of connections, not one per request.
    assert.ok(server.connections() <= 4, `${server.connections()} connections`);
  } finally {
    await server.close();
  }
});

test('connection refused and a timeout fail their steps with codes connect and timeout', { timeout: 15000 }, async () => {
  const server = await startServer(() => {}); // accepts, never answers
  try {
    const { outcome, results } = await runYaml(`
name: http failures
target: ${server.origin}
workers: 1
onError: continue
scenario:
  - name: refused
    request: GET http://127.0.0.1:9/health
  - name: hangs
    timeout: 300ms
    request: GET /hang
`);
    assert.equal(outcome, 'failed');
    const refused = results.find((r) => r.name === 'refused')!;
    assert.equal(refused.outcome, 'failed');
    assert.equal(refused.error?.code, 'connect');
    assert.equal(refused.error?.message, 'cannot connect to 127.0.0.1:9 (ECONNREFUSED) for GET http://127.0.0.1:9/health: is the server running and the target right?');
    assert.deepEqual(refused.http, { method: 'GET', url: 'http://127.0.0.1:9/health', bytes: 0 });
    const hangs = results.find((r) => r.name === 'hangs')!;
    assert.equal(hangs.outcome, 'failed');
    assert.equal(hangs.error?.code, 'timeout');
    assert.ok(hangs.durationMs >= 290 && hangs.durationMs < 2000, `${hangs.durationMs}ms`);
  } finally {
    await server.close();
  }
});
