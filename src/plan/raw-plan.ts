// The plan exactly as the YAML says it, after schema validation.
// One interface per object definition of schemas/plan.schema.json, same names and
// same required keys: test/unit/plan-schema-types.test.ts fails when the two drift apart.

export type Duration = number | string;
/** A Duration, or a `{{ }}` template rendered to one when the step runs. */
export type StepDuration = Duration;
/** Bytes, or a string like `512KB`, `1MB` (binary units). */
export type Size = number | string;
/** A Duration that must be longer than 0 (checked by durations.ts). */
export type Timeout = Duration;
export type { HttpMethod, OnError, RedirectHeaders } from '../contract/plan.js';
import type { HttpMethod, OnError, RedirectHeaders, ReporterName } from '../contract/plan.js';
export type RoleRef = string | string[];
export type Scalar = string | number | boolean | null;
export type VarValue = Scalar | unknown[] | EnvVar;
export type Headers = Record<string, string | number>;
export type Status = number | string | number[];
export type Matcher = Scalar | MatcherObject;
export type HeaderMatchers = Record<string, Matcher>;
export type JsonMatchers = Record<string, Matcher>;
export type Think = Duration | ThinkRange;
export type Steps = Step[];

export interface Plan {
  $schema?: string;
  name: string;
  description?: string;
  target?: string;
  vars?: Record<string, VarValue>;
  data?: Record<string, DataSet>;
  seed?: number;
  services?: Service[];
  browser?: BrowserOptions;
  http?: HttpOptions;
  workers?: number;
  rounds?: number;
  duration?: Timeout;
  rampUp?: Duration;
  rate?: Rate;
  maxWorkers?: number;
  stages?: Stages;
  think?: Think;
  timeout?: Timeout;
  waitTimeout?: Timeout;
  onError?: OnError;
  roles?: Record<string, Role>;
  barriers?: Record<string, Barrier>;
  scenario?: Steps | Record<string, Steps>;
  setup?: Steps;
  teardown?: Steps;
  crawl?: Crawl;
  thresholds?: Record<string, Array<string | Threshold>>;
  reports?: Reports;
  redact?: Redact;
}

/** The object form of a threshold: a condition that can also stop the run while it goes on. */
export interface Threshold {
  condition: string;
  abortOnFail?: boolean;
  grace?: Duration;
}

export interface DataSet {
  file: string;
  format?: 'csv' | 'json';
  pick?: 'sequence' | 'random';
  every?: 'round' | 'worker';
  atEnd?: 'wrap' | 'stop-worker' | 'fail';
  header?: boolean;
  columns?: string[];
  delimiter?: string;
}

export interface ThinkRange {
  min: Duration;
  max: Duration;
}

export interface EnvVar {
  env: string;
  default?: unknown;
  secret?: boolean;
}

export interface Redact {
  headers?: string[];
  query?: string[];
}

export interface Service {
  name: string;
  command: string;
  cwd?: string;
  env?: Record<string, string | number | boolean>;
  ready?: ServiceReady;
  timeout?: Timeout;
}

export interface ServiceReady {
  url?: string;
  log?: string;
}

export interface BrowserOptions {
  executablePath?: string;
  headless?: boolean;
  args?: string[];
  viewport?: Viewport;
}

export interface Viewport {
  width: number;
  height: number;
}

export interface HttpOptions {
  headers?: Headers;
  maxRedirects?: number;
  redirectHeaders?: RedirectHeaders;
  connections?: number;
  maxBodySize?: Size;
}

export interface Role {
  count?: number;
  workers?: number[];
  rest?: true;
  maxWorkers?: number;
  rate?: Rate;
  stages?: Stages;
}

/** Iterations per second, minute or hour: `200/s`, `90/m`, `10/h`. */
export type Rate = string;
export type Stages = Stage[];

/** `{ duration, target }` ramps, `{ hold }` keeps the level, `{ pause }` starts nothing. */
export interface Stage {
  duration?: Duration;
  target?: number | Rate;
  hold?: Duration;
  pause?: Duration;
}

export interface Barrier {
  signal?: RoleRef;
  wait?: RoleRef;
  parties?: RoleRef;
  scope?: 'round' | 'previous-round' | 'run';
  count?: number;
  timeout?: Timeout;
}

export interface Step {
  name?: string;
  role?: RoleRef;
  if?: string;
  timeout?: Timeout;
  onError?: OnError;
  request?: string | RequestObject;
  browser?: BrowserAction;
  ws?: WsAction;
  signal?: string;
  wait?: string;
  barrier?: string;
  sleep?: StepDuration;
  set?: Record<string, unknown>;
  share?: Record<string, unknown>;
  capture?: Record<string, Capture>;
  expect?: Expect;
  group?: Steps;
  loop?: Loop;
}

export interface RequestObject {
  method?: HttpMethod;
  url: string;
  headers?: Headers;
  query?: Record<string, string | number | boolean>;
  json?: unknown;
  form?: Record<string, string | number | boolean>;
  body?: string;
  maxRedirects?: number;
  maxBodySize?: Size;
  redirectHeaders?: RedirectHeaders;
  capture?: Record<string, Capture>;
  expect?: HttpExpect;
}

export interface Capture {
  json?: string;
  header?: string;
  regex?: string;
  group?: number;
  status?: true;
  body?: true;
  text?: string;
  attribute?: string;
  of?: string;
  url?: true;
  title?: true;
}

export interface MatcherObject {
  equals?: unknown;
  contains?: string;
  notContains?: string;
  matches?: string;
  lt?: number;
  lte?: number;
  gt?: number;
  gte?: number;
  oneOf?: unknown[];
  exists?: boolean;
}

export interface HttpExpect {
  status?: Status;
  headers?: HeaderMatchers;
  body?: Matcher;
  json?: JsonMatchers;
  duration?: Timeout;
}

export interface ElementCount {
  selector: string;
  equals: number;
}

export interface Expect extends HttpExpect {
  text?: string;
  in?: string;
  visible?: string;
  hidden?: string;
  count?: ElementCount;
  url?: Matcher;
  title?: Matcher;
  within?: Timeout;
  value?: unknown;
  is?: Matcher;
}

export interface WaitForObject {
  selector?: string;
  state?: 'attached' | 'detached' | 'visible' | 'hidden';
  text?: string;
  url?: string;
}

export interface BrowserAction {
  goto?: string;
  click?: string;
  fill?: string;
  value?: string;
  type?: string;
  into?: string;
  press?: string;
  on?: string;
  select?: string;
  option?: string;
  waitFor?: string | WaitForObject;
  reload?: true;
  screenshot?: string;
}

export interface WsAction {
  connect?: string;
  headers?: Headers;
  protocols?: string[];
  send?: string | WsSendJson;
  expect?: WsExpect;
  within?: Duration;
  capture?: Record<string, Capture>;
  close?: true;
}

export interface WsSendJson {
  json: unknown;
}

export interface WsExpect {
  text?: Matcher;
  matches?: string;
  json?: JsonMatchers;
}

export interface Loop {
  times?: number | string;
  over?: unknown[] | string;
  as?: string;
  steps: Steps;
}

export interface CrawlScope {
  origins?: string[];
  include?: string[];
  exclude?: string[];
  outOfScope?: 'check' | 'ignore';
}

export interface CrawlNormalize {
  query?: 'keep' | 'sort' | 'strip';
  stripParams?: string[];
  trailingSlash?: 'keep' | 'add' | 'strip';
}

export interface SampleTemplate {
  pattern: string;
  keep: number;
}

export interface CrawlSample {
  templates?: SampleTemplate[];
  content?: boolean;
  similarity?: number;
}

export interface CrawlExpect {
  status?: Status;
  contentType?: string;
  duration?: Timeout;
  text?: string[];
  notText?: string[];
  title?: boolean;
}

/** A sitemap, robots.txt or file of URLs to read start URLs from: exactly one key (the schema checks it). */
export interface CrawlStartSource {
  sitemap?: string;
  robots?: string;
  urls?: string;
}

/** A start URL, or a source of start URLs. */
export type CrawlStart = string | CrawlStartSource;

export interface Crawl {
  start: CrawlStart[];
  scope?: CrawlScope;
  maxDepth?: number;
  maxPages?: number;
  concurrency?: number;
  timeout?: Timeout;
  retries?: number;
  rateLimit?: number;
  robots?: 'respect' | 'ignore';
  headers?: Headers;
  follow?: string[];
  check?: string[];
  fragments?: boolean;
  normalize?: CrawlNormalize;
  sample?: CrawlSample;
  expect?: CrawlExpect;
  maxRedirects?: number;
  browser?: boolean;
}

export interface Reports {
  out?: string;
  reporters?: ReporterName[];
}
