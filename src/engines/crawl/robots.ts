// robots.txt, fetched once per origin (the promise is cached so concurrent
// workers share one fetch) and parsed by robots-parser. A missing or failing
// robots.txt allows everything, as crawlers conventionally do.
import robotsParserModule from 'robots-parser';
import type { Fetcher, Hop } from './fetcher.js';

// The package is CommonJS (`module.exports = fn`) but its types declare an ES default export.
const robotsParser = robotsParserModule as unknown as typeof robotsParserModule.default;
type Robot = ReturnType<typeof robotsParser>;

const MAX_ROBOTS_BYTES = 512 * 1024;

export class RobotsCache {
  private readonly byOrigin = new Map<string, Promise<Robot | undefined>>();

  constructor(
    private readonly fetcher: Fetcher,
    private readonly userAgent: string,
  ) {}

  async allowed(url: string): Promise<boolean> {
    const origin = new URL(url).origin;
    let robot = this.byOrigin.get(origin);
    if (!robot) {
      robot = this.load(origin);
      this.byOrigin.set(origin, robot);
    }
    const r = await robot;
    return r ? r.isAllowed(url, this.userAgent) !== false : true;
  }

  private async load(origin: string): Promise<Robot | undefined> {
    const url = `${origin}/robots.txt`;
    try {
      const hop = await this.fetcher.fetch(url, 'GET');
      if (hop.status < 200 || hop.status >= 300) {
        await this.fetcher.discard(hop);
        return undefined;
      }
      return await readRobots(this.fetcher, hop, url);
    } catch {
      return undefined;
    }
  }
}

/** Reads and parses a robots.txt answer (its first 512 KiB). Rejects with the fetcher's FetchError. */
export async function readRobots(fetcher: Fetcher, hop: Hop, url: string): Promise<Robot> {
  let text = '';
  const decoder = new TextDecoder();
  await fetcher.consume(hop, (chunk) => {
    // Past the cap the rest is read and dropped, so the connection stays reusable.
    if (text.length <= MAX_ROBOTS_BYTES) text += decoder.decode(chunk, { stream: true });
  });
  return robotsParser(url, text);
}
