// `setup:` and `teardown:` through runPlan against the pad server: setup runs
// once before any worker and shares what it created, teardown runs once at the
// end whatever happened (a failed setup, failed workers, a stopped run), and
// both are phases of their own with their steps reported as roles of their own.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SETUP_WORKER, TEARDOWN_WORKER } from '../../src/runtime/run.js';
import { runYaml, startPad, type Pad } from '../helpers/run-helpers.js';

let pad: Pad;
before(async () => {
  pad = await startPad();
});
after(() => pad.stop());

/** What the pad server saw since the last call (it logs every request but /health and /requests). */
let seenBefore = 0;
async function seen(): Promise<string[]> {
  const all = (await (await fetch(`${pad.url}/requests`)).json()) as string[];
  const fresh = all.slice(seenBefore);
  seenBefore = all.length;
  return fresh;
}

const plan = (body: string) => `name: setup-teardown\ntarget: ${pad.url}\n${body}`;

const CREATE = `setup:
  - name: create pad
    request:
      method: POST
      url: /pads
      expect: { status: 201 }
      capture: { id: { json: id } }
  - name: share pad
    share: { pad: "{{ captures.id }}" }
`;
const DELETE = `teardown:
  - name: delete pad
    request:
      method: DELETE
      url: /pads/{{ shared.pad }}
      expect: { status: 204 }
`;

test('setup creates a pad and shares its id, every worker writes to it, teardown deletes it: in that order', { timeout: 20_000 }, async () => {
  await seen();
  const r = await runYaml(
    plan(`workers: 2\nrounds: 2\n${CREATE}${DELETE}scenario:
  - name: write
    request:
      method: POST
      url: /pads/{{ shared.pad }}/lines
      json: { text: "round {{ round }}" }
      expect: { status: 201 }
`),
  );
  assert.equal(r.outcome, 'passed', r.reason);
  const requests = await seen();
  assert.equal(requests.length, 6, requests.join(', '));
  const id = requests.at(-1)!.replace('DELETE /pads/', '');
  assert.deepEqual(requests, ['POST /pads', ...Array(4).fill(`POST /pads/${id}/lines`), `DELETE /pads/${id}`]);
  const phases = r.events.flatMap((e) => (e.type === 'phase:begin' ? [e.phase] : []));
  assert.deepEqual(phases, ['setup', 'workers', 'teardown']);
  const setup = r.results.filter((s) => s.role === 'setup');
  assert.deepEqual(
    setup.map((s) => [s.worker, s.name, s.outcome]),
    [
      [SETUP_WORKER, 'create pad', 'ok'],
      [SETUP_WORKER, 'share pad', 'ok'],
    ],
  );
  assert.deepEqual(
    r.results.filter((s) => s.role === 'teardown').map((s) => [s.worker, s.name, s.outcome]),
    [[TEARDOWN_WORKER, 'delete pad', 'ok']],
  );
  // Setup and teardown are not workers of a role: no worker events for them.
  assert.deepEqual(r.events.flatMap((e) => (e.type === 'worker:begin' ? [e.worker] : [])).sort(), [0, 1]);
  const begin = r.events.find((e) => e.type === 'run:begin');
  assert.deepEqual(begin?.type === 'run:begin' && begin.run.steps.map((s) => `${s.role}/${s.name}`), [
    'setup/create pad',
    'setup/share pad',
    'worker/write',
    'teardown/delete pad',
  ]);
});

test('a failing setup step stops the run before any worker: failed with the step and its message; teardown still runs', { timeout: 20_000 }, async () => {
  await seen();
  const r = await runYaml(
    plan(`workers: 2\nsetup:
  - name: log in
    request: { url: /pads/nobody/lines/1, expect: { status: 200 } }
  - name: never
    share: { pad: x }
teardown:
  - name: clean up
    request: { method: DELETE, url: /pads/nobody, expect: { status: 404 } }
scenario:
  - name: write
    request: { method: POST, url: /pads/w/lines, json: { text: hi } }
`),
  );
  assert.equal(r.outcome, 'failed');
  const refused = `GET ${pad.url}/pads/nobody/lines/1: expected status 200, got 404 (body: "{\\"error\\":\\"line 1 of pad nobody is not written yet\\"}")`;
  assert.equal(r.reason, `setup failed: log in: ${refused}`);
  assert.deepEqual(await seen(), ['GET /pads/nobody/lines/1', 'DELETE /pads/nobody']);
  assert.deepEqual(
    r.results.filter((s) => s.role === 'worker'),
    [],
  );
  assert.deepEqual(
    r.results.map((s) => [s.name, s.outcome]),
    [
      ['log in', 'failed'],
      ['never', 'skipped'],
      ['clean up', 'ok'],
    ],
  );
  const ends = r.events.flatMap((e) => (e.type === 'phase:end' ? [[e.phase, e.ok, e.message]] : []));
  assert.deepEqual(ends, [
    ['setup', false, `log in: ${refused}`],
    ['teardown', true, undefined],
  ]);
});

test('teardown runs after failed workers; its own failure is joined to theirs, not put in their place', { timeout: 20_000 }, async () => {
  await seen();
  const r = await runYaml(
    plan(`workers: 1\n${CREATE}teardown:
  - name: delete pad
    request: { method: DELETE, url: "/pads/{{ shared.pad }}", expect: { status: 204 } }
  - name: delete it again
    request: { method: DELETE, url: "/pads/{{ shared.pad }}", expect: { status: 204 } }
scenario:
  - name: write refused
    request: { method: POST, url: /pads/fail-x/lines, json: { text: hi }, expect: { status: 201 } }
`),
  );
  assert.equal(r.outcome, 'failed');
  const requests = await seen();
  const id = requests.at(-1)!.replace('DELETE /pads/', '');
  assert.equal(r.reason, `1 step failed; teardown failed: delete it again: DELETE ${pad.url}/pads/${id}: expected status 204, got 404 (body: "{\\"error\\":\\"no pad ${id}\\"}")`);
  assert.deepEqual(requests, ['POST /pads', 'POST /pads/fail-x/lines', `DELETE /pads/${id}`, `DELETE /pads/${id}`]);
});

test('a stopped run (Ctrl-C) still runs the teardown, on a signal of its own', { timeout: 20_000 }, async () => {
  await seen();
  const stop = new AbortController();
  const r = await runYaml(
    plan(`workers: 2\nrounds: 1000\n${CREATE}${DELETE}scenario:
  - name: slow read
    request: { url: "/pads/{{ shared.pad }}?delay=20" }
`),
    {
      signal: stop.signal,
      emit: (e) => {
        if (e.type === 'round:end' && e.round === 3) stop.abort();
      },
    },
  );
  assert.equal(r.outcome, 'aborted');
  const requests = await seen();
  assert.match(requests.at(-1)!, /^DELETE \/pads\/pad-\d+$/);
  assert.deepEqual(
    r.results.filter((s) => s.role === 'teardown').map((s) => [s.name, s.outcome]),
    [['delete pad', 'ok']],
  );
  assert.deepEqual(
    r.events.flatMap((e) => (e.type === 'phase:end' ? [[e.phase, e.ok]] : [])),
    [
      ['setup', true],
      ['workers', true],
      ['teardown', true],
    ],
  );
});
