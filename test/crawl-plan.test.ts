// plans/crawl.yml loads, and its rules find exactly the ground truth of the
// generated site it is written for (the site served on a free port here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadPlan } from '../src/plan/load.js';
import { compileCrawlRules } from '../src/engines/crawl/rules.js';
import { crawl } from '../src/engines/crawl/crawler.js';
import { startSite } from './fixtures/site/site.js';
import { brokenOf, normalizeTruth } from './crawl-helpers.js';

const planFile = fileURLToPath(new URL('../plans/crawl.yml', import.meta.url));

test('plans/crawl.yml: its crawl rules find exactly the ground truth', async () => {
  const plan = await loadPlan(planFile);
  assert.ok(plan.crawl);
  assert.equal(plan.crawl.loc.line, 17);
  const site = await startSite({ pages: 200, products: 2000 });
  try {
    const rules = compileCrawlRules(plan.crawl, { target: new URL(site.origin), workers: plan.workers, stepTimeoutMs: plan.stepTimeoutMs, loc: plan.crawl.loc });
    const report = await crawl(rules);
    assert.equal(report.stoppedBy, 'complete');
    const expected = normalizeTruth([...site.truth(), ...site.fragmentTruth()]).sort((a, b) => (a.url < b.url ? -1 : 1));
    assert.deepEqual(brokenOf(report), expected);
    assert.equal(report.sampledAway, 2000 - 20);
  } finally {
    await site.close();
  }
});
