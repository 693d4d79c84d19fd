// Entry point of the runner's `crawl` phase: renders the crawl headers (which
// may use shared values set by scenario steps, e.g. a login cookie), compiles
// the rules and runs the crawler, relaying progress as crawl:progress events.
import type { RunContext } from '../../runtime/context.js';
import type { CrawlReport } from '../../reporting/report.js';
import type { TemplateScope } from '../../plan/model.js';
import { compileTemplate } from '../../plan/template.js';
import { PlanError } from '../../plan/issues.js';
import { crawl } from './crawler.js';
import { rulesFromPlan } from './rules.js';

export { crawl, Crawler } from './crawler.js';
export { compileCrawlRules, type CrawlRules } from './rules.js';

function crawlScope(run: RunContext): TemplateScope {
  return {
    worker: { id: 0, role: 'crawl', index: 0 },
    round: 1,
    run: { id: run.runId },
    vars: run.plan.vars,
    captures: {},
    shared: run.coordinator.sharedSnapshot(),
    env: process.env,
  };
}

/** Plan headers then crawl headers, templates rendered now (after the scenario ran). */
export function renderCrawlHeaders(run: RunContext): Record<string, string> {
  const scope = crawlScope(run);
  const headers: Record<string, string> = {};
  for (const [name, t] of Object.entries(run.plan.http.headers)) headers[name.toLowerCase()] = t.renderString(scope);
  const loc = run.plan.crawl?.loc ?? { file: run.plan.file, line: 1, col: 1 };
  for (const [name, value] of Object.entries(run.plan.crawl?.headers ?? {})) {
    try {
      headers[name.toLowerCase()] = compileTemplate(String(value)).renderString(scope);
    } catch (e) {
      throw new PlanError([{ ...loc, message: `crawl.headers.${name}: ${(e as Error).message}`, severity: 'error' }]);
    }
  }
  return headers;
}

export async function runCrawl(run: RunContext): Promise<CrawlReport> {
  const rules = rulesFromPlan(run.plan, renderCrawlHeaders(run));
  return crawl(rules, {
    signal: run.signal,
    onProgress: (progress) => run.emit({ type: 'crawl:progress', time: Date.now(), progress }),
  });
}
