// JUnit XML rendered from a hand-built barrier-plan report, validated against
// the JUnit schema CI tools accept (test/fixtures/junit/junit-10.xsd) by xmllint.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { junitReporter, renderJunit } from '../../src/reporting/files/junit.js';
import { barrierReport } from '../fixtures/report/sample.js';
import { openRunEvents, reportFrom } from '../helpers/reporting-events.js';

const dir = mkdtempSync(join(tmpdir(), 'planrun-junit-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const XSD = 'test/fixtures/junit/junit-10.xsd';

function xmllint(file: string) {
  const r = spawnSync('xmllint', ['--noout', '--schema', XSD, file], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stderr: r.stderr };
}

test('junit.xml validates against the JUnit schema and has a suite per role, thresholds, services, crawl', { timeout: 30_000 }, async () => {
  const report = barrierReport(dir);
  await junitReporter({ reportDir: dir }).onEnd?.(report);
  const file = join(dir, 'junit.xml');
  const v = xmllint(file);
  assert.equal(v.code, 0, v.stderr);
  assert.match(v.stderr, /validates/);
  const xml = readFileSync(file, 'utf8');
  const suites = [...xml.matchAll(/<testsuite name="([^"]+)"[^>]*tests="(\d+)" failures="(\d+)" errors="0" skipped="(\d+)"/g)].map((m) => [m[1], +m[2]!, +m[3]!, +m[4]!]);
  assert.deepEqual(suites, [
    ['writer', 4, 0, 0],
    ['reader', 4, 1, 0],
    ['thresholds', 2, 1, 0],
    ['services', 1, 0, 0],
    ['crawl', 3, 3, 0],
  ]);
  assert.match(xml, /^<testsuites name="Etherpad — one writer, four readers" tests="14" failures="5" errors="0" time="\d+\.\d{3}">$/m);
  assert.match(xml, /<property name="run\.id" value="run-20261124-0600-ab12"\/>/);
  assert.match(xml, /<property name="plan\.file" value="plans\/etherpad\.yml"\/>/);
});

test('a failed step: message is the first error, body lists worker, round, message and screenshot path', { timeout: 10_000 }, () => {
  const xml = renderJunit(barrierReport(dir));
  const tc = /<testcase name="see round" classname="reader" time="([\d.]+)">([\s\S]*?)<\/testcase>/.exec(xml);
  assert.ok(tc, xml);
  // 11 ok runs of ~30 ms + one 2 s failure, in seconds.
  assert.ok(Math.abs(Number(tc[1]) - (2000 + 30 * 3 + 31 * 3 + 32 * 2 + 33 * 3) / 1000) < 0.002, tc[1]);
  assert.match(
    tc[2]!,
    /<failure message="expected the page to show text &quot;round 1&quot; within 2s, found &quot;round 0&quot;" type="expectation">worker 2, round 1: expected the page to show text &quot;round 1&quot; within 2s, found &quot;round 0&quot;\n {2}screenshot: screenshots\/reader-2-round-1-see-round\.png<\/failure>/,
  );
  assert.ok(tc[2]!.includes(`<system-out>[[ATTACHMENT|${join(dir, 'screenshots/reader-2-round-1-see-round.png')}]]</system-out>`));
  assert.match(xml, /<testcase name="open pad" classname="writer" time="[\d.]+"\/>/);
  assert.match(xml, /<testcase name="wait written" classname="reader" time="[\d.]+"\/>/);
});

test('crawl suite: a test case per broken URL with its referrers; escaping of text', { timeout: 10_000 }, () => {
  const xml = renderJunit(barrierReport(dir));
  assert.match(
    xml,
    /<testcase name="http:\/\/127\.0\.0\.1:8080\/missing\.html" classname="crawl" time="0\.003">\n {6}<failure message="HTTP 404 Not Found" type="4xx">4xx: HTTP 404 Not Found\nstatus: 404\nlinked from 2 places:\n {2}http:\/\/127\.0\.0\.1:8080\/ a\[href\] &quot;Missing &lt;page&gt; &amp; &quot;more&quot;&quot;\n {2}http:\/\/127\.0\.0\.1:8080\/docs\/a\.html a\[href\]<\/failure>/,
  );
  assert.match(xml, /redirects: http:\/\/127\.0\.0\.1:8080\/loop \(302\) → http:\/\/127\.0\.0\.1:8080\/loop2 \(302\)/);
});

test('many failures are capped at 20 with "and N more"; control characters are stripped; all-skipped steps are skipped', { timeout: 30_000 }, () => {
  const report = barrierReport(dir, { crawl: false });
  const base = report.timeline.find((r) => r.stepId === 'writer/2')!;
  for (let i = 0; i < 25; i++) {
    report.timeline.push({ ...base, round: 10 + i, outcome: 'failed', error: { message: `bad \u0000\u001b[31mbyte\u0007 ${i} ]]> <x>`, code: 'browser' } });
  }
  const w2 = report.steps.find((s) => s.stepId === 'writer/2')!;
  w2.count += 25;
  w2.failed += 25;
  const r0 = report.steps.find((s) => s.stepId === 'reader/0')!;
  // Every run skipped: none executed.
  r0.skipped = r0.count;
  r0.count = 0;
  r0.ok = 0;
  delete r0.latency;
  const xml = renderJunit(report);
  const file = join(dir, 'many.xml');
  writeFileSync(file, xml);
  const v = xmllint(file);
  assert.equal(v.code, 0, v.stderr);
  assert.doesNotMatch(xml, /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/);
  assert.match(xml, /<failure message="bad \[31mbyte 0 \]\]&gt; &lt;x&gt; \(failed 25 of 28 times\)" type="browser">/);
  const body = /<testcase name="write round"[\s\S]*?<\/testcase>/.exec(xml)![0];
  assert.equal(body.match(/worker 4, round \d+:/g)?.length, 20);
  assert.match(body, /\nand 5 more<\/failure>/);
  assert.match(xml, /<testcase name="open pad" classname="reader" time="0\.000">\n {6}<skipped message="skipped in all 12 runs"\/>/);
});

test('the time series summarized as properties of every suite: peak and mean rate, worst p95/p99 bucket, error buckets, drops', { timeout: 30_000 }, () => {
  const xml = renderJunit(reportFrom(openRunEvents(), { outcome: 'failed', reason: '5 steps failed' }));
  const file = join(dir, 'series.xml');
  writeFileSync(file, xml);
  const v = xmllint(file);
  assert.equal(v.code, 0, v.stderr);
  const props = [...xml.matchAll(/<property name="(series\.[^"]+)" value="([^"]*)"\/>/g)].map((m) => `${m[1]}=${m[2]}`);
  const expected = [
    'series.buckets=3',
    'series.bucket_ms=1000',
    'series.peak_rps=100',
    'series.peak_rps_at_ms=0',
    'series.mean_rps=44.4',
    'series.worst_p95_ms=200',
    'series.worst_p95_at_ms=1000',
    'series.worst_p99_ms=900',
    'series.worst_p99_at_ms=0',
    'series.error_buckets=2',
    'series.dropped=90',
  ];
  // The one role's suite carries them (each suite repeats the run's properties).
  assert.deepEqual(props, expected);
  // A report written before planrun had a series has none of them.
  const old = barrierReport(dir, { crawl: false });
  delete old.series;
  assert.doesNotMatch(renderJunit(old), /series\./);
});
