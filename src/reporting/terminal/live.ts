// Live view for a terminal, drawn by listr2. listr2 runs tasks; a run is an event
// stream. The bridge: one task per phase (services, workers with a subtask per
// role, crawl, reports) whose function awaits promises that events resolve, and
// titles rewritten from counters (and the load line from the collector's
// snapshots, Reporter.onLoad) at most every REFRESH_MS.
import { Listr, ListrLogger, ProcessOutput, type ListrDefaultRenderer, type ListrSimpleRenderer, type ListrTaskWrapper } from 'listr2';
import { TALLY_ROUND_FIELDS, type Phase, type RunEvent, type RunInfo } from '../../contract/events.js';
import type { RunReport } from '../../contract/report.js';
import type { LoadSnapshot, Reporter } from '../../contract/reporter.js';
import { formatLoadLine } from './load-line.js';
import type { ConsoleReporterOptions } from './plain.js';
import { formatSummary } from './summary.js';
import { plural } from '../../text/plural.js';

const REFRESH_MS = 100;

// A task of ours: no listr context; the default renderer, the simple one as fallback (listr2's defaults).
type TaskHandle = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

class Deferred<T> {
  resolve!: (value: T) => void;
  settled = false;
  readonly promise = new Promise<T>((resolve) => {
    this.resolve = (v) => {
      if (this.settled) return;
      this.settled = true;
      resolve(v);
    };
  });
}

interface PhaseState {
  name: Phase;
  began: Deferred<boolean>;
  ended: Deferred<{ ok: boolean; message?: string }>;
  task?: TaskHandle;
  detail?: string;
}

interface RoleState {
  name: string;
  workers: number;
  ended: number;
  round: number;
  ok: number;
  failed: number;
  skipped: number;
  lastFailure?: string;
  shownFailure?: string;
  done: Deferred<void>;
  task?: TaskHandle;
}

export interface LiveReporterOptions extends ConsoleReporterOptions {
  /** Where listr2 draws; a TTY write stream. Defaults to process.stdout. */
  stream: NodeJS.WritableStream & ConsoleReporterOptions['stream'];
}

export function liveReporter(o: LiveReporterOptions): Reporter {
  return new LiveReporter(o);
}

class LiveReporter implements Reporter {
  readonly name = 'live';
  private run?: RunInfo;
  private readonly phases = new Map<Phase, PhaseState>();
  private readonly roles = new Map<string, RoleState>();
  private readonly services = new Map<string, string>();
  private running?: Promise<void>;
  /** The latest load, shown in the workers phase's title while it runs. */
  private load?: LoadSnapshot;
  private timer?: NodeJS.Timeout;
  private dirty = false;

  constructor(private readonly o: LiveReporterOptions) {}

  onEvent(e: RunEvent): void {
    switch (e.type) {
      case 'run:begin':
        this.start(e.run);
        return;
      case 'phase:begin':
        this.phase(e.phase)?.began.resolve(true);
        break;
      case 'phase:end': {
        const p = this.phase(e.phase);
        p?.began.resolve(true);
        p?.ended.resolve({ ok: e.ok, message: e.message });
        if (e.phase === 'workers') for (const r of this.roles.values()) r.done.resolve();
        break;
      }
      case 'service':
        this.services.set(e.name, e.status);
        break;
      case 'round:begin': {
        const r = this.roles.get(e.role);
        if (r) r.round = Math.max(r.round, e.round);
        break;
      }
      case 'step:end': {
        const res = e.result;
        const r = this.roles.get(res.role);
        if (!r) break;
        r[res.outcome]++;
        if (res.outcome === 'failed') r.lastFailure = `worker ${res.worker} round ${res.round} "${res.name}": ${res.error?.message ?? 'failed'}`;
        break;
      }
      case 'steps:tally': {
        const { rounds, roles } = e.tally;
        for (let i = 0; i < rounds.length; i += TALLY_ROUND_FIELDS) {
          const r = this.roles.get(roles[rounds[i + 1]!]!);
          if (!r) continue;
          r.round = Math.max(r.round, rounds[i + 2]!);
          r.ok += rounds[i + 5]!;
        }
        break;
      }
      case 'worker:end': {
        const r = this.roles.get(e.role);
        if (r && ++r.ended >= r.workers) r.done.resolve();
        break;
      }
      case 'crawl:progress': {
        const c = e.progress;
        const p = this.phase('crawl');
        if (p) p.detail = `${c.done} done, ${c.queued} queued, ${c.inFlight} in flight, ${c.broken} broken, ${c.pagesPerSecond.toFixed(1)} pages/s`;
        break;
      }
      case 'run:end':
        // Phases that never began (no services, aborted before the crawl) are skipped.
        for (const p of this.phases.values()) if (p.name !== 'reports') p.began.resolve(false);
        break;
      default:
        return;
    }
    this.dirty = true;
  }

  onLoad(load: LoadSnapshot): void {
    this.load = load;
    this.dirty = true;
  }

  async onEnd(report: RunReport): Promise<void> {
    const files = this.o.files ? await this.o.files() : [];
    const reports = this.phase('reports');
    if (reports) {
      reports.detail = files.map((f) => f.split(/[\\/]/).pop()).join(', ') || 'none written';
      reports.began.resolve(true);
      reports.ended.resolve({ ok: true });
    }
    // A report can arrive without run:end (a crash): settle everything left waiting.
    for (const p of this.phases.values()) {
      p.began.resolve(false);
      p.ended.resolve({ ok: true });
    }
    for (const r of this.roles.values()) r.done.resolve();
    await this.running;
    this.o.stream.write(`\n${formatSummary(report, { color: this.o.color, files, cwd: this.o.cwd })}`);
  }

  private phase(name: Phase): PhaseState | undefined {
    return this.phases.get(name);
  }

  private start(run: RunInfo): void {
    this.run = run;
    // Setup and teardown show only in a plan that has them; their steps are listed under those roles.
    const has = (role: string) => run.steps.some((s) => s.role === role);
    const names: Phase[] = [
      'services',
      ...(has('setup') ? (['setup'] as const) : []),
      'workers',
      ...(run.hasCrawl ? (['crawl'] as const) : []),
      ...(has('teardown') ? (['teardown'] as const) : []),
      'reports',
    ];
    for (const name of names) this.phases.set(name, { name, began: new Deferred(), ended: new Deferred() });
    for (const role of run.roles) {
      this.roles.set(role.name, { name: role.name, workers: role.workers.length, ended: 0, round: 0, ok: 0, failed: 0, skipped: 0, done: new Deferred() });
    }

    const listr = new Listr(
      [...this.phases.values()].map((p) => ({ title: p.name, task: (_ctx: unknown, task: TaskHandle) => this.runPhase(p, task) })),
      {
        concurrent: true,
        exitOnError: false,
        // The runner owns SIGINT (graceful stop, partial report); listr must not exit on it.
        registerSignalListeners: false,
        rendererOptions: { collapseSubtasks: false, collapseErrors: false, ...this.logger() },
        fallbackRendererOptions: { ...this.logger() },
      },
    );
    this.running = listr.run().then(
      () => undefined,
      () => undefined,
    );
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.timer.unref();
    void this.running.finally(() => {
      clearInterval(this.timer);
    });
  }

  /** listr2 draws on process.stdout unless given an output; route it to our stream. */
  private logger(): { logger?: ListrLogger } {
    if (this.o.stream === process.stdout) return {};
    const stream = this.o.stream as NodeJS.WriteStream;
    return { logger: new ListrLogger({ useIcons: true, toStderr: [], processOutput: new ProcessOutput(stream, stream) }) };
  }

  private async runPhase(p: PhaseState, task: TaskHandle): Promise<unknown> {
    p.task = task;
    task.title = `${p.name} (waiting)`;
    if (!(await p.began.promise)) {
      task.title = p.name;
      task.skip(`${p.name}: not run`);
      return;
    }
    this.dirty = true;
    if (p.name === 'workers') {
      return task.newListr(
        [...this.roles.values()].map((r) => ({
          title: r.name,
          task: async (_ctx: unknown, sub: TaskHandle) => {
            r.task = sub;
            this.dirty = true;
            await r.done.promise;
            this.refresh(true);
            if (r.failed > 0) throw new Error(`${plural(r.failed, 'failed step')}${r.lastFailure ? `, last: ${r.lastFailure}` : ''}`);
          },
        })),
        { concurrent: true, exitOnError: false },
      );
    }
    const end = await p.ended.promise;
    this.refresh(true);
    if (!end.ok) throw new Error(`${p.name}: ${end.message ?? 'failed'}`);
  }

  private roleTitle(r: RoleState): string {
    const of = this.run?.rounds !== undefined ? `/${this.run.rounds}` : '';
    const skipped = r.skipped > 0 ? `, ${r.skipped} skipped` : '';
    return `${r.name} ×${r.workers}: round ${r.round}${of}, ${r.ok} ok, ${r.failed} failed${skipped}`;
  }

  /** Rewrites titles from the counters; throttled because every title change redraws. */
  private refresh(force = false): void {
    if (!this.dirty && !force) return;
    this.dirty = false;
    for (const p of this.phases.values()) {
      if (!p.task || !p.began.settled) continue;
      if (p.name === 'services') {
        const list = [...this.services].map(([name, status]) => `${name} ${status}`).join(', ');
        p.task.title = list ? `services: ${list}` : 'services';
      } else if (p.name === 'workers') {
        const done = [...this.roles.values()].reduce((n, r) => n + r.ended, 0);
        const load = this.load && !p.ended.settled ? ` · ${formatLoadLine(this.load)}` : '';
        p.task.title = `workers: ${done}/${this.run?.workers ?? 0} done${load}`;
      } else {
        p.task.title = p.detail ? `${p.name}: ${p.detail}` : p.name;
      }
    }
    for (const r of this.roles.values()) {
      if (!r.task) continue;
      r.task.title = this.roleTitle(r);
      // Only on change: some renderers print every output write as a new line.
      if (r.lastFailure && r.lastFailure !== r.shownFailure) r.task.output = `✖ ${(r.shownFailure = r.lastFailure)}`;
    }
  }
}
