// What the controller and its agents write to Redis, and where. Agents never
// talk to the controller or to each other: each side only reads and writes
// these keys (see docs/agents.md, "Processes").
import { runKey } from '../coordination/redis/keys.js';
import type { CrawlReport } from '../contract/report.js';

/** An agent refreshes its presence this often… */
export const HEARTBEAT_MS = 1_000;
/** …and is lost once it has not for this long (the key's TTL). Same for the controller's presence. */
export const LOST_AFTER_MS = 5_000;
/** Agents tell how far they applied the coordination log this often; the controller trims what all applied this often. */
export const LOG_TELL_MS = 1_000;
export const LOG_TRIM_MS = 2_000;

const AGENT_ID = /^[A-Za-z0-9._-]{1,100}$/;

export function checkAgentId(id: string): string {
  if (!AGENT_ID.test(id)) throw new Error(`invalid agent id ${JSON.stringify(id)}: use 1 to 100 letters, digits, ".", "_" or "-"`);
  return id;
}

/** Presence of an agent (TTL LOST_AFTER_MS, value: AgentInfo as JSON); SCAN `planrun:agent:*` lists them. */
export const agentKey = (id: string) => `planrun:agent:${id}`;
/** The run an agent is claimed by (SET NX by a controller; TTL refreshed while the run lives). */
export const claimKey = (id: string) => `planrun:agent:${id}:run`;
/** Jobs and stop orders for one agent (a list; the agent BLPOPs it). */
export const inboxKey = (id: string) => `planrun:agent:${id}:inbox`;
/** Agent presence keys, and only those (not their :run / :inbox keys). */
export const AGENT_KEY = /^planrun:agent:([A-Za-z0-9._-]{1,100})$/;

/** The controller's presence for a run: agents stop their part once it is gone. */
export const controllerKey = (runId: string) => runKey(runId, 'controller');
/** Events and ends of the agents' shares, in batches (stream; fields below). */
export const eventsKey = (runId: string) => runKey(runId, 'events');
/** What `--resume` checks (hash): `plan` = hash of the plan's text and --var values, `crawl` = `started` / `done`, `layout` = STORE_LAYOUT. */
export const metaKey = (runId: string) => runKey(runId, 'meta');

/**
 * What a controller and its agents must agree on: the jobs, the events and how they are batched, the keys a run keeps
 * (STORE_LAYOUT). Bump it with any change to one of them. A controller does not claim an agent that announces
 * another (one started from another planrun), and says so.
 */
export const AGENT_PROTOCOL = 1;

export interface AgentInfo {
  host: string;
  pid: number;
  /** AGENT_PROTOCOL of the agent's planrun; absent from agents older than it. */
  protocol?: number;
}

/** What a controller hands an agent: the plan as text (the agent compiles it itself) and its share of the workers. */
export interface Job {
  type: 'run';
  runId: string;
  planFile: string;
  planText: string;
  vars: Record<string, string>;
  seed?: number;
  workers: number[];
  startedAt: number;
  reportDir: string;
  headed: boolean;
  /** The report's timeline cap (--timeline-cap), when not the default: the agent samples its tallied results for it. */
  timelineCap?: number;
}

/** The crawl phase: every agent crawls with the shared frontier and store until nothing is left. */
export interface CrawlJob {
  type: 'crawl';
  runId: string;
  planFile: string;
  planText: string;
  vars: Record<string, string>;
  /** The crawl's headers, rendered by the controller (they may use values shared by the workers). */
  headers: Record<string, string>;
  /** The agents crawling: each takes this share of the crawl's rate limit. */
  agents: number;
  /** How long a URL an agent took stays its own without renewal (then it goes back to the queue). */
  leaseMs: number;
}

export type InboxMessage = Job | CrawlJob | { type: 'stop'; runId: string; reason: string };

/**
 * Stream entries of `eventsKey`: `a` = agent id and either `b` = JSON array of
 * RunEvents (a batch) or `d` = JSON ShareEnd (the agent's share is over, sent
 * after its last batch).
 */
export interface ShareEnd {
  outcome: 'passed' | 'failed' | 'aborted';
  /** Why it stopped: an abort-run reason, or a failure of the agent itself. */
  reason?: string;
  /** True when the reason is an abort-run of a worker: the controller stops the whole run with it. */
  abortRun?: boolean;
  /** A crawl share: how this agent's crawl stopped, and its requests (the rest of its results are in the store). */
  crawl?: { stoppedBy: 'complete' | 'maxPages' | 'aborted'; startUrls: string[]; seeds?: CrawlReport['seeds']; requests: number; retries: { network: number; status: number } };
}

/** An error's message, never empty: a refused connection can be an AggregateError without one. */
export function errorText(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  if (e.message) return e.message;
  if (e instanceof AggregateError) return e.errors.map(errorText).join('; ');
  return e.name;
}
