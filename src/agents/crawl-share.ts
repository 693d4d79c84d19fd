// An agent's part of the crawl phase: the plan's crawl rules with the headers the
// controller rendered, a RedisFrontier shared with the other agents (leases in
// this agent's name), the Redis crawl store for every visit and the run's count
// of sitemaps read (maxSitemaps across agents). It crawls until
// the shared frontier is empty and nothing is in flight anywhere; its progress
// goes to the controller with its other events.
import { RedisCrawlStore } from '../coordination/redis/crawl-store.js';
import type { RedisConnection } from '../coordination/redis/connect.js';
import { RedisFrontier } from '../coordination/redis/frontier.js';
import { RedisSitemapBudget } from '../coordination/redis/sitemap-budget.js';
import type { RunEvent } from '../contract/events.js';
import type { CrawlJob, ShareEnd } from './protocol.js';

/** Entries an agent leases ahead per crawl worker. */
const PREFETCH_PER_WORKER = 4;

export async function crawlShare(client: RedisConnection, agentId: string, job: CrawlJob, signal: AbortSignal, push: (e: RunEvent) => void): Promise<ShareEnd> {
  const [{ parsePlan }, { crawl, crawlRules }] = await Promise.all([import('../plan/load.js'), import('../engines/crawl/index.js')]);
  const plan = parsePlan(job.planText, job.planFile, { vars: job.vars });
  if (!plan.crawl) throw new Error('the plan has no crawl block');
  // Never a binary named by the plan: it came through Redis.
  delete plan.crawl.browser?.executablePath;
  const rules = crawlRules(plan.crawl, job.headers);
  // The limit is the site's: the agents' requests together keep to it.
  rules.rateLimit /= job.agents;
  // A stock of a few entries per worker: takes are answered locally and restocked in bigger calls (the frontier keeps
  // the stock no larger than what the queue leaves the other agents).
  const frontier = await RedisFrontier.open({ client, runId: job.runId, agentId, leaseMs: job.leaseMs, prefetch: PREFETCH_PER_WORKER * rules.concurrency });
  try {
    const report = await crawl(rules, {
      frontier,
      sink: new RedisCrawlStore(client, job.runId),
      // maxSitemaps is the run's: all agents together read at most that many sitemaps.
      sitemapBudget: new RedisSitemapBudget(client, job.runId, rules.sitemapLimits.maxSitemaps),
      signal,
      onProgress: (progress) => push({ type: 'crawl:progress', time: Date.now(), progress }),
    });
    return {
      outcome: report.stoppedBy === 'aborted' ? 'aborted' : 'passed',
      crawl: {
        stoppedBy: report.stoppedBy,
        startUrls: report.startUrls,
        ...(report.seeds ? { seeds: report.seeds } : {}),
        requests: report.requests ?? 0,
        retries: report.retries ?? { network: 0, status: 0 },
      },
    };
  } finally {
    await frontier.close();
  }
}
