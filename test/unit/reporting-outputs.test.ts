import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { MetricsCollector } from '../../src/reporting/metrics/metrics-collector.js';
import type { RunEvent } from '../../src/contract/events.js';
import { jsonReporter, writeJsonReport } from '../../src/reporting/files/json.js';
import { liveReporter } from '../../src/reporting/terminal/live.js';
import { canDrawLive, createReporters, DEFAULT_REPORTERS } from '../../src/reporting/registry.js';
import { useColor } from '../../src/text/colour.js';
import { PLAIN_LINES_CAP, plainReporter } from '../../src/reporting/terminal/plain.js';
import type { RunReport } from '../../src/contract/report.js';
import { formatSummary } from '../../src/reporting/terminal/summary.js';
import { formatLoadLine } from '../../src/reporting/terminal/load-line.js';
import { renderMarkdown } from '../../src/reporting/files/markdown.js';
import type { LoadSnapshot } from '../../src/contract/reporter.js';
import { RUN_INFO, T0, runEvents } from '../helpers/reporting-events.js';
import { readReport } from '../helpers/report-helpers.js';

const T = { timeout: 15_000 };
// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[A-Za-z]/;

function buildReport(events: RunEvent[] = runEvents()): RunReport {
  const c = new MetricsCollector({
    thresholds: [{ selector: 'http', source: 'p95 < 500ms', stat: 'p95', op: '<', value: 500, loc: { file: 'p.yml', line: 1, col: 1 } }],
  });
  for (const e of events) c.onEvent(e);
  return c.buildReport({ outcome: 'passed' });
}

/** A write stream that remembers what was written; optionally claims to be a terminal. */
function sink(tty = false): PassThrough & { text(): string; isTTY?: boolean; columns?: number } {
  const s = new PassThrough() as PassThrough & { text(): string; isTTY?: boolean; columns?: number };
  let out = '';
  s.on('data', (d: Buffer) => (out += d.toString()));
  s.text = () => out;
  if (tty) {
    s.isTTY = true;
    s.columns = 100;
  }
  return s;
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'planrun-reporting-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('JSON report', () => {
  it('writes report.json atomically into a folder it creates, leaving no temp file', T, async () => {
    const report = buildReport();
    const target = join(dir, 'nested', 'run-1');
    const file = await writeJsonReport(report, target);
    assert.equal(file, join(target, 'report.json'));
    const parsed = await readReport(file);
    assert.deepEqual(parsed, JSON.parse(JSON.stringify(report)));
    assert.equal(parsed.version, 1);
    assert.deepEqual(await readdir(target), ['report.json']);
  });

  it('replaces an existing report whole', T, async () => {
    const target = join(dir, 'replace');
    await writeJsonReport(buildReport(), target);
    await writeFile(join(target, 'keep.txt'), 'x');
    const partial = buildReport(runEvents({ stopInRound: 2 }));
    await writeJsonReport(partial, target);
    const parsed = await readReport(join(target, 'report.json'));
    assert.equal(parsed.timeline.length, partial.timeline.length);
    assert.deepEqual((await readdir(target)).sort(), ['keep.txt', 'report.json']);
  });

  it('says what to do when the folder cannot be written', T, async () => {
    const blocker = join(dir, 'a-file');
    await writeFile(blocker, 'not a folder');
    await assert.rejects(writeJsonReport(buildReport(), join(blocker, 'sub')), /EEXIST|ENOTDIR/);
  });

  it('jsonReporter writes on onEnd', T, async () => {
    const target = join(dir, 'reporter');
    const r = jsonReporter({ reportDir: target });
    await r.onEnd!(buildReport());
    assert.deepEqual(r.written, [join(target, 'report.json')]);
    assert.equal((await readReport(r.written[0]!)).outcome, 'failed');
  });
});

describe('plain output', () => {
  it('prints phases, failures at once, round ends per worker, then the summary', T, async () => {
    const out = sink();
    const plain = plainReporter({ stream: out, color: false, files: async () => [join(dir, 'report.json')], cwd: dir });
    const events = runEvents();
    // Crawl progress arrives far more often than once a second.
    const crawl = (t: number): RunEvent => ({ type: 'crawl:progress', time: T0 + t, progress: { done: t, queued: 5, inFlight: 2, broken: 1, pagesPerSecond: 12.5 } });
    events.splice(events.length - 1, 0, crawl(3011), crawl(3300), crawl(3900), crawl(4011), { type: 'log', time: T0 + 4100, level: 'warn', message: 'slow target' });
    for (const e of events) plain.onEvent!(e);
    await plain.onEnd!(buildReport());
    const lines = out.text().split('\n');

    assert.equal(lines[0], '[   0.0s] pad-http: 5 workers (writer×1, reader×4), 3 rounds → /tmp/report');
    assert.equal(lines[1], '[   0.0s] ▶ workers');
    const failure = lines.findIndex((l) => l.includes('✖ worker 3'));
    assert.equal(lines[failure], '[   1.1s] ✖ worker 3 (reader) round 2 step "see round": expected status 200, got 500 [expectation]');
    // The failure is printed when it happens, before that round's ends.
    const round2End = lines.findIndex((l) => l.includes('worker 3 (reader) round 2/3'));
    assert.ok(failure < round2End);
    assert.equal(lines[round2End], '[   1.4s] ✖ worker 3 (reader) round 2/3: 2 ok, 1 failed, 1 skipped in 420ms');
    assert.ok(lines.includes('[   0.4s] · worker 0 (writer) round 1/3: 3 ok, 0 failed in 420ms'));
    assert.equal(lines.filter((l) => / round \d\/3: /.test(l)).length, 15);
    assert.ok(lines.includes('[   3.0s] ✔ workers done in 3.01s'));
    assert.deepEqual(
      lines.filter((l) => l.includes('crawl:')),
      ['[   3.0s] crawl: 3011 done, 5 queued, 2 in flight, 1 broken, 12.5 pages/s', '[   4.0s] crawl: 4011 done, 5 queued, 2 in flight, 1 broken, 12.5 pages/s'],
    );
    assert.ok(lines.includes('[   4.1s] warning: slow target'));

    const summary = lines.slice(lines.indexOf('') + 1);
    assert.equal(summary[0], '✖ FAILED  pad-http — 5 workers, 3 rounds, 3.02s (exit 1)');
    assert.equal(summary[1], '  1 step failed');
    assert.ok(summary.includes('  reader  see round          12  11       1        0  60.0ms   120ms   120ms'));
    assert.ok(summary.includes('  ✔  http  p95 < 500ms  actual 120ms'));
    assert.ok(summary.includes('  1× [expectation] expected status 200, got 500'));
    assert.ok(summary.includes('  written       12         0       0  6.00ms  12.0ms  12.0ms'));
    assert.deepEqual(summary.slice(-3), ['Reports', '  report.json', '']);
    assert.doesNotMatch(out.text(), ANSI);
  });

  it('stops printing round ends and step failures past their caps, saying so once, as a long load run would flood a CI log', T, () => {
    const out = sink();
    const plain = plainReporter({ stream: out, color: false });
    plain.onEvent!({ type: 'run:begin', time: T0, run: RUN_INFO });
    const rounds = PLAIN_LINES_CAP.round + 500;
    for (let round = 1; round <= rounds; round++) {
      const time = T0 + round;
      plain.onEvent!({ type: 'round:begin', time, worker: 0, role: 'writer', round });
      const failed = round % 2 === 0;
      plain.onEvent!({
        type: 'step:end',
        time,
        result: {
          worker: 0,
          role: 'writer',
          round,
          stepId: 'writer/0',
          name: 'write',
          kind: 'request',
          start: time,
          durationMs: 0,
          outcome: failed ? 'failed' : 'ok',
          ...(failed ? { error: { message: 'no' } } : {}),
        },
      });
      plain.onEvent!({ type: 'round:end', time, worker: 0, role: 'writer', round, ok: !failed });
    }
    const lines = out.text().split('\n');
    assert.equal(lines.filter((l) => / worker 0 \(writer\) round \d+\/3: /.test(l)).length, PLAIN_LINES_CAP.round);
    assert.equal(lines.filter((l) => l.includes('step "write": no')).length, PLAIN_LINES_CAP.failure);
    assert.deepEqual(
      lines.filter((l) => l.includes('no more from here')).map((l) => l.replace(/^\[\s*[\d.]+s\] /, '')),
      [
        `… ${PLAIN_LINES_CAP.failure} step failures printed, no more from here: the load line every 10 s, the summary and the report files count them all`,
        `… ${PLAIN_LINES_CAP.round} round ends printed, no more from here: the load line every 10 s, the summary and the report files count them all`,
      ],
    );
  });

  it('colors only when asked', T, () => {
    const report = buildReport();
    assert.match(formatSummary(report, { color: true }), ANSI);
    assert.doesNotMatch(formatSummary(report, { color: false }), ANSI);
  });
});

describe('summary', () => {
  it('shows an aborted run, failed services, thresholds and the crawl', T, () => {
    const c = new MetricsCollector({ thresholds: [{ selector: 'crawl', source: 'errors == 0', stat: 'errors', op: '==', value: 0, loc: { file: 'p.yml', line: 1, col: 1 } }] });
    c.onEvent({ type: 'run:begin', time: T0, run: { ...RUN_INFO, hasCrawl: true } });
    c.onEvent({ type: 'service', time: T0, name: 'pad', status: 'failed', message: 'exited with code 1', logFile: 'services/pad.log' });
    c.onEvent({ type: 'run:end', time: T0 + 2500, outcome: 'aborted' });
    const broken = {
      url: 'http://x/missing',
      mode: 'checked' as const,
      status: 404,
      depth: 1,
      redirects: [],
      referrers: [{ page: 'http://x/', element: 'a[href]' }],
      broken: { kind: '4xx' as const, message: 'HTTP 404' },
    };
    const report = c.buildReport({
      outcome: 'aborted',
      reason: 'SIGINT received',
      crawl: {
        startUrls: ['http://x/'],
        stoppedBy: 'aborted',
        durationMs: 2000,
        crawled: 10,
        checked: 4,
        broken: 1,
        brokenByKind: { '4xx': 1 },
        skipped: { byRule: 0, byRobots: 0, byDepth: 0, byScheme: 0, outOfScope: 0 },
        sampledAway: 0,
        statusHistogram: {},
        brokenUrls: [broken],
        urls: [broken],
        urlsTruncated: false,
      },
    });
    const text = formatSummary(report, { color: false });
    assert.deepEqual(text.split('\n').slice(0, 3), [
      '■ ABORTED  pad-http — 5 workers, 3 rounds, 2.50s (exit 130)',
      '  SIGINT received',
      '  service pad failed: exited with code 1 (log: services/pad.log)',
    ]);
    assert.match(text, /\n {2}✖ {2}crawl {2}errors == 0 {2}actual 7\.14%\n/);
    assert.match(text, /\nCrawl\n {2}10 crawled, 4 checked, 1 broken \(4xx: 1\) — aborted, 2\.00s\n {2}✖ http:\/\/x\/missing HTTP 404 ← http:\/\/x\/\n/);
  });
});

describe('createReporters', () => {
  it('defaults to live + json, and live falls back to plain off a terminal or in CI', T, async () => {
    const names = (rs: { name: string }[]) => rs.map((r) => r.name);
    assert.deepEqual(names(await createReporters(DEFAULT_REPORTERS, { reportDir: dir, stream: sink() as never, env: {} })), ['json', 'plain']);
    assert.deepEqual(names(await createReporters(DEFAULT_REPORTERS, { reportDir: dir, stream: sink(true) as never, env: { CI: 'true' } })), ['json', 'plain']);
    assert.deepEqual(names(await createReporters(['live'], { reportDir: dir, stream: sink(true) as never, env: {} })), ['live']);
    assert.deepEqual(names(await createReporters(['json', 'json'], { reportDir: dir, stream: sink() as never, env: {} })), ['json']);
    assert.equal(canDrawLive({ isTTY: true }, { CI: 'false' }), true);
  });

  it('rejects unknown names listing the valid ones, and live with plain', T, async () => {
    await assert.rejects(createReporters(['json', 'xml'], { reportDir: dir, env: {} }), {
      message: 'Unknown reporter `xml`: choose from live, plain, json, junit, html, markdown.',
    });
    await assert.rejects(createReporters(['live', 'plain'], { reportDir: dir, env: {} }), /choose one/);
  });

  it('loads junit / html / markdown on demand, or says they are not available', T, async () => {
    for (const [name, file] of [
      ['junit', 'files/junit.ts'],
      ['html', 'files/html/html-report.ts'],
      ['markdown', 'files/markdown.ts'],
    ] as const) {
      const present = existsSync(fileURLToPath(new URL(`../../src/reporting/${file}`, import.meta.url)));
      const attempt = createReporters([name], { reportDir: dir, env: {} });
      if (present) assert.equal((await attempt)[0]!.name.length > 0, true);
      else await assert.rejects(attempt, { message: `Reporter \`${name}\` is not available in this build of planrun: use json, live or plain.` });
    }
  });

  it('honours NO_COLOR over a terminal, FORCE_COLOR off one', T, async () => {
    assert.equal(useColor({ isTTY: true }, { NO_COLOR: '1' }), false);
    assert.equal(useColor({ isTTY: true }, { NO_COLOR: '' }), true);
    assert.equal(useColor({ isTTY: false }, { FORCE_COLOR: '1' }), true);
    assert.equal(useColor({ isTTY: false }, {}), false);

    // End to end through the factory: a CI terminal with NO_COLOR prints no escape codes.
    const out = sink(true);
    const [plain] = await createReporters(['plain'], { reportDir: join(dir, 'nc'), stream: out as never, env: { NO_COLOR: '1' } });
    for (const e of runEvents()) plain!.onEvent!(e);
    await plain!.onEnd!(buildReport());
    assert.match(out.text(), /✖ FAILED/);
    assert.doesNotMatch(out.text(), ANSI);
  });

  it('lists the files the other reporters wrote under the summary', T, async () => {
    const reportDir = join(dir, 'listed');
    const reporters = await createReporters(['json', 'plain'], { reportDir, stream: sink() as never, env: {} });
    assert.deepEqual(
      reporters.map((r) => r.name),
      ['json', 'plain'],
    );
    const out = sink();
    const plain = plainReporter({ stream: out, color: false, files: async () => [join(reportDir, 'report.json')], cwd: '/' });
    await reporters[0]!.onEnd!(buildReport());
    await plain.onEnd!(buildReport());
    assert.match(out.text(), new RegExp(`Reports\\n {2}${join(reportDir, 'report.json').slice(1).replace(/[/.]/g, '\\$&')}\\n`));
  });
});

describe('live view', () => {
  it('follows the event stream and ends with the summary', T, async () => {
    const out = sink(true);
    const live = liveReporter({ stream: out, color: false, files: async () => [] });
    const report = buildReport();
    for (const e of runEvents()) {
      live.onEvent!(e);
      await new Promise((r) => setImmediate(r));
    }
    await live.onEnd!(report);
    const text = out.text();
    // Off a real terminal listr2 uses its line renderer; the titles are the same.
    assert.match(text, /writer ×1: round 3\/3, 9 ok, 0 failed/);
    assert.match(text, /reader ×4: round 3\/3, 46 ok, 1 failed, 1 skipped/);
    assert.match(text, /worker 3 round 2 "see round": expected status 200, got 500/);
    assert.match(text, /services: not run/);
    assert.match(text, /\n✖ FAILED {2}pad-http/);
  });

  it('settles a run that never ended (crash before run:end)', T, async () => {
    const live = liveReporter({ stream: sink(true), color: false });
    for (const e of runEvents({ stopInRound: 1 })) live.onEvent!(e);
    await live.onEnd!(buildReport(runEvents({ stopInRound: 1 })));
  });
});

describe('the load line', () => {
  const load = (o: Partial<LoadSnapshot> = {}): LoadSnapshot => ({
    time: T0 + 12_000,
    elapsedMs: 12_000,
    last: { requestsPerSecond: 48, stepsPerSecond: 96, p95Ms: 12.34, errorRate: 0.0125 },
    activeWorkers: 4,
    busyWorkers: 3,
    dropped: 7,
    stages: [
      { role: 'api', kind: 'arrival-rate', stage: 2, of: 3, target: 40 },
      { role: 'ui', kind: 'ramping-workers', stage: 1, of: 2, target: 2.5 },
    ],
    ...o,
  });

  it("formats a snapshot: rate, p95, errors, workers, drops, each scheduled role's stage and target", T, () => {
    assert.equal(formatLoadLine(load()), 'load: 48.0 req/s, p95 12.3ms, 1.25% errors, 4 workers active, 7 dropped, api stage 2/3 → 40.0/s, ui stage 1/2 → 2 workers');
    assert.equal(formatLoadLine(load({ last: undefined, activeWorkers: 1, stages: [] })), 'load: measuring, 1 worker active, 7 dropped');
    // No requests (a browser plan): the step rate; no step in the bucket: no error rate.
    assert.equal(
      formatLoadLine(load({ last: { requestsPerSecond: 0, stepsPerSecond: 3, errorRate: null }, stages: [] })),
      'load: 0.0 req/s, 3.0 steps/s, p95 -, -% errors, 4 workers active, 7 dropped',
    );
  });

  it('the plain output prints it every 10 s of the workers phase, not every snapshot', T, () => {
    const out = sink();
    const plain = plainReporter({ stream: out, color: false });
    plain.onEvent!({ type: 'run:begin', time: T0, run: RUN_INFO });
    for (let ms = 0; ms <= 25_000; ms += 250) plain.onLoad!(load({ time: T0 + ms, elapsedMs: ms, stages: [] }));
    const lines = out
      .text()
      .split('\n')
      .filter((l) => l.includes('load:'));
    assert.deepEqual(
      lines.map((l) => l.slice(0, 9)),
      ['[  10.0s]', '[  20.0s]'],
    );
  });

  it('the summary and the Markdown report name the threshold that stopped the run', T, () => {
    const report = buildReport();
    const stopped: RunReport = { ...report, outcome: 'failed', thresholds: [{ ...report.thresholds[0]!, passed: false, aborted: { afterMs: 12_000, actual: 812.4 } }] };
    assert.match(formatSummary(stopped, { color: false }), /✖ +http +p95 < 500ms +actual [\d.]+ms +stopped the run at 12\.0 s \(812\.4ms then\)/);
    assert.match(renderMarkdown(stopped), /\| ❌ \| http \| p95 \\< 500ms \(stopped the run at 12\.0 s \(812\.4ms then\)\) \|/);
  });
});
