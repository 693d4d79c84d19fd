// A synthetic link graph crawled through any Frontier, with no HTTP: for the
// frontier tests (every URL once, exact termination) and the agents bench.
import type { Frontier, FrontierEntry } from '../../src/contract/frontier.js';

export const entry = (url: string, depth = 0): FrontierEntry => ({ url, depth, checkOnly: false });
export const page = (i: number) => `https://site.test/section/page-${i}`;

/** Page i links to page i + 1 (so every page is reachable from page 0) and to two pseudo-random others. */
export function links(i: number, pages: number): number[] {
  return [i + 1, (i * 7 + 3) % pages, (i * 13 + 5) % pages].filter((j) => j < pages);
}

export interface GraphCrawl {
  /** URLs in the order they were taken, over all agents and workers. */
  fetched: string[];
  /** How many URLs had been taken when each worker's take() resolved undefined. */
  endedAfter: number[];
}

/** `concurrency` workers per frontier crawl the graph from page 0, as the crawler does: take, add the links, complete. */
export async function crawlGraph(agents: Frontier[], pages: number, concurrency: number, pause?: () => Promise<void>): Promise<GraphCrawl> {
  const fetched: string[] = [];
  const endedAfter: number[] = [];
  await agents[0]!.addAll([entry(page(0))]);
  const worker = async (f: Frontier) => {
    for (;;) {
      const e = await f.take();
      if (!e) {
        endedAfter.push(fetched.length);
        return;
      }
      fetched.push(e.url);
      await pause?.();
      const i = Number(e.url.slice(e.url.lastIndexOf('-') + 1));
      await f.addAll(links(i, pages).map((j) => entry(page(j), e.depth + 1)));
      await f.complete(e);
    }
  };
  await Promise.all(agents.flatMap((f) => Array.from({ length: concurrency }, () => worker(f))));
  return { fetched, endedAfter };
}
