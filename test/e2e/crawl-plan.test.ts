// plans/crawl.yml loads, and its rules find exactly the ground truth of the
// generated site it is written for (the site served on a free port here);
// bad crawl rules are refused by `planrun validate`, each at its line.
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePlan } from '../../src/plan/load.js';
import { crawlRules } from '../../src/engines/crawl/rules.js';
import { crawl } from '../../src/engines/crawl/crawler.js';
import { startSite } from '../fixtures/site/site.js';
import { planrunSync } from '../helpers/cli-helpers.js';
import { brokenOf, normalizeTruth } from '../helpers/crawl-helpers.js';

const planFile = fileURLToPath(new URL('../../plans/crawl.yml', import.meta.url));

test('plans/crawl.yml: its crawl rules find exactly the ground truth', async () => {
  const site = await startSite({ pages: 200, products: 2000 });
  try {
    // The plan as written, pointed at the site's free port.
    const plan = parsePlan(readFileSync(planFile, 'utf8').replace('target: http://127.0.0.1:9020', `target: ${site.origin}`), planFile);
    assert.ok(plan.crawl);
    assert.equal(plan.crawl.loc.line, 17);
    assert.deepEqual(plan.crawl.start, [`${site.origin}/`]);
    const report = await crawl(crawlRules(plan.crawl, {}), { frontier: new MemoryFrontier() });
    assert.equal(report.stoppedBy, 'complete');
    const expected = normalizeTruth([...site.truth(), ...site.fragmentTruth()]).sort((a, b) => (a.url < b.url ? -1 : 1));
    assert.deepEqual(brokenOf(report), expected);
    assert.equal(report.sampledAway, 2000 - 20);
  } finally {
    await site.close();
  }
});

test('planrun validate refuses bad crawl rules, each at its own line and column, before anything runs', () => {
  const file = 'test/fixtures/plan/bad/sem-crawl-rules.yml';
  const r = planrunSync(['validate', file]);
  assert.equal(r.code, 2);
  assert.deepEqual(
    r.stderr
      .split('\n')
      .filter((l) => l.startsWith(file))
      .map((l) => /^[^:]+:(\d+:\d+): error: (crawl[^:]*):/.exec(l)!.slice(1).join(' ')),
    ['10:7 crawl.start[0]', '11:7 crawl.start[1]', '14:30 crawl.scope.origins[1]', '15:27 crawl.scope.include[1]', '16:23 crawl.follow[1]', '19:18 crawl.expect.contentType'],
  );
  assert.match(r.stderr, /\n6 errors in test\/fixtures\/plan\/bad\/sem-crawl-rules\.yml\n$/);
});
