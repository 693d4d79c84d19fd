// One leaf step: routes it to its engine or runs the built-in kinds
// (coordination, sleep, set, standalone capture / expect) right here.
import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../plan/duration.js';
import { isPageCapture, type CaptureSpec, type StepSpec } from '../contract/plan.js';
import { captureFromResponse, captureMissing, checkHttpExpect, matchValue } from '../engines/matchers.js';
import { StepFailure, type StepContext, type StepDetails } from '../contract/engine.js';

/** True when the step needs the browser engine. */
export function needsBrowser(step: StepSpec): boolean {
  if (step.kind === 'browser') return true;
  if (step.kind === 'expect') return step.expect.on === 'page';
  if (step.kind === 'capture') return step.captures.some(isPageCapture);
  return false;
}

/**
 * Runs one leaf step. Steps that finish at once (set, a standalone expect, a
 * ws send) return their details directly, the others a promise: a message
 * loop's steps then cost no promise hops of their own.
 */
export function executeStep(ctx: StepContext): StepDetails | undefined | Promise<StepDetails | undefined> {
  const { step, run, worker, round } = ctx;
  if (needsBrowser(step)) return run.engines.browser().then((browser) => browser.execute(ctx));
  switch (step.kind) {
    case 'request':
      return run.engines.http.execute(ctx);
    case 'ws':
      return run.engines.ws.execute(ctx);
    case 'signal':
      return run.coordinator.signal(step.barrier, round, worker.id).then(() => undefined);
    case 'wait':
      return waitForEvent(ctx, step.barrier);
    case 'barrier':
      return meet(ctx, step.barrier);
    case 'sleep':
      return sleepAtLeast(sleepMs(step, ctx), ctx.signal);
    case 'set': {
      if (step.shared) return share(ctx, step.values);
      const scope = ctx.scope();
      for (const [name, value] of Object.entries(step.values)) worker.vars[name] = value.render(scope);
      return;
    }
    case 'capture':
      captureStandalone(ctx, step.captures);
      return;
    case 'expect':
      expectStandalone(ctx, step.expect);
      return;
    case 'group':
    case 'loop':
      throw new Error(`${step.kind} steps are run by the worker, not as a leaf`);
  }
}

/** `share:` values go to the coordinator, one after another (a Redis one answers asynchronously). */
async function share(ctx: StepContext, values: Extract<StepSpec, { kind: 'set' }>['values']): Promise<undefined> {
  const scope = ctx.scope();
  for (const [name, value] of Object.entries(values)) await ctx.run.coordinator.setShared(name, value.render(scope));
  return undefined;
}

/**
 * Waits `ms` by the monotonic clock the step's duration is measured with. Node's
 * timers count libuv's whole-millisecond loop time and can fire up to a
 * millisecond early by performance.now(): a `sleep: 400ms` step would then be
 * reported at 399.6 ms. The rest is waited out.
 */
export async function sleepAtLeast(ms: number, signal?: AbortSignal): Promise<undefined> {
  const until = performance.now() + ms;
  await sleep(ms, undefined, { signal });
  for (let left = until - performance.now(); left > 0; left = until - performance.now()) await sleep(Math.ceil(left), undefined, { signal });
  return undefined;
}

/** A templated sleep renders now; what it gives must be a duration. */
function sleepMs(step: Extract<StepSpec, { kind: 'sleep' }>, ctx: StepContext): number {
  if (typeof step.ms === 'number') return step.ms;
  const text = step.ms.renderString(ctx.scope());
  const ms = parseDuration(text);
  if (ms === undefined) throw new StepFailure(`sleep: \`${step.ms.source}\` gave \`${text}\`, not a duration like 500ms, 10s, 2m`);
  return ms;
}

async function waitForEvent(ctx: StepContext, name: string): Promise<StepDetails> {
  const barrier = ctx.run.plan.barriers.get(name);
  if (barrier?.kind !== 'event') throw new StepFailure(`"${name}" is not an event barrier`, 'plan');
  const started = performance.now();
  await ctx.run.coordinator.waitFor(name, ctx.round, {
    scope: barrier.scope,
    count: barrier.count,
    possible: barrier.signalers.length,
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
  });
  return { wait: { barrier: name, waitedMs: performance.now() - started } };
}

async function meet(ctx: StepContext, name: string): Promise<StepDetails> {
  const barrier = ctx.run.plan.barriers.get(name);
  if (barrier?.kind !== 'meeting') throw new StepFailure(`"${name}" is not a meeting barrier`, 'plan');
  const started = performance.now();
  await ctx.run.coordinator.arrive(name, ctx.round, ctx.worker.id, barrier.parties.length, ctx.timeoutMs, ctx.signal);
  return { wait: { barrier: name, waitedMs: performance.now() - started } };
}

function lastResponse(ctx: StepContext) {
  const r = ctx.worker.lastResponse;
  if (!r) throw new StepFailure('there is no HTTP response to check yet: put this step after a `request:` step', 'plan');
  return r;
}

function captureStandalone(ctx: StepContext, captures: CaptureSpec[]): void {
  const r = lastResponse(ctx);
  for (const c of captures) {
    const value = captureFromResponse(c, r);
    if (value === undefined) throw new StepFailure(captureMissing(c, r), 'capture');
    ctx.worker.captures[c.name] = value;
  }
}

function expectStandalone(ctx: StepContext, spec: Extract<StepSpec, { kind: 'expect' }>['expect']): void {
  if (spec.on === 'response') {
    const failures = checkHttpExpect(spec.expect, lastResponse(ctx));
    if (failures.length) throw new StepFailure(failures.join('; '), 'expectation');
    return;
  }
  if (spec.on === 'value') {
    const actual = spec.value.render(ctx.scope());
    const mismatch = matchValue(spec.matcher, actual);
    if (mismatch !== undefined) throw new StepFailure(mismatch, 'expectation');
  }
}
