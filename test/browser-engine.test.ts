// The browser engine through the real runtime, against real Chromium and a local site:
// every action, every page expectation and capture, failures with screenshots, crashes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPlanText, startSite, type Site } from './browser-helpers.js';

let site: Site;
before(async () => {
  site = await startSite();
});
after(async () => {
  await site.close();
});

const header = (o: { workers?: number; rounds?: number; extra?: string } = {}) =>
  `name: browser test
target: ${site.origin}
workers: ${o.workers ?? 1}
rounds: ${o.rounds ?? 1}
timeout: 5s
${o.extra ?? ''}
`;

test('actions, page expectations and captures all pass on the local site', { timeout: 60_000 }, async () => {
  const { result, steps } = await runPlanText(
    header() +
      `scenario:
  - name: open home
    browser: { goto: "/" }
  - name: title is Home
    expect: { title: Home }
  - name: fill name
    browser: { fill: "#name", value: "worker {{ worker.id }}" }
  - name: click greet
    browser: { click: "#go" }
  - name: greeting shown
    expect: { text: "Hello worker 0", in: "#out" }
  - name: pick green
    browser: { select: "#color", option: "g" }
  - name: picked
    expect: { text: "picked g", in: "#picked" }
  - name: press keys
    browser: { press: "ArrowDown", on: "#keys-in" }
  - name: keys seen
    expect: { text: "[ArrowDown]", in: "#keys" }
  - name: three items
    expect: { count: { selector: li.item, equals: 3 } }
  - name: secret hidden
    expect: { hidden: "#secret" }
  - name: heading visible
    expect: { visible: h1 }
  - name: read heading
    capture: { heading: { text: h1 }, link: { attribute: href, of: "a#next" }, where: { url: true }, title: { title: true } }
  - name: captured heading
    expect: { value: "{{ captures.heading }}|{{ captures.link }}|{{ captures.title }}", is: "Welcome|/next?from=home|Home" }
  - name: captured url
    expect: { value: "{{ captures.where }}", is: "${site.origin}/" }
  - name: show later
    browser: { click: "#later" }
  - name: wait for late element
    browser: { waitFor: "#appeared" }
  - name: late text
    browser: { waitFor: { text: "appeared late" } }
  - name: secret now visible
    expect: { visible: "#secret", within: 2s }
  - name: follow link
    browser: { click: "#next" }
  - name: on next
    browser: { waitFor: { url: "**/next?from=home" } }
  - name: url and title
    expect: { url: { contains: "/next" }, title: "Next page", text: "?from=home", in: "#where" }
  - name: reload
    browser: { reload: true }
  - name: still next
    expect: { text: "Next" }
  - name: type into nested iframe
    browser: { goto: /frames }
  - name: type
    browser: { type: " typed by {{ worker.id }}", into: "iframe[name=ace_outer] >> iframe >> #innerdocbody" }
  - name: typed text seen
    expect: { text: "first line typed by 0", in: "iframe[name=ace_outer] >> iframe >> #innerdocbody" }
  - name: shot
    browser: { screenshot: "frames-{{ worker.id }}.png" }
  - name: client-side navigation
    browser: { goto: /spa }
  - name: nav
    browser: { click: "#nav" }
  - name: spa url
    expect: { url: { matches: "/spa/done$" }, within: 3s }
`,
  );
  const failed = steps.filter((s) => s.outcome !== 'ok');
  assert.deepEqual(failed.map((s) => `${s.name}: ${s.error?.message}`), []);
  assert.equal(result.outcome, 'passed');
  const shot = steps.find((s) => s.name === 'shot')!;
  assert.deepEqual(shot.attachments?.map((a) => a.path), ['screenshots/frames-0.png']);
  const goto = steps.find((s) => s.name === 'open home')!;
  assert.equal(goto.pageUrl, `${site.origin}/`);
});

test('each worker has its own context: workers see only their own typing', { timeout: 60_000 }, async () => {
  const { result, steps } = await runPlanText(
    header({ workers: 3 }) +
      `scenario:
  - browser: { goto: "/" }
  - browser: { fill: "#name", value: "w{{ worker.id }}" }
  - browser: { click: "#go" }
  - name: own greeting
    expect: { text: "Hello w{{ worker.id }}", in: "#out" }
  - name: own text only
    capture: { greet: { text: "#out" } }
  - name: exact
    expect: { value: "{{ captures.greet == 'Hello w' + worker.id }}", is: true }
`,
  );
  assert.equal(result.outcome, 'passed', JSON.stringify(steps.filter((s) => s.outcome !== 'ok')));
  assert.equal(steps.filter((s) => s.name === 'exact' && s.outcome === 'ok').length, 3);
});

test('a selector that never appears: a timeout error naming the step, with a screenshot on disk', { timeout: 60_000 }, async () => {
  const { result, steps, reportDir } = await runPlanText(
    header() +
      `scenario:
  - browser: { goto: "/" }
  - name: click the ghost
    timeout: 1500ms
    browser: { click: "#ghost" }
`,
  );
  assert.equal(result.outcome, 'failed');
  const failed = steps.find((s) => s.name === 'click the ghost')!;
  assert.equal(failed.outcome, 'failed');
  assert.equal(failed.error?.code, 'timeout');
  assert.match(failed.error!.message, /^Step "click the ghost" timed out after 1500 ms/);
  assert.match(failed.error!.message, /#ghost/);
  const rel = `screenshots/0-r1-${failed.stepId.replace(/[^\w.-]+/g, '-')}.png`;
  assert.match(failed.error!.message, new RegExp(rel.replace(/[.]/g, '\\.')));
  assert.deepEqual(failed.attachments, [{ name: 'screenshot', path: rel, contentType: 'image/png' }]);
  assert.equal(failed.pageUrl, `${site.origin}/`);
  const png = readFileSync(join(reportDir, rel));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(failed.durationMs < 4000, `bounded by the step timeout (${failed.durationMs} ms)`);
});

test('an expectation that stays false fails after `within` with what differed', { timeout: 60_000 }, async () => {
  const { steps, reportDir } = await runPlanText(
    header() +
      `scenario:
  - browser: { goto: "/" }
  - name: wrong greeting
    expect: { text: "Goodbye", in: h1, within: 700ms }
  - name: wrong count
    expect: { count: { selector: li.item, equals: 5 }, within: 300ms }
`,
    {},
  );
  const text = steps.find((s) => s.name === 'wrong greeting')!;
  assert.equal(text.error?.code, 'expectation');
  assert.match(text.error!.message, /expected "h1" to contain "Goodbye", got "Welcome"/);
  assert.ok(text.durationMs >= 650 && text.durationMs < 3000, `retried until within (${text.durationMs} ms)`);
  assert.ok(existsSync(join(reportDir, text.attachments![0]!.path)));
});
