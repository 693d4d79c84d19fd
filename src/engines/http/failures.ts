// Maps what can go wrong on the wire to StepFailure codes reports group by:
// connect (nobody listening, DNS), timeout (the step's time ran out),
// aborted (the run stopped), http (everything else: resets, bad responses).
// Which wire error is which is transport/errors.ts's call, shared with the crawl.
import { StepFailure, type StepContext } from '../../contract/engine.js';
import type { StepResult } from '../../contract/events.js';
import { wireFailure } from '../transport/errors.js';
import { RedirectLoop } from './exchange.js';

type HttpInfo = NonNullable<StepResult['http']>;

export function toStepFailure(err: unknown, ctx: StepContext, http: HttpInfo, startedAt: number): StepFailure {
  if (err instanceof StepFailure) return err;
  const target = `${http.method} ${http.url}`;
  // Abort first: undici reports an aborted request with the signal's reason, which can be anything.
  if (ctx.run.signal.aborted) return new StepFailure(`stopped: the run was aborted during ${target}`, 'aborted', { http });
  const { kind, code } = wireFailure(err);
  // The step's signal, or undici's own header/body timers set to the same limit (a safety net, see index.ts).
  if (ctx.signal.aborted || kind === 'response-timeout') {
    const waited = Math.round(performance.now() - startedAt);
    return new StepFailure(`timed out after ${ctx.timeoutMs}ms waiting for ${target} (step timeout; waited ${waited}ms)`, 'timeout', { http });
  }
  // The loop's URLs say it all; undici's wording is not involved any more.
  if (err instanceof RedirectLoop) return new StepFailure(err.message, 'http', { http });
  const url = new URL(http.url);
  if (kind === 'unreachable' || kind === 'connect-timeout') {
    return new StepFailure(`cannot connect to ${url.host} (${code}) for ${target}: is the server running and the target right?`, 'connect', { http });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StepFailure(`${target} failed: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, 'http', { http });
}
