// The page capture sources are one list: the compiler accepts them, refuses
// them inside a request, and the router sends exactly them to the browser.
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PlanError } from '../../src/plan/issues.js';
import { parsePlan } from '../../src/plan/load.js';
import { PAGE_CAPTURE_SOURCES, type StepSpec } from '../../src/contract/plan.js';
import { needsBrowser } from '../../src/runtime/steps.js';

const SOURCE_YAML: Record<string, string> = { text: '"#a"', attribute: 'href, of: "#a"', url: 'true', title: 'true', json: 'id', header: 'etag', status: 'true', body: 'true' };

function captureStep(source: string): StepSpec {
  const plan = parsePlan(`name: c\ntarget: http://127.0.0.1:1\nscenario:\n  - capture: { v: { ${source}: ${SOURCE_YAML[source]} } }\n`, join(tmpdir(), 'c.yml'));
  return plan.scenarios.values().next().value![0]!;
}

test('page capture sources go to the browser; response sources do not', () => {
  assert.deepEqual(PAGE_CAPTURE_SOURCES, ['text', 'attribute', 'url', 'title']);
  assert.deepEqual(
    Object.keys(SOURCE_YAML).map((s) => [s, needsBrowser(captureStep(s))]),
    [
      ['text', true],
      ['attribute', true],
      ['url', true],
      ['title', true],
      ['json', false],
      ['header', false],
      ['status', false],
      ['body', false],
    ],
  );
});

test('a request refuses every page source, naming the response sources', () => {
  for (const source of PAGE_CAPTURE_SOURCES) {
    assert.throws(
      () => parsePlan(`name: c\ntarget: http://127.0.0.1:1\nscenario:\n  - request: { url: /, capture: { v: { ${source}: ${SOURCE_YAML[source]} } } }\n`, join(tmpdir(), 'c.yml')),
      (err: unknown) =>
        err instanceof PlanError &&
        err.issues.some((i) => i.message.includes(`a request captures from its response (json, header, regex, status, body); \`${source}\` reads the page`)),
    );
  }
});
