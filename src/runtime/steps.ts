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

export async function executeStep(ctx: StepContext): Promise<StepDetails | undefined> {
  const { step, run, worker, round } = ctx;
  if (needsBrowser(step)) return (await run.engines.browser()).execute(ctx);
  switch (step.kind) {
    case 'request':
      return run.engines.http.execute(ctx);
    case 'ws':
      return run.engines.ws.execute(ctx);
    case 'signal':
      await run.coordinator.signal(step.barrier, round, worker.id);
      return;
    case 'wait':
      return waitForEvent(ctx, step.barrier);
    case 'barrier':
      return meet(ctx, step.barrier);
    case 'sleep':
      await sleep(sleepMs(step, ctx), undefined, { signal: ctx.signal });
      return;
    case 'set': {
      const scope = ctx.scope();
      for (const [name, value] of Object.entries(step.values)) {
        const v = value.render(scope);
        if (step.shared) await run.coordinator.setShared(name, v);
        else worker.vars[name] = v;
      }
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
