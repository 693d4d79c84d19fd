// `planrun run --metrics-port` as a user runs it, watched by Debian's real
// Prometheus (/usr/bin/prometheus, installed by .ci/run) scraping it every
// second: the series it stored have the run id, role, step and status labels,
// counters that grew while the run went and final values equal to report.json's.
// Also: the endpoint served by the controller of a run on agents, a port in use
// and the flags refused with exit 2 before anything runs.
import { CLI_NODE_ARGS } from '../helpers/cli-entry.js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort } from '../helpers/free-port.js';
import { parseExposition, sampleValue, startPrometheus, type Prometheus, type PromSeries } from '../helpers/prometheus-helpers.js';
import { readReport } from '../helpers/report-helpers.js';
import { startPad, type Pad } from '../helpers/run-helpers.js';

let pad: Pad;
let dir: string;
const children: ChildProcess[] = [];
let prometheus: Prometheus | undefined;
before(async () => {
  pad = await startPad();
  dir = await mkdtemp(join(tmpdir(), 'planrun-prom-e2e-'));
});
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all([pad.stop(), prometheus?.stop()]);
});

interface Proc {
  stderr(): string;
  /** Resolves with the first match of `re` in stderr. */
  until(re: RegExp): Promise<RegExpExecArray>;
  exit: Promise<number | null>;
}

function planrun(args: string[]): Proc {
  const child = spawn(process.execPath, [...CLI_NODE_ARGS, ...args], { env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let err = '';
  const waiters: Array<{ re: RegExp; resolve(m: RegExpExecArray): void }> = [];
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of [...waiters]) {
      const m = w.re.exec(err);
      if (!m) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    stderr: () => err,
    until: (re) => {
      const m = re.exec(err);
      return m ? Promise.resolve(m) : new Promise((resolve) => waiters.push({ re, resolve }));
    },
    exit,
  };
}

async function planFile(name: string, yaml: string): Promise<string> {
  const file = join(dir, `${name}.yml`);
  await writeFile(file, yaml);
  return file;
}

// About 5 s: each iteration a 100 ms `home` that passes, then `missing`, a 404 that fails.
const fiveSeconds = () =>
  `name: watched\ntarget: ${pad.url}\nworkers: 2\nduration: 5s\nscenario:\n  - name: home\n    request: GET /health?delay=100\n  - name: missing\n    request: GET /nope\n`;

/**
 * A target that answers `GET /health` 200 and anything else 404, but holds every
 * `/health` past the first `answered` until release(): a run on it is mid-way
 * for as long as the test wants, whatever the speed of the machine.
 */
async function startGate(answered: number): Promise<{ url: string; release(): void; close(): Promise<void> }> {
  let served = 0;
  let held: Array<() => void> | undefined = [];
  const server = createHttpServer((req, res) => {
    const answer = () => {
      res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'text/plain' });
      res.end(req.url === '/health' ? 'ok' : 'no such page');
    };
    if (req.url === '/health' && held && ++served > answered) held.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    release() {
      for (const answer of held ?? []) answer();
      held = undefined;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Polls until `check` returns a value, at most `ms`. */
async function eventually<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `${what}: not within ${ms / 1000} s`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

const numberOf = (s: PromSeries) => Number(s.value![1]);

test('a real Prometheus scraping the run stores its series: labels, counters that grew, the report counts', { timeout: 120_000 }, async (t) => {
  const port = await freePort();
  prometheus = await startPrometheus(`127.0.0.1:${port}`, join(dir, 'prometheus'));
  // Two workers, ten rounds of `home` (passes) then `missing` (a 404 that fails); the
  // gate holds `home` after its first two answers until Prometheus has stored the run mid-way.
  const gate = await startGate(2);
  t.after(() => gate.close());
  const plan = `name: watched\ntarget: ${gate.url}\nworkers: 2\nrounds: 10\nscenario:\n  - name: home\n    request: GET /health\n  - name: missing\n    request: GET /nope\n`;
  const out = join(dir, 'watched-out');
  const startedAt = Date.now() / 1000;
  const run = planrun([
    'run',
    await planFile('watched', plan),
    '--out',
    out,
    '--reporter',
    'json',
    '--run-id',
    'prom-e2e',
    '--metrics-port',
    String(port),
    '--metrics-linger',
    '5s',
  ]);
  await run.until(/live metrics at http:\/\/127\.0\.0\.1:\d+\/metrics/);
  // Scraped every second: a scrape of the held run shows both workers running and some `home` done.
  const query = async (q: string) => (await prometheus!.api('query', { query: q }))[0];
  await eventually('a mid-run scrape in Prometheus', 60_000, async () => {
    const active = await query('planrun_workers_active{run_id="prom-e2e",role="worker"}');
    const home = await query('planrun_steps_total{run_id="prom-e2e",step="home",status="ok"}');
    return active && numberOf(active) === 2 && home && numberOf(home) > 0 ? true : undefined;
  });
  gate.release();
  // The run's end shows within a few scrapes of it (the linger keeps the endpoint up 5 s more).
  await eventually('planrun_run_ended 1 in Prometheus', 60_000, async () => {
    const s = await query('planrun_run_ended{run_id="prom-e2e"}');
    return s && numberOf(s) === 1 ? true : undefined;
  });
  assert.equal(await run.exit, 1, run.stderr());
  const report = await readReport(join(out, 'report.json'));
  const home = report.steps.find((s) => s.name === 'home')!;
  const missing = report.steps.find((s) => s.name === 'missing')!;
  assert.equal(home.ok, 20);
  assert.equal(missing.failed, 20);

  // Range selectors skip the staleness markers written once planrun stopped answering.
  const last = (metric: string) => prometheus!.api('query', { query: `last_over_time(${metric}{run_id="prom-e2e"}[10m])` });
  const steps = await last('planrun_steps_total');
  assert.deepEqual(
    steps.map((s) => [s.metric.job, s.metric.instance, s.metric.run_id, s.metric.role, s.metric.step, s.metric.status, numberOf(s)]).sort(),
    [
      ['planrun', `127.0.0.1:${port}`, 'prom-e2e', 'worker', 'home', 'failed', 0],
      ['planrun', `127.0.0.1:${port}`, 'prom-e2e', 'worker', 'home', 'ok', home.ok],
      ['planrun', `127.0.0.1:${port}`, 'prom-e2e', 'worker', 'home', 'skipped', 0],
      ['planrun', `127.0.0.1:${port}`, 'prom-e2e', 'worker', 'missing', 'failed', missing.failed],
      ['planrun', `127.0.0.1:${port}`, 'prom-e2e', 'worker', 'missing', 'ok', 0],
      ['planrun', `127.0.0.1:${port}`, 'prom-e2e', 'worker', 'missing', 'skipped', 0],
    ].sort(),
  );
  const failures = await last('planrun_step_failures_total');
  assert.deepEqual(
    failures.map((s) => [s.metric.step, s.metric.code, numberOf(s)]),
    [['missing', 'expectation', missing.failed]],
  );
  const counts = await last('planrun_step_duration_seconds_count');
  assert.deepEqual(counts.map((s) => [s.metric.step, numberOf(s)]).sort(), [
    ['home', home.count],
    ['missing', missing.count],
  ]);
  const p50 = await prometheus.api('query', { query: 'last_over_time(planrun_step_duration_seconds{run_id="prom-e2e",step="home",quantile="0.5"}[10m])' });
  assert.ok(Math.abs(numberOf(p50[0]!) - home.latency!.p50 / 1000) < 1e-6, `p50 ${p50[0]?.value?.[1]} s, report ${home.latency!.p50} ms`);
  const busiest = await prometheus.api('query', { query: 'max_over_time(planrun_workers_active{run_id="prom-e2e",role="worker"}[10m])' });
  assert.equal(numberOf(busiest[0]!), 2);

  // The counter as Prometheus stored it, second by second: it grew while the run went, and never went back.
  const [series] = await prometheus.api('query_range', {
    query: 'planrun_steps_total{run_id="prom-e2e",step="home",status="ok"}',
    start: String(Math.floor(startedAt)),
    end: String(Math.ceil(Date.now() / 1000)),
    step: '1',
  });
  const values = series!.values!.map(([, v]) => Number(v));
  assert.ok(values.length >= 3, `only ${values.length} points: ${values}`);
  for (let k = 1; k < values.length; k++) assert.ok(values[k]! >= values[k - 1]!, `went back: ${values}`);
  assert.ok(
    values.some((v) => v > 0 && v < home.ok),
    `no point mid-run: ${values}`,
  );
  assert.equal(values.at(-1), home.ok);
});

test('under --agents the controller serves the metrics of every agent', { timeout: 120_000 }, async () => {
  const out = join(dir, 'agents-out');
  const plan = await planFile('agents', `name: shared\ntarget: ${pad.url}\nworkers: 4\nrounds: 3\nscenario:\n  - name: home\n    request: GET /health\n`);
  const run = planrun(['run', plan, '--agents', '2', '--out', out, '--reporter', 'json', '--run-id', 'prom-agents', '--metrics-port', '0', '--metrics-linger', '30s']);
  const [, url] = await run.until(/live metrics stay at (\S+) for/);
  const samples = parseExposition(await (await fetch(url!)).text());
  const report = await readReport(join(out, 'report.json'));
  assert.deepEqual(new Set(report.workers.map((w) => w.agent)), new Set(['local-1', 'local-2']));
  assert.equal(sampleValue(samples, 'planrun_steps_total', { run_id: 'prom-agents', role: 'worker', step: 'home', status: 'ok' }), 12);
  assert.equal(report.steps[0]!.ok, 12);
  assert.equal(sampleValue(samples, 'planrun_run_ended'), 1);
  // The linger ends at Ctrl-C: 130, the run itself had passed.
  children.at(-1)!.kill('SIGINT');
  assert.equal(await run.exit, 130, run.stderr());
});

test('a port in use, or metrics flags that do not fit, exit 2 before anything runs', { timeout: 60_000 }, async () => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  const { port } = holder.address() as { port: number };
  const file = await planFile('refused', fiveSeconds());
  const out = join(dir, 'refused-out');
  try {
    const busy = planrun(['run', file, '--out', out, '--metrics-port', String(port)]);
    assert.equal(await busy.exit, 2);
    assert.equal(busy.stderr(), `planrun run: cannot serve the metrics at 127.0.0.1:${port}: the port is in use by another program; choose another --metrics-port\n`);
    assert.equal(existsSync(out), false);
  } finally {
    holder.close();
  }
  const bad: Array<[string[], string]> = [
    [['--metrics-port', '70000'], '--metrics-port takes a port from 0 to 65535 (0: any free one), not `70000`'],
    [['--metrics-host', '0.0.0.0'], '--metrics-host and --metrics-linger need --metrics-port PORT'],
    [['--metrics-port', '0', '--metrics-linger', 'soon'], '--metrics-linger takes a duration (15s, 1m), not `soon`'],
    [
      ['--metrics-port', '0', '--metrics-host', '192.0.2.1'],
      'cannot serve the metrics at 192.0.2.1:0: 192.0.2.1 is not an address of this machine; give one with --metrics-host (default 127.0.0.1)',
    ],
  ];
  for (const [flags, message] of bad) {
    const r = planrun(['run', file, '--out', out, ...flags]);
    assert.equal(await r.exit, 2, flags.join(' '));
    assert.equal(r.stderr(), `planrun run: ${message}\n`);
  }
  assert.equal(existsSync(out), false);
});
