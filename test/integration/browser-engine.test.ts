// The browser engine through the real runtime, against real Chromium and a local site:
// every action, every page expectation and capture, failures with screenshots, crashes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPlanText, startSite, type Site } from '../helpers/browser-helpers.js';

let site: Site;
before(async () => {
  site = await startSite();
});
after(async () => {
  await site.close();
});

// A generous step timeout: the first page of several contexts at once can take seconds on a busy 2-core machine;
// the tests of timeouts set their own.
const header = (o: { workers?: number; rounds?: number; extra?: string } = {}) =>
  `name: browser test
target: ${site.origin}
workers: ${o.workers ?? 1}
rounds: ${o.rounds ?? 1}
timeout: 20s
${o.extra ?? ''}
`;

test('actions, page expectations and captures all pass on the local site', { timeout: 60_000 }, async () => {
  const { result, steps, reportDir } = await runPlanText(
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
  - name: shot jpeg
    browser: { screenshot: "frames-{{ worker.id }}.jpg" }
  - name: client-side navigation
    browser: { goto: /spa }
  - name: nav
    browser: { click: "#nav" }
  - name: spa url
    expect: { url: { matches: "/spa/done$" }, within: 3s }
`,
  );
  const failed = steps.filter((s) => s.outcome !== 'ok');
  assert.deepEqual(
    failed.map((s) => `${s.name}: ${s.error?.message}`),
    [],
  );
  assert.equal(result.outcome, 'passed');
  const shot = steps.find((s) => s.name === 'shot')!;
  assert.deepEqual(
    shot.attachments?.map((a) => a.path),
    ['screenshots/frames-0.png'],
  );
  assert.deepEqual(steps.find((s) => s.name === 'shot jpeg')!.attachments, [{ name: 'frames-0.jpg', path: 'screenshots/frames-0.jpg', contentType: 'image/jpeg' }]);
  // Written whole through a temporary file that is gone; each in the format its name says.
  assert.deepEqual(readdirSync(join(reportDir, 'screenshots')).sort(), ['frames-0.jpg', 'frames-0.png']);
  assert.equal(
    readFileSync(join(reportDir, 'screenshots', 'frames-0.png'))
      .subarray(1, 4)
      .toString(),
    'PNG',
  );
  assert.deepEqual([...readFileSync(join(reportDir, 'screenshots', 'frames-0.jpg')).subarray(0, 3)], [0xff, 0xd8, 0xff]);
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
    timeout: 5s
    browser: { click: "#ghost" }
`,
  );
  assert.equal(result.outcome, 'failed');
  const failed = steps.find((s) => s.name === 'click the ghost')!;
  assert.equal(failed.outcome, 'failed');
  assert.equal(failed.error?.code, 'timeout');
  assert.match(failed.error!.message, /^Step "click the ghost" timed out after 5000 ms/);
  assert.match(failed.error!.message, /#ghost/);
  const rel = `screenshots/0-r1-${failed.stepId.replace(/[^\w.-]+/g, '-')}.png`;
  assert.match(failed.error!.message, new RegExp(rel.replace(/[.]/g, '\\.')));
  assert.deepEqual(failed.attachments, [{ name: 'screenshot', path: rel, contentType: 'image/png' }]);
  assert.equal(failed.pageUrl, `${site.origin}/`);
  const png = readFileSync(join(reportDir, rel));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(failed.durationMs < 7000, `bounded by the step timeout (${failed.durationMs} ms)`);
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

/** Chromium's main process: the child of this test process started by playwright-core. */
function browserPids(): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      if (ppid === process.pid && /chrom/i.test(cmd) && !/--type=/.test(cmd)) out.push(Number(name));
    } catch {
      /* gone */
    }
  }
  return out;
}

test('the browser dies mid-run: browser steps fail at once as browser-crashed, waiters get broken barriers, the run ends', { timeout: 60_000 }, async () => {
  let killedAt = 0;
  let killScheduled = false;
  const begun = new Set<number>();
  const { result, steps } = await runPlanText(
    header({ workers: 4, rounds: 2, extra: 'waitTimeout: 30s' }) +
      `roles:
  survivor: { workers: [0] }
  writer: { workers: [1] }
  reader: { workers: [2, 3] }
barriers:
  written: { signal: writer, wait: reader }
scenario:
  survivor:
    - name: open
      browser: { goto: "/" }
      onError: continue
    - name: wait forever
      timeout: 30s
      browser: { waitFor: "#never" }
      onError: continue
    - name: after crash
      browser: { goto: "/next" }
      onError: continue
  writer:
    - name: open
      browser: { goto: "/" }
    - name: wait forever
      timeout: 30s
      browser: { waitFor: "#never" }
      onError: stop-worker
    - signal: written
  reader:
    - wait: written
`,
    {
      onEvent: (e) => {
        if (e.type === 'step:begin' && e.name === 'wait forever') {
          begun.add(e.worker);
          if (begun.size === 2 && !killScheduled) {
            killScheduled = true;
            setTimeout(() => {
              const pids = browserPids();
              assert.equal(pids.length, 1, 'one Chromium for the run');
              killedAt = Date.now();
              process.kill(pids[0]!, 'SIGKILL');
            }, 300);
          }
        }
      },
    },
  );
  assert.ok(killedAt > 0);
  const ended = Date.now();
  assert.ok(ended - killedAt < 10_000, `the run ended soon after the crash (${ended - killedAt} ms)`);
  assert.equal(result.outcome, 'failed');
  const byName = (worker: number) => steps.filter((s) => s.worker === worker).map((s) => `r${s.round} ${s.name}: ${s.outcome}${s.error ? ` ${s.error.code}` : ''}`);
  assert.deepEqual(byName(0), [
    'r1 open: ok',
    'r1 wait forever: failed browser-crashed',
    'r1 after crash: failed browser-crashed',
    'r2 open: failed browser-crashed',
    'r2 wait forever: failed browser-crashed',
    'r2 after crash: failed browser-crashed',
  ]);
  assert.deepEqual(byName(1).slice(0, 2), ['r1 open: ok', 'r1 wait forever: failed browser-crashed']);
  assert.ok(
    byName(1)
      .slice(2)
      .every((s) => s.endsWith('skipped')),
    'the stopped writer runs nothing more',
  );
  for (const reader of [2, 3]) assert.equal(byName(reader)[0], 'r1 wait written: failed broken-barrier');
  const crashed = steps.find((s) => s.error?.code === 'browser-crashed')!;
  assert.match(crashed.error!.message, /browser crashed or was closed/);
  // Later steps fail at once rather than waiting for their timeouts.
  for (const s of steps.filter((s) => s.worker === 0 && s.name !== 'open' && s.round === 2)) assert.ok(s.durationMs < 1000, `${s.name} failed at once`);
});
