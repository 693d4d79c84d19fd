// Which of a request's headers follow it through a redirect. Shared by the
// request steps' redirect handler (http/exchange.ts) and the crawler, which walks
// its redirect chains itself: one rule for both. Within one origin every
// header follows. To another origin the plan's credentials must not: undici
// alone drops only authorization and cookie, and forwards x-api-key and the
// like, so here only headers that say nothing about who is asking go along,
// plus those the plan names in `redirectHeaders` (or all with `keep`).
import type { RedirectHeaders } from '../../contract/plan.js';

/** Headers a redirect carries to any origin: what the client accepts and is, never who it acts for. */
export const SAFE_REDIRECT_HEADERS: ReadonlySet<string> = new Set(['accept', 'accept-language', 'user-agent']);

/**
 * The headers of the next hop of a redirect, from those of the hop before.
 * `bodyKept`: the next hop sends the body again (307, 308), so its
 * content-* headers still describe it. `host` never follows (undici sets it per hop).
 */
export function redirectHeaders(headers: Readonly<Record<string, string>>, crossOrigin: boolean, bodyKept: boolean, keep: RedirectHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'host' || (!bodyKept && lower.startsWith('content-'))) continue;
    if (crossOrigin && !keptAcrossOrigins(lower, keep)) continue;
    out[name] = value;
  }
  return out;
}

function keptAcrossOrigins(name: string, keep: RedirectHeaders): boolean {
  // content-type reaches here only when the body goes along (see above).
  if (keep === 'keep' || SAFE_REDIRECT_HEADERS.has(name) || name === 'content-type') return true;
  return keep.some((k) => k.toLowerCase() === name);
}
