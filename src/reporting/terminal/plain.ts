// Line-per-event output for CI logs and pipes: nothing is redrawn, every line
// stands alone and starts with the time since the run began.
import { TALLY_ROUND_FIELDS, type RunEvent, type StepTally } from '../../contract/events.js';
import type { RunReport } from '../../contract/report.js';
import type { LoadSnapshot, Reporter } from '../../contract/reporter.js';
import { formatLoadLine } from './load-line.js';
import { painter, type Paint } from '../../text/colour.js';
import { formatDurationCompact } from '../../text/duration.js';
import { plural } from '../../text/plural.js';
import { formatSummary } from './summary.js';

export interface TextSink {
  write(chunk: string): unknown;
}

export interface ConsoleReporterOptions {
  stream: TextSink;
  color: boolean;
  /** Report files written by the other reporters, listed under the summary. */
  files?: () => Promise<string[]>;
  cwd?: string;
}

const CRAWL_PROGRESS_EVERY_MS = 1000;
/** A log line per 250 ms snapshot would drown the failures: a CI log of an hour's run gets one every 10 s. */
export const LOAD_LINE_EVERY_MS = 10_000;
/**
 * A load test ends thousands of rounds a second: past these many, round ends and step failures are no longer
 * printed one by one (one line says so); the load line, the summary and report files carry the rest.
 */
export const PLAIN_LINES_CAP = { round: 1000, failure: 200 } as const;

interface RoundTally {
  begin: number;
  ok: number;
  failed: number;
  skipped: number;
}

export function plainReporter(o: ConsoleReporterOptions): Reporter {
  return new PlainReporter(o);
}

class PlainReporter implements Reporter {
  readonly name = 'plain';
  private readonly paint: Paint;
  private start?: number;
  private rounds?: number;
  private readonly phaseBegin = new Map<string, number>();
  private readonly tallies = new Map<number, RoundTally>();
  private lastCrawlLine = -Infinity;
  private lastLoadLine = 0;
  /** Round-end and failure lines printed so far, against PLAIN_LINES_CAP. */
  private readonly printed = { round: 0, failure: 0 };

  constructor(private readonly o: ConsoleReporterOptions) {
    this.paint = painter(o.color);
  }

  onEvent(e: RunEvent): void {
    if (e.type === 'steps:tally') {
      this.tallyLines(e.tally);
      return;
    }
    const line = this.lineFor(e);
    if (line !== undefined) this.o.stream.write(`${this.stamp(e.time)} ${line}\n`);
  }

  /** A tally's rounds, each the line its round:end would have printed (all their steps ended ok). */
  private tallyLines(t: StepTally): void {
    const { rounds } = t;
    for (let i = 0; i < rounds.length; i += TALLY_ROUND_FIELDS) {
      const end = rounds[i + 4]!;
      if (this.overCap('round', 'round ends', end)) return;
      const line = this.roundLine(rounds[i]!, t.roles[rounds[i + 1]!]!, rounds[i + 2]!, true, { begin: rounds[i + 3]!, ok: rounds[i + 5]!, failed: 0, skipped: 0 }, end);
      this.o.stream.write(`${this.stamp(end)} ${line}\n`);
    }
  }

  private roundLine(worker: number, role: string, round: number, ok: boolean, t: RoundTally | undefined, end: number): string {
    const p = this.paint;
    const of = this.rounds !== undefined ? `/${this.rounds}` : '';
    const counts = t
      ? `${t.ok} ok, ${t.failed > 0 ? p('red', `${t.failed} failed`) : '0 failed'}${t.skipped > 0 ? `, ${t.skipped} skipped` : ''} in ${formatDurationCompact(end - t.begin)}`
      : '';
    return `${ok ? '·' : p('red', '✖')} worker ${worker} (${role}) round ${round}${of}: ${counts}`;
  }

  /** The first line once the workers have run 10 s (a short run needs none), then every 10 s. */
  onLoad(load: LoadSnapshot): void {
    if (load.elapsedMs - this.lastLoadLine < LOAD_LINE_EVERY_MS) return;
    this.lastLoadLine = load.elapsedMs;
    this.o.stream.write(`${this.stamp(load.time)} ${formatLoadLine(load)}\n`);
  }

  async onEnd(report: RunReport): Promise<void> {
    const files = this.o.files ? await this.o.files() : [];
    this.o.stream.write(`\n${formatSummary(report, { color: this.o.color, files, cwd: this.o.cwd })}`);
  }

  /** True once lines of this kind are past their cap; the first one past it prints what is no longer printed. */
  private overCap(kind: keyof typeof PLAIN_LINES_CAP, what: string, time: number): boolean {
    const count = ++this.printed[kind];
    if (count <= PLAIN_LINES_CAP[kind]) return false;
    if (count === PLAIN_LINES_CAP[kind] + 1)
      this.o.stream.write(
        `${this.stamp(time)} … ${PLAIN_LINES_CAP[kind]} ${what} printed, no more from here: the load line every ${LOAD_LINE_EVERY_MS / 1000} s, the summary and the report files count them all\n`,
      );
    return true;
  }

  private stamp(time: number): string {
    const s = this.start === undefined ? 0 : (time - this.start) / 1000;
    return this.paint('dim', `[${s.toFixed(1).padStart(6)}s]`);
  }

  private lineFor(e: RunEvent): string | undefined {
    const p = this.paint;
    switch (e.type) {
      case 'run:begin': {
        this.start = e.time;
        this.rounds = e.run.rounds;
        const roles = e.run.roles.map((r) => `${r.name}×${r.workers.length}`).join(', ');
        const length = e.run.rounds !== undefined ? plural(e.run.rounds, 'round') : `for ${formatDurationCompact(e.run.durationMs)}`;
        return `${p('bold', e.run.planName)}: ${plural(e.run.workers, 'worker')} (${roles}), ${length} → ${e.run.reportDir}`;
      }
      case 'phase:begin':
        this.phaseBegin.set(e.phase, e.time);
        return `▶ ${e.phase}`;
      case 'phase:end': {
        const took = formatDurationCompact(e.time - (this.phaseBegin.get(e.phase) ?? e.time));
        return e.ok ? `${p('green', '✔')} ${e.phase} done in ${took}` : `${p('red', '✖')} ${e.phase} failed after ${took}${e.message ? `: ${e.message}` : ''}`;
      }
      case 'service': {
        const mark = e.status === 'failed' ? p('red', '✖') : e.status === 'ready' ? p('green', '✔') : '·';
        return `${mark} service ${e.name}: ${e.status}${e.message ? ` — ${e.message}` : ''}${e.status === 'failed' && e.logFile ? ` (log: ${e.logFile})` : ''}`;
      }
      case 'round:begin':
        this.tallies.set(e.worker, { begin: e.time, ok: 0, failed: 0, skipped: 0 });
        return undefined;
      case 'step:end': {
        const r = e.result;
        const t = this.tallies.get(r.worker);
        if (t) t[r.outcome]++;
        if (r.outcome !== 'failed' || this.overCap('failure', 'step failures', e.time)) return undefined;
        const code = r.error?.code ? p('dim', ` [${r.error.code}]`) : '';
        return `${p('red', '✖')} worker ${r.worker} (${r.role}) round ${r.round} step "${r.name}": ${r.error?.message ?? 'failed'}${code}`;
      }
      case 'round:end': {
        const t = this.tallies.get(e.worker);
        if (this.overCap('round', 'round ends', e.time)) return undefined;
        return this.roundLine(e.worker, e.role, e.round, e.ok, t, e.time);
      }
      case 'worker:end':
        return e.outcome === 'done' ? undefined : `${p('yellow', '■')} worker ${e.worker} (${e.role}) ${e.outcome} after ${plural(e.rounds, 'round')}`;
      case 'crawl:progress': {
        if (e.time - this.lastCrawlLine < CRAWL_PROGRESS_EVERY_MS) return undefined;
        this.lastCrawlLine = e.time;
        const c = e.progress;
        return `crawl: ${c.done} done, ${c.queued} queued, ${c.inFlight} in flight, ${c.broken > 0 ? p('red', `${c.broken} broken`) : '0 broken'}, ${c.pagesPerSecond.toFixed(1)} pages/s`;
      }
      case 'log':
        return e.level === 'info' ? e.message : `${e.level === 'error' ? p('red', 'error') : p('yellow', 'warning')}: ${e.message}`;
      // run:end says nothing here: thresholds can still turn the verdict, the summary gives it.
      default:
        return undefined;
    }
  }
}
