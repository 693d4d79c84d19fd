// The crawl phase of a whole run: a scenario step logs in and shares the
// session, then the crawl runs as that user (its headers render shared values
// after the scenario), and the run reports the crawl and its progress.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan } from '../../src/plan/load.js';
import type { RunEvent } from '../../src/contract/events.js';
import { runPlan } from '../../src/runtime/run.js';
import { startSite } from '../fixtures/site/site.js';

const plan = (origin: string, login: boolean) => `
name: logged-in crawl
target: ${origin}
workers: 1
scenario:
${
  login
    ? `  - request: { method: POST, url: /login, capture: { session: { json: session } } }
  - share: { session: "{{ captures.session }}" }`
    : `  - share: { session: anonymous }`
}
crawl:
  start: [/]
  robots: ignore
  headers:
    cookie: "session={{ shared.session }}"
`;

test('runPlan: a crawl after a login step runs as the logged-in user', { timeout: 30_000 }, async () => {
  const site = await startSite({ pages: 3, specials: false, variants: false, homeLinks: ['/account'] });
  const reportDir = await mkdtemp(join(tmpdir(), 'planrun-crawl-run-'));
  try {
    const events: RunEvent[] = [];
    const loggedIn = await runPlan(parsePlan(plan(site.origin, true), '/plans/crawl-login.yml'), { emit: (e) => events.push(e), reportDir });
    assert.equal(loggedIn.outcome, 'passed', loggedIn.reason);
    assert.equal(loggedIn.crawl?.urls.find((u) => u.url === `${site.origin}/account`)?.status, 200);
    assert.equal(loggedIn.crawl?.broken, 0);
    // The login happened before the crawl's first request.
    const login = site.log.findIndex((r) => r.path === '/login');
    const firstCrawl = site.log.findIndex((r) => r.method === 'GET');
    assert.ok(login >= 0 && login < firstCrawl);
    // Phases in order, and the last progress event counts every fetch.
    const phases = events.filter((e) => e.type === 'phase:begin').map((e) => (e.type === 'phase:begin' ? e.phase : ''));
    assert.deepEqual(phases, ['workers', 'crawl']);
    const progress = events.filter((e) => e.type === 'crawl:progress');
    const last = progress.at(-1);
    assert.ok(last?.type === 'crawl:progress');
    assert.equal(last.progress.done, loggedIn.crawl!.crawled + loggedIn.crawl!.checked);
    assert.equal(last.progress.inFlight, 0);
    assert.equal(last.progress.queued, 0);

    const anon = await runPlan(parsePlan(plan(site.origin, false), '/plans/crawl-anon.yml'), { emit: () => {}, reportDir });
    assert.equal(anon.outcome, 'failed');
    assert.equal(anon.reason, 'the crawl found 1 broken link');
    assert.deepEqual(
      anon.crawl?.brokenUrls.map((b) => [b.url, b.status, b.broken?.kind]),
      [[`${site.origin}/account`, 401, '4xx']],
    );
  } finally {
    await site.close();
    await rm(reportDir, { recursive: true, force: true });
  }
});
