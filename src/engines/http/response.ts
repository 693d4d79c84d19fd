// Turns an exchanged response into HttpResponseData: the kept body as text
// (bytes counted as received, before decoding, kept or not), headers
// flattened to strings, the final URL after redirects.
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpResponseData } from '../../contract/engine.js';
import { bodyText, type Exchanged } from './exchange.js';

export { REDIRECT_STATUSES } from './exchange.js';

/** Repeated headers are joined with ", " (as fetch's Headers does), so matchers see one string. */
export function flattenHeaders(raw: IncomingHttpHeaders): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name in raw) {
    const v = raw[name];
    if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return headers;
}

export function toResponseData(r: Exchanged, requested: string, startedAt: number): HttpResponseData {
  // The history holds every URL visited, the requested one first, once a redirect was followed.
  const history = r.history;
  const final = history && history.length > 1 ? history[history.length - 1]!.href : requested;
  return {
    url: final,
    status: r.status,
    headers: flattenHeaders(r.headers),
    body: bodyText(r),
    bytes: r.bytes,
    ...(r.bytes > r.maxBody ? { cutAt: r.maxBody } : {}),
    durationMs: performance.now() - startedAt,
  };
}
