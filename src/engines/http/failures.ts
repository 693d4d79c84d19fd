// Maps what can go wrong on the wire to StepFailure codes reports group by:
// connect (nobody listening, DNS), timeout (the step's time ran out),
// aborted (the run stopped), http (everything else: resets, bad responses).
import { StepFailure, type StepContext } from '../../runtime/context.js';
import type { StepResult } from '../../reporting/events.js';
import { RedirectLoop } from './exchange.js';

type HttpInfo = NonNullable<StepResult['http']>;

/** Error codes that mean nothing answered at the address (shared with the WebSocket engine). */
export const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The error code, looking inside AggregateError (a host with IPv4 and IPv6 addresses fails with one per address). */
export function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[] };
  if (typeof e?.code === 'string') return e.code;
  if (Array.isArray(e?.errors)) for (const inner of e.errors) {
    const c = codeOf(inner);
    if (c) return c;
  }
  return undefined;
}

export function toStepFailure(err: unknown, ctx: StepContext, http: HttpInfo, startedAt: number): StepFailure {
  if (err instanceof StepFailure) return err;
  const target = `${http.method} ${http.url}`;
  // Abort first: undici reports an aborted request with the signal's reason, which can be anything.
  if (ctx.run.signal.aborted) return new StepFailure(`stopped: the run was aborted during ${target}`, 'aborted', { http });
  const code = codeOf(err);
  // The step's signal, or undici's own header/body timers set to the same limit (a safety net, see index.ts).
  if (ctx.signal.aborted || (code && TIMEOUT_CODES.has(code))) {
    const waited = Math.round(performance.now() - startedAt);
    return new StepFailure(`timed out after ${ctx.timeoutMs}ms waiting for ${target} (step timeout; waited ${waited}ms)`, 'timeout', { http });
  }
  // The loop's URLs say it all; undici's wording is not involved any more.
  if (err instanceof RedirectLoop) return new StepFailure(err.message, 'http', { http });
  const url = new URL(http.url);
  if (code && CONNECT_CODES.has(code)) {
    return new StepFailure(`cannot connect to ${url.host} (${code}) for ${target}: is the server running and the target right?`, 'connect', { http });
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StepFailure(`${target} failed: ${message}${code && !message.includes(code) ? ` (${code})` : ''}`, 'http', { http });
}
