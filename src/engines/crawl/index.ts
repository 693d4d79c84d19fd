// Entry point of the runner's `crawl` phase: renders the crawl headers (which
// may use shared values set by scenario steps, e.g. a login cookie) into the
// plan's compiled crawl and runs the crawler, relaying progress as
// crawl:progress events.
import type { Frontier } from '../../contract/frontier.js';
import type { RunContext } from '../../contract/engine.js';
import type { CrawlReport } from '../../contract/report.js';
import type { TemplateScope } from '../../contract/plan.js';
import { crawl } from './crawler.js';
import { crawlRules } from './rules.js';

export { crawl, Crawler } from './crawler.js';
export { crawlRules, type CrawlRules } from './rules.js';
export { summarizeStored } from './summary.js';

function crawlScope(run: RunContext): TemplateScope {
  return {
    worker: { id: 0, role: 'crawl', index: 0 },
    round: 1,
    run: { id: run.runId },
    vars: run.plan.vars,
    captures: {},
    shared: run.coordinator.sharedSnapshot(),
    env: run.plan.env,
  };
}

/** The crawl's headers (plan headers then crawl headers), templates rendered now (after the scenario ran). */
export function renderCrawlHeaders(run: RunContext): Record<string, string> {
  const scope = crawlScope(run);
  const headers: Record<string, string> = {};
  for (const [name, t] of Object.entries(run.plan.crawl?.headers ?? {})) headers[name] = t.renderString(scope);
  // A login cookie shared by the scenario must not show up if a crawled page echoes it.
  run.redactor.learnHeaders(headers);
  return headers;
}

export async function runCrawl(run: RunContext, frontier: Frontier): Promise<CrawlReport> {
  if (!run.plan.crawl) throw new Error('the plan has no crawl block');
  const rules = crawlRules(run.plan.crawl, renderCrawlHeaders(run));
  return crawl(rules, {
    frontier,
    signal: run.signal,
    onProgress: (progress) => run.emit({ type: 'crawl:progress', time: Date.now(), progress }),
  });
}
