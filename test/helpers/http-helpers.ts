// Test scaffolding for the HTTP engine: a real node:http server on
// 127.0.0.1:0 that counts its TCP connections, and hand-built run / step
// contexts (coordination is not under test, so the coordinator is inert).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parsePlan } from '../../src/plan/load.js';
import type { CompiledPlan, StepSpec, TemplateScope } from '../../src/contract/plan.js';
import type { Coordinator } from '../../src/contract/coordinator.js';
import type { RunEvent } from '../../src/contract/events.js';
import { Redactor } from '../../src/runtime/redact.js';
import type { Engine, RunContext, StepContext, StepDetails, WorkerState } from '../../src/contract/engine.js';

export interface TestServer {
  origin: string;
  port: number;
  /** TCP connections accepted so far. */
  connections(): number;
  close(): Promise<void>;
}

export async function startServer(handler: http.RequestListener): Promise<TestServer> {
  const server = http.createServer(handler);
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

const inertCoordinator: Coordinator = {
  signal: async () => {},
  waitFor: async () => {},
  arrive: async () => {},
  abandon: () => {},
  forgetRoundsBefore: () => {},
  setShared: async () => {},
  sharedSnapshot: () => ({}),
  close: async () => {},
};

export interface TestRun {
  run: RunContext;
  plan: CompiledPlan;
  /** Aborts the run (Ctrl-C). */
  abort(): void;
  events: RunEvent[];
}

export function makeRun(yamlText: string): TestRun {
  const plan = parsePlan(yamlText, '/tmp/x.yml');
  const controller = new AbortController();
  const events: RunEvent[] = [];
  const run: RunContext = {
    runId: 'run-1',
    plan,
    coordinator: inertCoordinator,
    signal: controller.signal,
    reportDir: '/tmp/planrun-http-test',
    emit: (e) => events.push(e),
    redactor: new Redactor(plan.redact),
    // The engine under test is created from this context; nothing routes through here.
    engines: { http: undefined as unknown as Engine, ws: undefined as unknown as Engine, browser: async () => Promise.reject(new Error('no browser in HTTP tests')) },
  };
  return { run, plan, abort: () => controller.abort(new Error('run aborted')), events };
}

export function makeWorker(plan: CompiledPlan, id = 0): WorkerState {
  const role = plan.workerRoles[id] ?? 'worker';
  const index = plan.roles.find((r) => r.name === role)?.workers.indexOf(id) ?? id;
  return { id, role, index, vars: { ...plan.vars }, captures: {} };
}

/** The role's steps of the plan, by name. */
export function stepNamed(plan: CompiledPlan, name: string, role = 'worker'): StepSpec {
  const step = plan.scenarios.get(role)?.find((s) => s.name === name);
  if (!step)
    throw new Error(
      `no step "${name}" for role ${role}: ${plan.scenarios
        .get(role)
        ?.map((s) => s.name)
        .join(', ')}`,
    );
  return step;
}

/** Runs the step `name` of the run on `engine` as `worker` (worker 0 by default) in `round`, then lets its context go. */
export async function runStep(engine: Engine, t: TestRun, name: string, o: { worker?: WorkerState; round?: number } = {}): Promise<StepDetails | undefined> {
  const ctx = makeStep(t, o.worker ?? makeWorker(t.plan), stepNamed(t.plan, name), o.round);
  try {
    return await engine.execute(ctx);
  } finally {
    ctx.dispose();
  }
}

/** A step context whose signal aborts when the step times out or the run stops, as the runtime's does. */
export function makeStep(t: TestRun, worker: WorkerState, step: StepSpec, round = 1): StepContext & { dispose(): void } {
  const timeoutMs = step.timeoutMs ?? t.plan.stepTimeoutMs;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('step timeout')), timeoutMs);
  const onRunAbort = () => controller.abort(t.run.signal.reason);
  t.run.signal.addEventListener('abort', onRunAbort, { once: true });
  return {
    run: t.run,
    worker,
    round,
    step,
    signal: controller.signal,
    timeoutMs,
    scope: (): TemplateScope => ({
      worker: { id: worker.id, role: worker.role, index: worker.index },
      round,
      run: { id: t.run.runId },
      vars: worker.vars,
      captures: worker.captures,
      shared: {},
      env: {},
    }),
    dispose() {
      clearTimeout(timer);
      t.run.signal.removeEventListener('abort', onRunAbort);
    },
  };
}
