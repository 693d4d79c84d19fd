// Durations in milliseconds → text. Two styles, both pinned by what reads them:
// - formatDuration, for prose and report files (Markdown, HTML, messages): a
//   space before the unit, about three significant digits: `1.2 ms`, `420 ms`,
//   `1.23 s`, `12.3 s`. The HTML report's browser script mirrors it
//   (reporting/files/html/client.ts cannot import).
// - formatDurationCompact, for the terminal's aligned columns and log lines:
//   no space, and minutes past one: `1.23ms`, `60.0ms`, `420ms`, `3.01s`, `1m05s`.

/** `–` when there is no value (nothing measured). */
export function formatDuration(ms: number | undefined | null): string {
  if (ms === undefined || ms === null) return '–';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  if (ms >= 10) return `${Math.round(ms)} ms`;
  return `${ms.toFixed(1)} ms`;
}

/** `-` when there is no value: ASCII, so terminal columns keep their width. */
export function formatDurationCompact(ms: number | undefined | null): string {
  if (ms === undefined || ms === null) return '-';
  if (ms >= 60_000) {
    // Round the whole seconds first: 1m59.6s is 2m00s, not 1m60s.
    const s = Math.round(ms / 1000);
    return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  }
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)}s`;
  if (ms >= 100) return `${Math.round(ms)}ms`;
  if (ms >= 10) return `${ms.toFixed(1)}ms`;
  return `${ms.toFixed(2)}ms`;
}
