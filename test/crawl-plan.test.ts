// plans/crawl.yml loads, and its rules find exactly the ground truth of the
// generated site it is written for (the site served on a free port here).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parsePlan } from '../src/plan/load.js';
import { crawlRules } from '../src/engines/crawl/rules.js';
import { crawl } from '../src/engines/crawl/crawler.js';
import { startSite } from './fixtures/site/site.js';
import { brokenOf, normalizeTruth } from './crawl-helpers.js';

const planFile = fileURLToPath(new URL('../plans/crawl.yml', import.meta.url));

test('plans/crawl.yml: its crawl rules find exactly the ground truth', async () => {
  const site = await startSite({ pages: 200, products: 2000 });
  try {
    // The plan as written, pointed at the site's free port.
    const plan = parsePlan(readFileSync(planFile, 'utf8').replace('target: http://127.0.0.1:9020', `target: ${site.origin}`), planFile);
    assert.ok(plan.crawl);
    assert.equal(plan.crawl.loc.line, 17);
    assert.deepEqual(plan.crawl.start, [`${site.origin}/`]);
    const report = await crawl(crawlRules(plan.crawl, {}));
    assert.equal(report.stoppedBy, 'complete');
    const expected = normalizeTruth([...site.truth(), ...site.fragmentTruth()]).sort((a, b) => (a.url < b.url ? -1 : 1));
    assert.deepEqual(brokenOf(report), expected);
    assert.equal(report.sampledAway, 2000 - 20);
  } finally {
    await site.close();
  }
});
