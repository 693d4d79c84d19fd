// Static SVG charts rendered on the server side: they need no script to show.
import type { StepResult } from '../../../contract/events.js';
import type { RunReport } from '../../../contract/report.js';
import { esc } from './escape.js';
import { NOT_LATENCY } from './series-data.js';
import { formatDuration } from '../../../text/duration.js';

const PALETTE = ['#3b6fd4', '#e07b24', '#2e9d5b', '#a04ac9', '#c7a414', '#1fa3a3', '#d64541', '#6b7a8f'];
const MAX_BUCKETS = 60;

/** What the latency chart draws: per charted step a mean per column (null: none ran), failures per column. */
interface Columns {
  /** The time the columns cover, in ms from the first one's start. */
  span: number;
  means: Array<Array<number | null>>;
  failures: Uint32Array;
}

/**
 * Mean latency per time bucket for the busiest steps (up to 8 lines), failed
 * executions marked with red ticks on the x axis, from the report's timeline:
 * for reports written before planrun had a time series (those with one draw
 * it among the zoomable "Over time" charts, series-data.ts).
 */
export function latencyChart(report: RunReport): string {
  const series = report.steps
    .filter((s) => !NOT_LATENCY.has(s.kind) && s.ok + s.failed > 0)
    .sort((a, b) => b.count - a.count)
    .slice(0, PALETTE.length);
  const index = new Map(series.map((s, i) => [`${s.role}\u0000${s.stepId}`, i]));
  const columns = series.length === 0 ? undefined : fromTimeline(report.timeline, index);
  if (!columns) return '<p class="muted">No timed steps to chart.</p>';
  const { span, means, failures } = columns;
  const BUCKETS = failures.length;
  const maxY = Math.max(1, ...means.flat().map((v) => v ?? 0)) * 1.1;
  const W = 760,
    H = 240,
    L = 56,
    R = 10,
    T = 10,
    B = 30;
  const x = (b: number) => L + ((b + 0.5) / BUCKETS) * (W - L - R);
  const y = (v: number) => T + (1 - v / maxY) * (H - T - B);
  const parts: string[] = [];
  for (let g = 0; g <= 4; g++) {
    const v = (maxY / 4) * g;
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" class="grid"/><text x="${L - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${formatDuration(v)}</text>`,
    );
  }
  for (let g = 0; g <= 4; g++) {
    const px = L + (g / 4) * (W - L - R);
    parts.push(`<text x="${px.toFixed(1)}" y="${H - 10}" text-anchor="middle">+${formatDuration((span * g) / 4)}</text>`);
  }
  means.forEach((m, i) => {
    let d = '';
    let pen = false;
    m.forEach((v, b) => {
      if (v === null) {
        pen = false;
        return;
      }
      d += `${pen ? 'L' : 'M'}${x(b).toFixed(1)} ${y(v).toFixed(1)}`;
      pen = true;
    });
    const s = series[i]!;
    parts.push(`<path d="${d}" fill="none" stroke="${PALETTE[i]}" stroke-width="1.8"><title>${esc(`${s.role} · ${s.name}`)}</title></path>`);
    // Single points (isolated buckets) would not show as a path.
    m.forEach((v, b) => {
      if (v !== null && (m[b - 1] ?? null) === null && (m[b + 1] ?? null) === null)
        parts.push(`<circle cx="${x(b).toFixed(1)}" cy="${y(v).toFixed(1)}" r="2.5" fill="${PALETTE[i]}"/>`);
    });
  });
  failures.forEach((n, b) => {
    if (n > 0) parts.push(`<rect x="${(x(b) - 2).toFixed(1)}" y="${H - B}" width="4" height="6" fill="#d64541"><title>${n} failed in this interval</title></rect>`);
  });
  const legend = series.map((s, i) => `<span class="key"><i style="background:${PALETTE[i]}"></i>${esc(s.role)} · ${esc(s.name)}</span>`).join(' ');
  return `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="Mean latency over time per step">${parts.join('')}<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" class="axis"/></svg><div class="legend">${legend} <span class="key"><i style="background:#d64541"></i>failures</span></div>`;
}

/** Columns over the timeline's span (reports without a series): enough for a few points each. */
function fromTimeline(timeline: StepResult[], index: Map<string, number>): Columns | undefined {
  if (timeline.length === 0) return undefined;
  const n = Math.max(8, Math.min(MAX_BUCKETS, Math.round(timeline.length / (index.size * 3))));
  const t0 = timeline.reduce((m, r) => Math.min(m, r.start), Infinity);
  const t1 = timeline.reduce((m, r) => Math.max(m, r.start + r.durationMs), -Infinity);
  const span = Math.max(1, t1 - t0);
  const sums = [...index.keys()].map(() => new Float64Array(n));
  const counts = [...index.keys()].map(() => new Uint32Array(n));
  const failures = new Uint32Array(n);
  for (const r of timeline) {
    const b = Math.min(n - 1, Math.floor(((r.start - t0) / span) * n));
    if (r.outcome === 'failed') failures[b]!++;
    const i = index.get(`${r.role}\u0000${r.stepId}`);
    if (i === undefined || r.outcome === 'skipped') continue;
    sums[i]![b]! += r.durationMs;
    counts[i]![b]!++;
  }
  return { span, means: meansOf(sums, counts), failures };
}

function meansOf(sums: Float64Array[], counts: Uint32Array[]): Array<Array<number | null>> {
  return sums.map((s, i) => Array.from(s, (v, b) => (counts[i]![b]! > 0 ? v / counts[i]![b]! : null)));
}

/** Horizontal bars, one per HTTP status seen by the crawl. */
export function statusHistogram(hist: Record<string, number>): string {
  const entries = Object.entries(hist).sort((a, b) => a[0].localeCompare(b[0]));
  if (entries.length === 0) return '';
  const max = Math.max(...entries.map(([, n]) => n));
  const W = 420,
    ROW = 20;
  const colour = (s: string) => (s.startsWith('2') ? '#2e9d5b' : s.startsWith('3') ? '#3b6fd4' : s.startsWith('4') ? '#e07b24' : s.startsWith('5') ? '#d64541' : '#6b7a8f');
  const rows = entries.map(([s, n], i) => {
    const w = Math.max(1, (n / max) * (W - 120));
    return `<text x="40" y="${i * ROW + 14}" text-anchor="end">${esc(s)}</text><rect x="48" y="${i * ROW + 3}" width="${w.toFixed(1)}" height="${ROW - 6}" fill="${colour(s)}"/><text x="${(52 + w).toFixed(1)}" y="${i * ROW + 14}">${n}</text>`;
  });
  return `<svg class="hist" viewBox="0 0 ${W} ${entries.length * ROW + 4}" width="${W}" role="img" aria-label="Status histogram">${rows.join('')}</svg>`;
}
