// What a step sees while it runs, and the contract engines implement.
import type { CompiledPlan, StepSpec, TemplateScope } from './plan.js';
import type { Coordinator } from './coordinator.js';
import type { RunEvent, StepResult } from './events.js';

/** The last HTTP response of a worker, kept for standalone capture / expect steps. */
export interface HttpResponseData {
  url: string;
  status: number;
  headers: Record<string, string>;
  /** The body as text, at most its first `maxBodySize` bytes (see cutAt). */
  body: string;
  /** Body bytes received, kept or not. */
  bytes: number;
  /** Set when `body` holds only the first cutAt bytes (the step's maxBodySize) of `bytes`. */
  cutAt?: number;
  durationMs: number;
}

export interface WorkerState {
  id: number;
  role: string;
  /** Index of this worker among the workers of its role. */
  index: number;
  vars: Record<string, unknown>;
  captures: Record<string, unknown>;
  lastResponse?: HttpResponseData;
}

/** A failed step. `code` groups failures in reports (timeout, connect, expectation, …). */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly code: string = 'failed',
    readonly extra: Partial<StepResult> = {},
  ) {
    super(message);
  }
}

/** What engines tell the run's redactor (runtime/redact.ts): secrets they saw on the wire, to hide in every output. */
export interface SecretLearner {
  /** Values of secret-named headers (authorization, cookie, …), as sent or received. */
  learnHeaders(headers: Readonly<Record<string, string | undefined>>): void;
  /** Values of secret-named query parameters of a URL sent. */
  learnUrl(url: URL): void;
}

export interface RunContext {
  runId: string;
  plan: CompiledPlan;
  coordinator: Coordinator;
  /** Aborted on Ctrl-C / abort-run: every wait and request stops. */
  signal: AbortSignal;
  reportDir: string;
  /** Reporters receive the event redacted. */
  emit(event: RunEvent): void;
  /** Engines teach it the secret header and query values they send and receive. */
  redactor: SecretLearner;
  engines: Engines;
}

export interface StepContext {
  run: RunContext;
  worker: WorkerState;
  round: number;
  step: StepSpec;
  /** Aborted when the step times out or the run stops. */
  signal: AbortSignal;
  timeoutMs: number;
  scope(): TemplateScope;
}

/** What an engine adds to the step's result (HTTP status, page URL, screenshots, WebSocket counters…). */
export type StepDetails = Partial<Pick<StepResult, 'http' | 'pageUrl' | 'attachments' | 'wait' | 'ws'>>;

export interface Engine {
  readonly name: string;
  /**
   * Runs the step or throws StepFailure (or rejects with it). A step done at
   * once (a WebSocket send) may return its details directly: the worker then
   * spends no promise on it.
   */
  execute(ctx: StepContext): StepDetails | undefined | Promise<StepDetails | undefined>;
  /** Called when a worker ends (close its page, context, connection…). */
  releaseWorker?(worker: number): Promise<void>;
  close(): Promise<void>;
}

export interface Engines {
  http: Engine;
  /** Created on the first ws step. */
  ws: Engine;
  /** Created lazily on the first browser step. */
  browser(): Promise<Engine>;
}
