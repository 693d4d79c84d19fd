// What went wrong on the wire, read from the error undici (or the socket)
// failed a request with. Each engine words it its own way (the HTTP steps'
// StepFailure codes, the crawl's broken kinds); which error is which is
// decided here only.

/**
 * - `response-timeout`: connected, but the headers or the body did not come in time (undici's header/body timers);
 * - `connect-timeout`: no connection within undici's connect timeout;
 * - `unreachable`: no connection: refused, unknown host, no route, the OS gave up;
 * - `other`: anything else (a reset, a malformed response, an abort's reason).
 */
export type WireFailureKind = 'response-timeout' | 'connect-timeout' | 'unreachable' | 'other';

export interface WireFailure {
  kind: WireFailureKind;
  /** The error's code (ECONNREFUSED, UND_ERR_SOCKET, …) when it has one. */
  code: string | undefined;
}

const RESPONSE_TIMEOUT_CODES: ReadonlySet<string> = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ETIMEDOUT']);

/**
 * The error's code: its own, else the first inside an AggregateError (a host
 * with IPv4 and IPv6 addresses fails with one per address), else its cause's.
 */
export function codeOf(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[]; cause?: unknown } | null | undefined;
  if (typeof e?.code === 'string') return e.code;
  if (Array.isArray(e?.errors))
    for (const inner of e.errors) {
      const c = codeOf(inner);
      if (c) return c;
    }
  const cause = e?.cause as { code?: unknown } | null | undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
}

export function wireFailure(err: unknown): WireFailure {
  const code = codeOf(err);
  if (code === undefined) return { kind: 'other', code };
  if (RESPONSE_TIMEOUT_CODES.has(code)) return { kind: 'response-timeout', code };
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return { kind: 'connect-timeout', code };
  if (UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', code };
  return { kind: 'other', code };
}
