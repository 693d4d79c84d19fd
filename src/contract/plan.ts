// The typed model a plan compiles into. Everything after src/plan/ reads this,
// never the raw YAML: durations are milliseconds, roles are resolved to worker
// ids, templates are parsed, steps are a discriminated union.

/** Where something came from in the plan file (1-based line and column). */
export interface SourceLoc {
  file: string;
  line: number;
  col: number;
}

/** What a template can see while it renders. */
export interface TemplateScope {
  worker: { id: number; role: string; index: number };
  round: number;
  run: { id: string };
  vars: Record<string, unknown>;
  captures: Record<string, unknown>;
  shared: Record<string, unknown>;
  env: Record<string, string | undefined>;
  /** The worker's current row of each data set (`{{ data.users.email }}`). */
  data?: Record<string, unknown>;
  /** Where uuid(), randomInt()… draw from; not reachable from expressions. Default: unseeded. */
  random?: RandomSource;
}

/** A parsed `{{ … }}` template. A string that is one whole expression renders to its raw value. */
export interface Template {
  readonly source: string;
  /** True when the source has no `{{ }}`: render() is then constant. */
  readonly isStatic: boolean;
  render(scope: TemplateScope): unknown;
  renderString(scope: TemplateScope): string;
}

/** A JSON-like value with templates inside its strings (request bodies, set/share values). */
export interface ValueTemplate {
  render(scope: TemplateScope): unknown;
}

export type OnError = 'continue' | 'skip-round' | 'stop-worker' | 'abort-run';
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';
/** `keep` (every header) or header names kept besides the safe ones, on a redirect to another origin. */
export type RedirectHeaders = 'keep' | string[];
export const REPORTER_NAMES = ['live', 'plain', 'json', 'junit', 'html', 'markdown'] as const;
export type ReporterName = (typeof REPORTER_NAMES)[number];

/** Where generated values get their randomness (plan/random.ts makes them). */
export interface RandomSource {
  /** A float in [0, 1). */
  next(): number;
  /** A version 4 UUID. */
  uuid(): string;
}
export type BarrierScope = 'round' | 'previous-round' | 'run';

export interface RoleSpec {
  name: string;
  workers: number[];
  /** The role's schedule (`rate` or `stages`); absent: the closed model (every worker runs rounds until rounds or duration end). */
  load?: LoadModel;
}

/**
 * One linear piece of a load schedule: the level goes from `from` to `to` over
 * `durationMs`, starting `startMs` after the role starts. The level is
 * iterations per second (arrival rate) or active workers (ramping workers).
 */
export interface LoadSegment {
  startMs: number;
  durationMs: number;
  from: number;
  to: number;
}

/**
 * `arrival-rate`: iterations start on the schedule, each on a free worker of the
 * role's pool, or are dropped. `ramping-workers`: worker j of the role runs
 * iterations while the level is at least j + 1. Both end after `durationMs`.
 */
export interface LoadModel {
  kind: 'arrival-rate' | 'ramping-workers';
  segments: LoadSegment[];
  durationMs: number;
}

export interface EventBarrier {
  kind: 'event';
  name: string;
  signalRoles: string[];
  waitRoles: string[];
  /** Worker ids that signal / wait, derived from the roles. */
  signalers: number[];
  waiters: number[];
  scope: BarrierScope;
  /** Signals needed to release a waiter. Default: signalers.length. */
  count: number;
  timeoutMs: number;
  loc: SourceLoc;
}

export interface MeetingBarrier {
  kind: 'meeting';
  name: string;
  partyRoles: string[];
  parties: number[];
  timeoutMs: number;
  loc: SourceLoc;
}

export type BarrierSpec = EventBarrier | MeetingBarrier;

export interface MatcherSpec {
  equals?: unknown;
  contains?: string;
  notContains?: string;
  matches?: RegExp;
  lt?: number;
  lte?: number;
  gt?: number;
  gte?: number;
  oneOf?: unknown[];
  exists?: boolean;
}

/** A matcher whose strings may hold templates (`text: "round {{ round }}"`), rendered when the step runs. */
export interface MatcherTemplate {
  /** True when no string holds a template: render() gives the same spec for any scope. */
  readonly isStatic: boolean;
  render(scope: TemplateScope): MatcherSpec;
}

export type CaptureSpec =
  | { name: string; from: 'json'; path: string }
  | { name: string; from: 'header'; header: string }
  | { name: string; from: 'regex'; regex: RegExp; group: number }
  | { name: string; from: 'status' }
  | { name: string; from: 'body' }
  | { name: string; from: 'text'; selector: Template }
  | { name: string; from: 'attribute'; attribute: string; selector: Template }
  | { name: string; from: 'url' }
  | { name: string; from: 'title' };

/**
 * Capture sources read from the page rather than from the last HTTP response: the
 * one list the compiler (checks.ts), the step router (runtime/steps.ts) and the
 * browser engine go by.
 */
export const PAGE_CAPTURE_SOURCES = ['text', 'attribute', 'url', 'title'] as const satisfies readonly CaptureSpec['from'][];
export type PageCaptureSpec = Extract<CaptureSpec, { from: (typeof PAGE_CAPTURE_SOURCES)[number] }>;

export function isPageCapture(c: CaptureSpec): c is PageCaptureSpec {
  return (PAGE_CAPTURE_SOURCES as readonly string[]).includes(c.from);
}

export interface HttpExpectSpec {
  /** Accepted statuses; undefined means 2xx or 3xx. */
  status?: (status: number) => boolean;
  statusText?: string;
  headers: Array<{ name: string; matcher: MatcherSpec }>;
  body?: MatcherSpec;
  json: Array<{ path: string; matcher: MatcherSpec }>;
  maxDurationMs?: number;
}

export type RequestBody = { type: 'none' } | { type: 'json'; value: ValueTemplate } | { type: 'form'; fields: Record<string, Template> } | { type: 'raw'; text: Template };

export interface RequestSpec {
  method: HttpMethod;
  url: Template;
  headers: Record<string, Template>;
  query: Record<string, Template>;
  body: RequestBody;
  maxRedirects?: number;
  /** Bytes of the response body kept (plan default: http.maxBodySize). */
  maxBodySize?: number;
  /** Headers kept on a redirect to another origin; undefined: the plan's `http.redirectHeaders`. */
  redirectHeaders?: RedirectHeaders;
  captures: CaptureSpec[];
  expect: HttpExpectSpec;
}

export type BrowserActionSpec =
  | { action: 'goto'; url: Template }
  | { action: 'click'; selector: Template }
  | { action: 'fill'; selector: Template; value: Template }
  | { action: 'type'; text: Template; into: Template }
  | { action: 'press'; key: Template; on?: Template }
  | { action: 'select'; selector: Template; option: Template }
  | { action: 'waitFor'; selector?: Template; state?: 'attached' | 'detached' | 'visible' | 'hidden'; text?: Template; url?: Template }
  | { action: 'reload' }
  | { action: 'screenshot'; file: Template };

/** What a message awaited by a `ws: { expect }` step must satisfy; empty lists take any message. */
export interface WsExpectSpec {
  /** Checks on the message text (`text`, `matches`). */
  text: MatcherTemplate[];
  json: Array<{ path: string; matcher: MatcherTemplate }>;
}

export type WsMessageSpec = { type: 'text'; text: Template } | { type: 'json'; value: ValueTemplate };

export type WsActionSpec =
  | { action: 'connect'; url: Template; headers: Record<string, Template>; protocols: Template[] }
  | { action: 'send'; message: WsMessageSpec }
  | { action: 'expect'; expect: WsExpectSpec; withinMs?: number; captures: CaptureSpec[] }
  | { action: 'close' };

export type PageExpectSpec =
  | { check: 'text'; text: Template; in?: Template }
  | { check: 'visible'; selector: Template }
  | { check: 'hidden'; selector: Template }
  | { check: 'count'; selector: Template; equals: number }
  | { check: 'url'; matcher: MatcherSpec }
  | { check: 'title'; matcher: MatcherSpec };

export type ExpectSpec =
  | { on: 'response'; expect: HttpExpectSpec }
  | { on: 'page'; checks: PageExpectSpec[]; withinMs?: number }
  | { on: 'value'; value: ValueTemplate; matcher: MatcherSpec };

interface StepBase {
  /** Stable id: role-or-all path, e.g. `writer/3` or `reader/2.1` inside a group. */
  id: string;
  name: string;
  if?: Template;
  timeoutMs?: number;
  onError?: OnError;
  loc: SourceLoc;
}

export type StepSpec = StepBase &
  (
    | { kind: 'request'; request: RequestSpec }
    | { kind: 'browser'; browser: BrowserActionSpec }
    | { kind: 'ws'; ws: WsActionSpec }
    | { kind: 'signal'; barrier: string }
    | { kind: 'wait'; barrier: string }
    | { kind: 'barrier'; barrier: string }
    /** A template: rendered and parsed as a duration when the step runs. */
    | { kind: 'sleep'; ms: number | Template }
    | { kind: 'set'; values: Record<string, ValueTemplate>; shared: boolean }
    | { kind: 'capture'; captures: CaptureSpec[] }
    | { kind: 'expect'; expect: ExpectSpec }
    | { kind: 'group'; steps: StepSpec[] }
    | { kind: 'loop'; times?: Template; over?: ValueTemplate; as: string; steps: StepSpec[] }
  );

export type StepKind = StepSpec['kind'];

export interface ServiceSpec {
  name: string;
  command: string;
  /** Absolute working directory (relative paths resolve against the plan's folder). */
  cwd: string;
  env: Record<string, string>;
  readyUrl?: string;
  readyLog?: RegExp;
  timeoutMs: number;
  loc: SourceLoc;
}

export interface BrowserSpec {
  executablePath?: string;
  headless: boolean;
  args: string[];
  viewport?: { width: number; height: number };
}

export type ThresholdStat = 'count' | 'min' | 'mean' | 'max' | 'p50' | 'p90' | 'p95' | 'p99' | 'errors' | 'rate';

export interface ThresholdSpec {
  /** `http`, `steps`, `browser`, `crawl`, `step.NAME` or `barrier.NAME.wait`. */
  selector: string;
  /** The condition as written, e.g. `p95 < 500ms`. */
  source: string;
  stat: ThresholdStat;
  op: '<' | '<=' | '>' | '>=' | '==';
  /** Milliseconds for latency stats, a fraction 0..1 for errors, a plain number otherwise. */
  value: number;
  /** Also checked during the workers phase: a failure stops the run (see threshold-watch.ts). */
  abortOnFail?: { graceMs: number };
  loc: SourceLoc;
}

/** What outputs must not show; the redactor adds the default header and query names. */
export interface RedactSpec {
  /** Values secret before the run starts: secret vars, after env lookups and --var overrides. */
  secrets: string[];
  /** Header names whose values are secret, besides the defaults. */
  headers: string[];
  /** Query parameter name fragments (case-insensitive) whose values are secret, besides the defaults. */
  query: string[];
}

/** Tests a URL path: a glob, a /regex/ or a `/product/:id` template, compiled (see path-patterns.ts). */
export type PathMatcher = (path: string) => boolean;

/** An element/attribute pair links are read from, e.g. `img[srcset]`; `link[rel=stylesheet]` narrows by rel. */
export interface LinkSelector {
  tag: string;
  attr: string;
  rel?: string;
  /** Shown in referrers, e.g. `a[href]`. */
  label: string;
}

export interface NormalizeRules {
  query: 'keep' | 'sort' | 'strip';
  stripParams: ReadonlySet<string>;
  trailingSlash: 'keep' | 'add' | 'strip';
}

export interface CrawlBrowserOptions {
  executablePath?: string;
  headless: boolean;
  args: string[];
}

/** The `crawl:` block compiled: URLs resolved, durations in ms, patterns compiled, defaults applied. */
/** A source of start URLs other than a plain URL in `crawl.start`. */
export type CrawlSeed =
  /** A sitemap or sitemap index (gzipped or not): its URLs are start URLs. */
  | { kind: 'sitemap'; url: string }
  /** A robots.txt: the sitemaps of its `Sitemap:` lines are read. */
  | { kind: 'robots'; url: string }
  /** A file of URLs, read and checked when the plan loads. */
  | { kind: 'urls'; file: string; urls: string[] };

/** Bounds on what seeding from sitemaps reads (the sitemap protocol's limits and ours). */
export interface SitemapLimits {
  /** Bytes of one sitemap, after gunzip. */
  maxBytes: number;
  /** Entries of one sitemap or sitemap index. */
  maxEntries: number;
  /** Sitemap indexes in a chain: a sitemap listed by more nested indexes is not read. */
  maxNesting: number;
  /** Sitemaps (indexes included) read by one crawl. */
  maxSitemaps: number;
}

export interface CrawlSpec {
  /** Absolute start URLs (relative ones resolved against the target); the crawler normalises them. */
  start: string[];
  /** Sitemaps, robots.txt files and URL files of `crawl.start`, in plan order. */
  seeds: CrawlSeed[];
  sitemapLimits: SitemapLimits;
  /** The in-scope origins: `scope.origins`, else those of the start URLs. */
  origins: Set<string>;
  include: PathMatcher[];
  exclude: PathMatcher[];
  outOfScope: 'check' | 'ignore';
  maxDepth: number;
  maxPages: number;
  concurrency: number;
  timeoutMs: number;
  retries: number;
  /** Longest Retry-After honoured; longer ones are cut to this. */
  maxRetryAfterMs: number;
  /** First backoff after a network error; doubles each retry. */
  backoffMs: number;
  /** Requests per second per origin; Infinity = no limit. */
  rateLimit: number;
  robots: 'respect' | 'ignore';
  userAgent: string;
  /** The plan's then the crawl's headers (lower-case names), rendered when the crawl starts; sent to the in-scope origins only. */
  headers: Record<string, Template>;
  /** Which headers a redirect to another in-scope origin keeps (the plan's `http.redirectHeaders`). */
  redirectHeaders: RedirectHeaders;
  follow: LinkSelector[];
  check: LinkSelector[];
  fragments: boolean;
  normalize: NormalizeRules;
  templates: Array<{ pattern: string; match: PathMatcher; keep: number }>;
  contentSampling: boolean;
  /** Max Hamming distance between 64-bit simhashes counted as near-identical; 0 = identical text only. */
  similarityBits: number;
  expect: {
    status: (status: number) => boolean;
    contentType?: RegExp;
    maxDurationMs?: number;
    text: string[];
    notText: string[];
    title: boolean;
  };
  maxRedirects: number;
  /** Browser mode: crawled pages are rendered by Chromium and their links read from the DOM. */
  browser?: CrawlBrowserOptions;
  /** Keep at most this many URLs in the report's `urls` (broken ones are always all kept). */
  maxReportedUrls: number;
  loc: SourceLoc;
}

export interface CompiledPlan {
  /** Absolute path of the plan file. */
  file: string;
  name: string;
  description?: string;
  target?: URL;
  /** Plan vars after env lookups and --var overrides; strings may still hold templates. */
  vars: Record<string, unknown>;
  /** The vars compiled as templates (`pad: "p-{{ run.id }}"`): each worker renders them once, in round 1's scope. */
  varsTemplate: ValueTemplate;
  /** The environment variables the plan's templates name (`env.NAME`), read at load time: templates see nothing else. */
  env: Record<string, string>;
  redact: RedactSpec;
  services: ServiceSpec[];
  browser: BrowserSpec;
  /**
   * `redirectHeaders`: [] (the safe headers only) unless the plan says otherwise;
   * `maxBodySize`: bytes of each response body kept; the rest is counted, not kept.
   */
  http: { headers: Record<string, Template>; maxRedirects: number; redirectHeaders: RedirectHeaders; connections: number; maxBodySize: number };
  workers: number;
  /** Rounds per worker; undefined when the run is bounded by durationMs. */
  rounds?: number;
  durationMs?: number;
  rampUpMs: number;
  think?: { minMs: number; maxMs: number };
  stepTimeoutMs: number;
  waitTimeoutMs: number;
  onError: OnError;
  roles: RoleSpec[];
  /** Role of each worker, indexed by worker id. */
  workerRoles: string[];
  barriers: Map<string, BarrierSpec>;
  /** Steps each role runs per round, already filtered by `role:` conditions. */
  scenarios: Map<string, StepSpec[]>;
  /** Steps run once before the workers (`setup:`) and once at the end (`teardown:`); empty when absent. */
  setup: StepSpec[];
  teardown: StepSpec[];
  crawl?: CrawlSpec;
  thresholds: ThresholdSpec[];
  reports: { out?: string; reporters?: ReporterName[] };
  /** Seed of the generated values (`seed:`); --seed overrides it at run time. */
  seed?: number;
  /** Data sets in plan order, loaded. */
  data: DataSetSpec[];
}

/** Rows of a data file, held once per run whatever the number of workers. */
export interface DataTable {
  readonly size: number;
  /** Column names; undefined when the rows are not all objects (a JSON list of values). */
  readonly columns?: readonly string[];
  /** Row `i` (0-based), as a fresh object each call for CSV. */
  row(i: number): unknown;
}

export interface DataSetSpec {
  name: string;
  /** The file as the plan names it. */
  file: string;
  table: DataTable;
  pick: 'sequence' | 'random';
  /** When a worker draws its next row: at the start of each round, or once for its life. */
  every: 'round' | 'worker';
  /** What a sequence does once every row is used. */
  atEnd: 'wrap' | 'stop-worker' | 'fail';
  loc: SourceLoc;
}
