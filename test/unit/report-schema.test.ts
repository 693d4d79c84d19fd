// schemas/report.schema.json: the published shape of report.json. The tests that
// read a real run's report.json check it through test/report-helpers.ts; here the
// schema itself, and the hand-built full report every other report test uses.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { assertValidReport, reportValidator } from '../helpers/report-helpers.js';
import { barrierReport, syntheticReport } from '../fixtures/report/sample.js';

test('the report schema compiles in strict mode', async () => {
  assert.equal(typeof (await reportValidator()), 'function');
});

test('the sample reports validate: barriers, a failed step with a screenshot, a crawl; a synthetic large run', async () => {
  const full = barrierReport(mkdtempSync(join(tmpdir(), 'planrun-schema-')));
  assert.ok(full.crawl && full.timeline.some((r) => r.attachments && r.signal === undefined) && full.timeline.some((r) => r.signal));
  await assertValidReport(JSON.parse(JSON.stringify(full)));
  await assertValidReport(JSON.parse(JSON.stringify(syntheticReport(20, 3))));
});

test('a report that drifts from the schema fails with every ajv error', async () => {
  const report = JSON.parse(JSON.stringify(barrierReport(mkdtempSync(join(tmpdir(), 'planrun-schema-'))))) as Record<string, unknown> & {
    timeline: Array<Record<string, unknown>>;
  };
  report.timeline[0]!.outcome = 'passed';
  report.timeline[1]!.extra = true;
  delete report.timelineTruncated;
  await assert.rejects(assertValidReport(report), {
    message: [
      'report does not match schemas/report.schema.json:',
      '  / must have required property \'timelineTruncated\' {"missingProperty":"timelineTruncated"}',
      '  /timeline/0/outcome must be equal to one of the allowed values {"allowedValues":["ok","failed","skipped"]}',
      '  /timeline/1 must NOT have additional properties {"additionalProperty":"extra"}',
    ].join('\n'),
  });
});
