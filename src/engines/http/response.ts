// Reads an undici response into HttpResponseData: the whole body as text
// (bytes counted as received, before decoding), headers flattened to strings,
// the final URL after redirects.
import type { Dispatcher } from 'undici';
import type { HttpResponseData } from '../../runtime/context.js';

export const REDIRECT_STATUSES = new Set([300, 301, 302, 303, 307, 308]);

/** Repeated headers are joined with ", " (as fetch's Headers does), so matchers see one string. */
export function flattenHeaders(raw: Dispatcher.ResponseData['headers']): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const name in raw) {
    const v = raw[name];
    if (v !== undefined) headers[name] = Array.isArray(v) ? v.join(', ') : v;
  }
  return headers;
}

/** The URLs visited, first the requested one; set by undici's redirect interceptor. */
export function redirectHistory(res: Dispatcher.ResponseData): URL[] | undefined {
  const history = (res.context as { history?: URL[] } | undefined)?.history;
  return Array.isArray(history) && history.length > 0 ? history : undefined;
}

export async function readResponse(res: Dispatcher.ResponseData, requested: string, startedAt: number): Promise<HttpResponseData> {
  const buf = Buffer.from(await res.body.arrayBuffer());
  const history = redirectHistory(res);
  // Without redirects the history holds only the requested URL.
  const final = history && history.length > 1 ? history[history.length - 1]!.href : requested;
  return {
    url: final,
    status: res.statusCode,
    headers: flattenHeaders(res.headers),
    body: buf.toString('utf8'),
    bytes: buf.byteLength,
    durationMs: performance.now() - startedAt,
  };
}
