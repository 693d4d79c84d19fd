// `planrun report <report.json>` as users run it: re-renders every format from
// a saved JSON report, and refuses missing, broken or other-version reports
// with a sentence saying what to do.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { renderHtml } from '../../src/reporting/files/html/html-report.js';
import { renderJunit } from '../../src/reporting/files/junit.js';
import { renderMarkdown } from '../../src/reporting/files/markdown.js';
import { barrierReport } from '../fixtures/report/sample.js';
import { planrunSync } from '../helpers/cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'planrun-report-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const planrun = (...args: string[]) => planrunSync(args);

test('re-renders html, junit and markdown from report.json into --out, reading screenshots from the report folder', { timeout: 60_000 }, () => {
  const src = join(dir, 'run');
  const report = barrierReport(src);
  writeFileSync(join(src, 'report.json'), JSON.stringify(report));
  const out = join(dir, 'rendered');
  const r = planrun('report', join(src, 'report.json'), '--reporter', 'html,junit', '--reporter', 'markdown', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => l.split(/\s+/)[0]),
    ['html', 'junit', 'markdown'],
  );
  // Byte-identical to rendering in-process: the JSON report is the single source.
  assert.equal(readFileSync(join(out, 'junit.xml'), 'utf8'), renderJunit(report, { reportDir: src }));
  assert.equal(readFileSync(join(out, 'summary.md'), 'utf8'), renderMarkdown(report));
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  assert.equal(html, renderHtml(report, { reportDir: src }));
  assert.match(html, /<img class="shot" [^>]*src="data:image\/png;base64,/);
  const v = spawnSync('xmllint', ['--noout', '--schema', 'test/fixtures/junit/junit-10.xsd', join(out, 'junit.xml')], { encoding: 'utf8' });
  assert.equal(v.status, 0, v.stderr);
});

test('default: all three formats next to report.json', { timeout: 60_000 }, () => {
  const src = join(dir, 'default');
  writeFileSync(join(src, 'report.json'), JSON.stringify(barrierReport(src)));
  const r = planrun('report', join(src, 'report.json'));
  assert.equal(r.code, 0, r.stderr);
  for (const f of ['report.html', 'junit.xml', 'summary.md']) assert.ok(existsSync(join(src, f)), f);
});

test('missing, folder, invalid JSON, other version, not a report: exit 2 with what to do', { timeout: 60_000 }, () => {
  const missing = planrun('report', join(dir, 'nope.json'));
  assert.equal(missing.code, 2);
  assert.equal(missing.stderr, `planrun report: ${join(dir, 'nope.json')} does not exist; pass the report.json a run wrote into its report folder\n`);

  const folder = planrun('report', dir);
  assert.equal(folder.code, 2);
  assert.match(folder.stderr, /is a folder; pass the report\.json inside it/);

  const cut = join(dir, 'cut.json');
  writeFileSync(cut, '{"version":1,"run":{');
  const bad = planrun('report', cut);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^planrun report: .*cut\.json is not valid JSON \(.+\); was it cut short\? Run the plan again to get a complete report\.json\n$/);

  const v2 = join(dir, 'v2.json');
  writeFileSync(v2, JSON.stringify({ ...barrierReport(dir), version: 2 }));
  const other = planrun('report', v2);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /v2\.json is a version 2 report; this planrun reads version 1\. Re-render it with the planrun that wrote it, or run the plan again\n$/);

  const notReport = join(dir, 'pkg.json');
  writeFileSync(notReport, JSON.stringify({ version: 1, name: 'x' }));
  const nr = planrun('report', notReport);
  assert.equal(nr.code, 2);
  assert.match(nr.stderr, /is not a complete planrun report: missing "run", "steps", "timeline"/);
});

test('usage errors: no file, unknown reporter, unknown option; --help', { timeout: 60_000 }, () => {
  const none = planrun('report');
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^planrun report: which report\? give the path of a report\.json\n\nUsage: planrun report/);
  const unknown = planrun('report', 'x.json', '--reporter', 'html,pdf');
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown reporter `pdf`; planrun report can write: html, junit, markdown/);
  assert.match(planrun('report', 'x.json', '--frob').stderr, /unknown option `--frob`/);
  const help = planrun('report', '--help');
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: planrun report <report\.json> \[--reporter html,junit,markdown\] \[--out <dir>\]/);
  assert.match(planrun('--help').stdout, /^ {2}report +Re-render HTML, JUnit and Markdown reports/m);
});
