// The crawl across agents, end to end: real planrun processes (controller and
// agents), a real redis-server, the generated site with its ground truth. With
// --agents 2 the report's crawl equals one process's (same URLs, broken links
// with every referrer) and the private redis-server yields the CPU during the
// crawl; an agent killed mid-crawl loses nothing (its URLs go to the other
// agent when their lease expires; the run says it lost the agent); the whole
// run killed mid-crawl and resumed with --resume ends with the same report; an
// unknown run id, another plan, a run stored by an older planrun or no --redis
// are refused (exit 2).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { getPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CRAWL_REDIS_NICE } from '../../src/agents/controller.js';
import { connectRedis, type RedisConnection } from '../../src/coordination/redis/connect.js';
import { STORE_LAYOUT } from '../../src/coordination/redis/keys.js';
import { startRedisServer, type RedisServer } from '../../src/coordination/redis/server.js';
import type { CrawlReport } from '../../src/contract/report.js';
import { startSite, type Site } from '../fixtures/site/site.js';
import { assertSameCrawl as assertSameAsReference, crawlSite } from '../helpers/crawl-helpers.js';
import { killProcesses, planrun, watchChildNiceness } from '../helpers/planrun-process.js';
import { readReport } from '../helpers/report-helpers.js';

let redis: RedisServer;
let client: RedisConnection;
let site: Site;
let dir: string;
/** The one-process crawl of the same site and rules: what every agents' run must report. */
let reference: CrawlReport;
const PAGES = 300;
const RULES = { normalize: { stripParams: ['utm_source'] }, fragments: true, sample: { templates: [{ pattern: '/product/:id', keep: 5 }] } };

before(async () => {
  [redis, site] = await Promise.all([startRedisServer({ password: 'crawl-test' }), startSite({ pages: PAGES, products: 40 })]);
  client = await connectRedis(redis.url);
  dir = await mkdtemp(join(tmpdir(), 'planrun-agents-crawl-'));
  reference = await crawlSite({ start: [`${site.origin}/`], ...RULES });
});
after(async () => {
  killProcesses();
  client.destroy();
  await Promise.all([redis.stop(), site.close()]);
});

/**
 * A plan crawling the site; `rateLimit` (requests/s, shared by the agents) stretches the crawl so it can be killed
 * midway; `workers`: two workers first, whose shared value the crawl's headers use.
 */
async function crawlPlan(name: string, rateLimit?: number, workers = false): Promise<string> {
  const file = join(dir, `${name}.yml`);
  const scenario = `workers: 2
rounds: 1
scenario:
  - request: GET /slow/1
  - share: { token: "t-{{ worker.id }}" }
`;
  await writeFile(
    file,
    `
name: crawl ${name}
target: ${site.origin}
${workers ? scenario : ''}crawl:
${workers ? '  headers: { x-token: "{{ shared.token }}" }\n' : ''}  start: [/]
  concurrency: 4
  normalize: { stripParams: [utm_source] }
  fragments: true
  sample: { templates: [{ pattern: "/product/:id", keep: 5 }] }
${rateLimit ? `  rateLimit: ${rateLimit}\n` : ''}`,
  );
  return file;
}

/** The crawl is complete and equals the ground truth and the one-process crawl, URL by URL. */
function assertSameCrawl(crawl: CrawlReport | undefined): void {
  assertSameAsReference(crawl, reference, site);
  assert.equal(crawl.stoppedBy, 'complete');
}

/** Resolves once the run's shared frontier counts at least `n` URLs done. */
async function doneAtLeast(runId: string, n: number): Promise<void> {
  while (Number((await client.get(`planrun:{${runId}}:frontier:done`)) ?? 0) < n) await new Promise((r) => setTimeout(r, 50));
}

test('--agents 2: the workers, then the crawl run on the agents; the crawl equals the one-process crawl and the ground truth', { timeout: 180_000 }, async () => {
  const out = join(dir, 'local-out');
  const run = planrun(['run', await crawlPlan('local', undefined, true), '--agents', '2', '--out', out, '--reporter', 'json', '--run-id', 'crawl-local']);
  const niceness = watchChildNiceness(run, 'redis-server');
  assert.equal(await run.exit, 1, run.stderr());
  // The private redis-server ran at planrun's priority for the workers and their barriers, then yielded to the crawl
  // (unless planrun already ran at a lower one: an unprivileged process cannot raise it).
  const own = getPriority();
  assert.deepEqual(await niceness, own < CRAWL_REDIS_NICE ? [own, CRAWL_REDIS_NICE] : [own]);
  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.reason, `the crawl found ${reference.broken} broken links`);
  assert.deepEqual(
    report.workers.map((w) => [w.id, w.outcome, w.agent]),
    [
      [0, 'done', 'local-1'],
      [1, 'done', 'local-2'],
    ],
  );
  assertSameCrawl(report.crawl);
  // Template sampling is per agent: one page (/products/) lists the products, so one agent admits exactly `keep`.
  assert.equal(report.crawl!.sampledAway, 40 - 5);
  // robots.txt is per agent: the one-process crawl fetched it once, each agent once more.
  assert.equal(site.log.filter((r) => r.path === '/robots.txt').length, 3);
  // Every page crawled fetched once (the redirect chain's end twice), whichever agent fetched it.
  const crawled = new Set(reference.urls.filter((u) => u.mode === 'crawled').map((u) => u.url));
  for (const page of site.crawlablePages().filter((p) => crawled.has(p))) {
    const path = page.slice(site.origin.length);
    const gets = site.log.filter((r) => r.method === 'GET' && r.path === path).length;
    assert.ok(gets >= 1 && gets <= (path === '/page/1' ? 2 * 2 : 2), `${path} fetched ${gets} times over two crawls`);
  }
});

test('an agent killed mid-crawl: its URLs go to the other agent after the lease, the crawl still equals the ground truth, the run says it lost the agent (exit 1)', {
  timeout: 180_000,
}, async () => {
  const a = planrun(['agent', '--redis', redis.url, '--id', 'kill-a']);
  const b = planrun(['agent', '--redis', redis.url, '--id', 'kill-b']);
  await Promise.all([a.until(/waiting for runs/), b.until(/waiting for runs/)]);
  const out = join(dir, 'kill-out');
  const run = planrun([
    'run',
    await crawlPlan('kill', 80),
    '--redis',
    redis.url,
    '--agents',
    '2',
    '--crawl-lease',
    '1s',
    '--out',
    out,
    '--reporter',
    'json',
    '--run-id',
    'crawl-kill',
  ]);
  await b.until(/run crawl-kill, crawl/);
  await doneAtLeast('crawl-kill', 60);
  b.child.kill('SIGKILL');
  assert.equal(await run.exit, 1, run.stderr());
  const report = await readReport(join(out, 'report.json'));
  assert.match(report.reason ?? '', /^agent kill-b lost: no heartbeat for 5s; the crawl found \d+ broken links$/);
  assertSameCrawl(report.crawl);
  a.child.kill('SIGTERM');
  assert.equal(await a.exit, 0);
});

test('the whole run killed mid-crawl, then --resume: the crawl goes on from what Redis kept and ends with the same report', { timeout: 240_000 }, async () => {
  const plan = await crawlPlan('resume', 80);
  const agents = ['res-a', 'res-b'].map((id) => planrun(['agent', '--redis', redis.url, '--id', id]));
  await Promise.all(agents.map((a) => a.until(/waiting for runs/)));
  const first = planrun([
    'run',
    plan,
    '--redis',
    redis.url,
    '--agents',
    '2',
    '--crawl-lease',
    '1s',
    '--out',
    join(dir, 'resume-out-1'),
    '--reporter',
    'json',
    '--run-id',
    'crawl-resume',
  ]);
  await doneAtLeast('crawl-resume', 80);
  for (const p of [first, ...agents]) p.child.kill('SIGKILL');
  await Promise.all([first.exit, ...agents.map((a) => a.exit)]);
  const doneBefore = Number(await client.get('planrun:{crawl-resume}:frontier:done'));
  assert.ok(doneBefore < reference.crawled + reference.checked, `killed mid-crawl (${doneBefore} done)`);
  const requestsBefore = site.log.length;

  // The same agents come back (their old claims expire within seconds); the run goes on.
  const back = ['res-a', 'res-b'].map((id) => planrun(['agent', '--redis', redis.url, '--id', id]));
  await Promise.all(back.map((a) => a.until(/waiting for runs/)));
  const out = join(dir, 'resume-out-2');
  const resumed = planrun(['run', plan, '--redis', redis.url, '--agents', '2', '--resume', 'crawl-resume', '--out', out, '--reporter', 'json']);
  assert.equal(await resumed.exit, 1, resumed.stderr());
  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.run.runId, 'crawl-resume');
  assert.equal(report.reason, `the crawl found ${reference.broken} broken links`);
  assertSameCrawl(report.crawl);
  // It fetched only what was left (the in-flight URLs of the killed agents again, at most 2 × 4 of them).
  const fetchedAgain = site.log.slice(requestsBefore).filter((r) => r.method === 'GET' && !r.path.startsWith('/robots')).length;
  assert.ok(fetchedAgain < reference.crawled, `the resumed run fetched ${fetchedAgain} pages`);
  for (const a of back) a.child.kill('SIGTERM');
  assert.deepEqual(await Promise.all(back.map((a) => a.exit)), [0, 0]);
});

// After the test above: run crawl-resume is known to the Redis.
test('--resume refuses, exit 2: an unknown run id, another plan, an older storage layout, no --redis; a used run id without it', { timeout: 120_000 }, async () => {
  const plan = await crawlPlan('refused');
  const unknown = planrun(['run', plan, '--redis', redis.url, '--agents', '1', '--resume', 'no-such-run', '--reporter', 'json', '--out', join(dir, 'refused')]);
  assert.equal(await unknown.exit, 2);
  assert.match(
    unknown.stderr(),
    /^planrun run: run no-such-run is unknown to the Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: nothing to resume \(a run's keys expire 24h after it ends; check the run id\)\n$/,
  );
  const other = planrun(['run', await crawlPlan('other'), '--redis', redis.url, '--agents', '1', '--resume', 'crawl-resume', '--reporter', 'json', '--out', join(dir, 'refused')]);
  assert.equal(await other.exit, 2);
  assert.match(other.stderr(), /run crawl-resume ran another plan: .*other\.yml or the --var values changed since; resume it with the plan it ran\n$/);
  const reused = planrun(['run', plan, '--redis', redis.url, '--agents', '1', '--run-id', 'crawl-resume', '--reporter', 'json', '--out', join(dir, 'refused')]);
  assert.equal(await reused.exit, 2);
  assert.match(
    reused.stderr(),
    /run id crawl-resume was already used on the Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/?: give another --run-id, or --resume crawl-resume to continue its crawl\n$/,
  );
  // A run stored in another layout, then by a planrun from before layouts were recorded (no mark).
  const resumePlan = await crawlPlan('resume', 80);
  for (const [mark, stored] of [
    ['2', 'storage layout 2'],
    [undefined, 'a storage layout it did not record'],
  ] as const) {
    if (mark) await client.hSet('planrun:{crawl-resume}:meta', 'layout', mark);
    else await client.hDel('planrun:{crawl-resume}:meta', 'layout');
    const older = planrun(['run', resumePlan, '--redis', redis.url, '--agents', '1', '--resume', 'crawl-resume', '--reporter', 'json', '--out', join(dir, 'refused')]);
    assert.equal(await older.exit, 2);
    assert.ok(
      older
        .stderr()
        .endsWith(
          `run crawl-resume was stored by another version of planrun (${stored}; this one reads layout ${STORE_LAYOUT}): resume it with the planrun that started it, or run the plan again\n`,
        ),
      older.stderr(),
    );
  }
  const local = planrun(['run', plan, '--agents', '1', '--resume', 'crawl-resume']);
  assert.equal(await local.exit, 2);
  assert.match(local.stderr(), /--resume RUN_ID needs --redis URL and --agents N: the run is resumed from what that Redis kept/);
});

test('Ctrl-C mid-crawl: the agents stop their crawl, the report holds what was stored (stoppedBy aborted), exit 130', { timeout: 180_000 }, async () => {
  const agents = ['int-a', 'int-b'].map((id) => planrun(['agent', '--redis', redis.url, '--id', id]));
  await Promise.all(agents.map((a) => a.until(/waiting for runs/)));
  const out = join(dir, 'interrupt-out');
  const run = planrun(['run', await crawlPlan('interrupt', 40), '--redis', redis.url, '--agents', '2', '--out', out, '--reporter', 'json', '--run-id', 'crawl-interrupt']);
  await doneAtLeast('crawl-interrupt', 20);
  run.child.kill('SIGINT');
  assert.equal(await run.exit, 130, run.stderr());
  const report = await readReport(join(out, 'report.json'));
  assert.equal(report.outcome, 'aborted');
  assert.equal(report.crawl?.stoppedBy, 'aborted');
  const stored = report.crawl!.crawled + report.crawl!.checked;
  assert.ok(stored >= 20 && stored < reference.crawled + reference.checked, `${stored} URLs reported`);
  await Promise.all(agents.map((a) => a.until(/run crawl-interrupt aborted; waiting for runs/)));
  for (const a of agents) a.child.kill('SIGTERM');
  assert.deepEqual(await Promise.all(agents.map((a) => a.exit)), [0, 0]);
});
