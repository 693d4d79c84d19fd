// The live metrics of a run (`planrun run --metrics-port`) as a prom-client
// registry. Nothing is counted here: each scrape takes one view of the
// MetricsCollector's current aggregates (collector.live()) and prom-client's
// collect() callbacks copy its totals into the counters and gauges; the
// latency summaries read its HDR histograms (hdr-summary.ts). So a scrape
// costs O(steps + workers), not O(results), and shows the report's numbers.
//
// Label values are bounded whatever the run does: a step is labelled by its
// role and name from the plan (never a URL or a message), the steps past
// STEP_LABEL_CAP in plan order are folded into `step="other"` of their role (with
// a step the plan named `other`, so no two series look alike), and
// error codes past CODE_LABEL_CAP distinct ones (or not shaped like a code) into
// `code="other"`. Every series carries `run_id`.
import { Counter, Gauge, Registry } from 'prom-client';
import { LatencyStats } from '../metrics/latency-stats.js';
import type { LiveMetrics } from '../metrics/metrics-collector.js';
import { HdrSummary } from './hdr-summary.js';

export const STEP_LABEL_CAP = 100;
export const CODE_LABEL_CAP = 20;
export const OTHER = 'other';
/** What planrun's own codes look like (timeout, broken-barrier…); anything else is `other`. */
const CODE_SHAPE = /^[a-z][a-z0-9_-]{0,39}$/;

export interface LiveRegistryOptions {
  runId: string;
  /** The collector's live view (MetricsCollector.live), read once per scrape. */
  live: () => LiveMetrics;
  /** Adds the crawl's progress metrics. */
  hasCrawl: boolean;
  /** Steps with a label of their own; default STEP_LABEL_CAP. */
  stepCap?: number;
}

export interface LiveRegistry {
  readonly contentType: string;
  /** The exposition text as of now. */
  scrape(): Promise<string>;
}

/** One step's totals, or the sum of a role's steps past the cap. */
interface StepRow {
  role: string;
  step: string;
  ok: number;
  failed: number;
  skipped: number;
  codes: Map<string, number>;
  latency: LatencyStats;
}

interface Scrape {
  live: LiveMetrics;
  steps: StepRow[];
}

export function createLiveRegistry(o: LiveRegistryOptions): LiveRegistry {
  const registry = new Registry();
  registry.setDefaultLabels({ run_id: o.runId });
  const registers = [registry];
  const stepCap = o.stepCap ?? STEP_LABEL_CAP;
  const codeLabel = codeLabels();
  // Set by scrape() before the registry reads the metrics, so every metric of one scrape sees the same view.
  let now: Scrape = view(o.live(), stepCap, codeLabel);

  new Gauge({
    name: 'planrun_run_info',
    help: 'Always 1; labels the run with its plan name.',
    labelNames: ['plan'],
    registers,
    collect() {
      this.reset();
      this.set({ plan: now.live.run?.planName ?? '' }, 1);
    },
  });
  new Gauge({
    name: 'planrun_run_ended',
    help: '1 once the run has ended (its numbers are final; the endpoint stays up until the reports are written), else 0.',
    registers,
    collect() {
      this.set(now.live.ended ? 1 : 0);
    },
  });
  new Counter({
    name: 'planrun_steps_total',
    help: 'Step runs by outcome: ok and failed ones executed, skipped ones did not.',
    labelNames: ['role', 'step', 'status'],
    registers,
    collect() {
      this.reset();
      for (const s of now.steps) for (const status of ['ok', 'failed', 'skipped'] as const) this.inc({ role: s.role, step: s.step, status }, s[status]);
    },
  });
  new Counter({
    name: 'planrun_step_failures_total',
    help: `Failed step runs by error code (timeout, connect, expectation…; \`error\` without one; the codes past ${CODE_LABEL_CAP} are \`other\`).`,
    labelNames: ['role', 'step', 'code'],
    registers,
    collect() {
      this.reset();
      for (const s of now.steps) for (const [code, n] of s.codes) this.inc({ role: s.role, step: s.step, code }, n);
    },
  });
  registry.registerMetric(
    new HdrSummary({
      name: 'planrun_step_duration_seconds',
      help: 'Duration of the step runs that executed (ok and failed), from the same HDR histograms as report.json (0.1 % precision); quantiles over the whole run so far.',
      labelNames: ['role', 'step'],
      read: () => now.steps.map((s) => ({ labels: { role: s.role, step: s.step }, stats: s.latency })),
    }),
  );
  new Gauge({
    name: 'planrun_workers_active',
    help: 'Workers running now (begun, not ended), per role.',
    labelNames: ['role'],
    registers,
    collect() {
      this.reset();
      for (const r of now.live.run?.roles ?? []) this.set({ role: r.name }, now.live.workers.get(r.name)?.active ?? 0);
    },
  });
  new Gauge({
    name: 'planrun_workers_busy',
    help: 'Workers inside a step now, per role.',
    labelNames: ['role'],
    registers,
    collect() {
      this.reset();
      for (const r of now.live.run?.roles ?? []) this.set({ role: r.name }, now.live.workers.get(r.name)?.busy ?? 0);
    },
  });
  new Counter({
    name: 'planrun_iterations_dropped_total',
    help: 'Open-model iterations not started because every worker of the role was busy (arrival-rate roles only).',
    labelNames: ['role'],
    registers,
    collect() {
      this.reset();
      for (const [role, n] of now.live.dropped) this.inc({ role }, n);
    },
  });
  new Counter({
    name: 'planrun_barrier_waits_total',
    help: 'Waits on a barrier that ended, by how: ok, timeout or broken.',
    labelNames: ['barrier', 'status'],
    registers,
    collect() {
      this.reset();
      for (const b of now.live.barriers) {
        this.inc({ barrier: b.name, status: 'ok' }, b.waits - b.timeouts - b.broken);
        this.inc({ barrier: b.name, status: 'timeout' }, b.timeouts);
        this.inc({ barrier: b.name, status: 'broken' }, b.broken);
      }
    },
  });
  registry.registerMetric(
    new HdrSummary({
      name: 'planrun_barrier_wait_seconds',
      help: 'Time workers waited on a barrier, over the whole run so far.',
      labelNames: ['barrier'],
      read: () => now.live.barriers.map((b) => ({ labels: { barrier: b.name }, stats: b.wait })),
    }),
  );
  if (o.hasCrawl) addCrawlMetrics(registers, () => now.live);

  return {
    contentType: registry.contentType,
    scrape() {
      now = view(o.live(), stepCap, codeLabel);
      return registry.metrics();
    },
  };
}

function addCrawlMetrics(registers: Registry[], live: () => LiveMetrics): void {
  const progress = () => live().crawl ?? { done: 0, queued: 0, inFlight: 0, broken: 0, pagesPerSecond: 0 };
  new Counter({
    name: 'planrun_crawl_urls_done_total',
    help: 'URLs the crawl has fetched (crawled or checked).',
    registers,
    collect() {
      this.reset();
      this.inc(progress().done);
    },
  });
  new Counter({
    name: 'planrun_crawl_urls_broken_total',
    help: 'URLs the crawl found broken.',
    registers,
    collect() {
      this.reset();
      this.inc(progress().broken);
    },
  });
  new Gauge({
    name: 'planrun_crawl_urls_queued',
    help: 'URLs waiting in the crawl frontier.',
    registers,
    collect() {
      this.set(progress().queued);
    },
  });
  new Gauge({
    name: 'planrun_crawl_requests_in_flight',
    help: 'Crawl requests in flight.',
    registers,
    collect() {
      this.set(progress().inFlight);
    },
  });
}

/** The steps of one scrape, the ones past the cap folded into their role's `other` (a merge, once per scrape). */
function view(live: LiveMetrics, stepCap: number, codeLabel: (code: string) => string): Scrape {
  const steps: StepRow[] = [];
  /** Per role, its `other` row: the folded steps, and a step the plan itself named `other` (one series, not two alike). */
  const others = new Map<string, StepRow>();
  let index = 0;
  for (const { agg, latency, codes } of live.steps) {
    const own = index++ < stepCap;
    let row: StepRow;
    if (own && agg.name !== OTHER) {
      row = { role: agg.role, step: agg.name, ok: agg.ok, failed: agg.failed, skipped: agg.skipped, codes: new Map(), latency };
      steps.push(row);
    } else {
      let other = others.get(agg.role);
      if (!other) {
        other = { role: agg.role, step: OTHER, ok: 0, failed: 0, skipped: 0, codes: new Map(), latency: new LatencyStats() };
        others.set(agg.role, other);
        steps.push(other);
      }
      row = other;
      row.ok += agg.ok;
      row.failed += agg.failed;
      row.skipped += agg.skipped;
      row.latency.merge(latency);
    }
    for (const [code, n] of codes) {
      const label = codeLabel(code);
      row.codes.set(label, (row.codes.get(label) ?? 0) + n);
    }
  }
  return { live, steps };
}

/** A code's label: itself for the first CODE_LABEL_CAP distinct codes of the run that look like one, then `other`. */
function codeLabels(): (code: string) => string {
  const kept = new Set<string>();
  return (code) => {
    if (kept.has(code)) return code;
    if (!CODE_SHAPE.test(code) || kept.size >= CODE_LABEL_CAP) return OTHER;
    kept.add(code);
    return code;
  };
}
