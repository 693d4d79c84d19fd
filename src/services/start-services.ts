// Starts a plan's `services` (the servers under test) before the workers and stops
// them after: each in its own process group so the whole tree goes, whatever the
// command spawned. Output goes to <reportDir>/services/<name>.log.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import type { ServiceSpec } from '../contract/plan.js';
import type { RunEvent } from '../contract/events.js';

export interface StartServicesOptions {
  reportDir: string;
  emit(e: RunEvent): void;
  signal?: AbortSignal;
}

export interface RunningServices {
  /** Stops every service (SIGTERM to its group, SIGKILL after 5 s) and waits until all are gone. */
  stop(): Promise<void>;
}

const TAIL_LINES = 20;
const KILL_AFTER_MS = 5000;
const POLL_MS = 100;

/** Groups still alive in this process: killed on exit so nothing outlives planrun. */
const liveGroups = new Set<number>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pgid of liveGroups) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, sig);
    return true;
  } catch {
    return false;
  }
}

/** Live (non-zombie) processes of a group. Zombies are ignored: an orphan whose parent
 *  never reaps it would otherwise look alive forever. */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    // No /proc (not Linux): ask the kernel whether anything of the group is left.
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EPERM' ? [pgid] : [];
    }
  }
  const members: number[] = [];
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Fields after the parenthesised command: state ppid pgrp …
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') members.push(Number(name));
    } catch {
      /* exited while we looked */
    }
  }
  return members;
}

function groupAlive(pgid: number): boolean {
  return groupMembers(pgid).length > 0;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The last lines of a service's output, for error messages. */
class Tail {
  private lines: string[] = [];
  private partial = '';
  push(chunk: string): string[] {
    const parts = (this.partial + chunk).split(/\r?\n/);
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > TAIL_LINES) this.lines.splice(0, this.lines.length - TAIL_LINES);
    return parts;
  }
  text(): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    const last = all.slice(-TAIL_LINES);
    return last.length ? last.map((l) => `  | ${l}`).join('\n') : '  (no output)';
  }
}

class ServiceProcess {
  readonly child: ChildProcess;
  readonly pgid: number;
  readonly tail = new Tail();
  readonly logPath: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitInfo?: { code: number | null; signal: NodeJS.Signals | null };
  private log: WriteStream;
  private lineListeners: Array<(line: string) => void> = [];

  constructor(
    readonly spec: ServiceSpec,
    readonly logRel: string,
    reportDir: string,
  ) {
    this.logPath = join(reportDir, logRel);
    this.log = createWriteStream(this.logPath, { flags: 'a' });
    this.child = spawn(spec.command, {
      shell: true,
      detached: true,
      cwd: spec.cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      this.child.once('error', (err) => {
        this.tail.push(`planrun: could not start the command: ${err.message}\n`);
        this.exitInfo = { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
    // Never what keeps planrun alive: if the run forgets stop(), the exit hook kills the group.
    this.child.unref();
    for (const stream of [this.child.stdout, this.child.stderr]) (stream as unknown as { unref?(): void } | null)?.unref?.();
    this.pgid = this.child.pid ?? -1;
    if (this.pgid > 0) liveGroups.add(this.pgid);
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.log.write(chunk);
        for (const line of this.tail.push(chunk)) for (const l of this.lineListeners) l(line);
      });
    }
  }

  onLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }

  describeExit(): string {
    const x = this.exitInfo;
    if (!x) return 'is still running';
    if (x.signal) return `was killed by ${x.signal}`;
    if (x.code === null) return 'could not be started';
    return `exited with code ${x.code}`;
  }

  /**
   * SIGTERM to the whole group; SIGKILL if anything of it is left after 5 s.
   * Returns how it ended: stopped by planrun (its main process still ran when
   * asked to stop, so its exit code or signal is planrun's doing), or on its own.
   */
  async stop(): Promise<StopOutcome> {
    if (this.pgid <= 0) return { by: 'itself' };
    // A dead main process not yet reaped is a zombie, which groupMembers leaves out.
    const running = !this.exitInfo && groupMembers(this.pgid).includes(this.pgid);
    let killed = false;
    if (groupAlive(this.pgid)) {
      killGroup(this.pgid, 'SIGTERM');
      const until = Date.now() + KILL_AFTER_MS;
      while (groupAlive(this.pgid) && Date.now() < until) await sleep(50);
      if (groupAlive(this.pgid)) {
        killed = true;
        killGroup(this.pgid, 'SIGKILL');
        while (groupAlive(this.pgid)) await sleep(20);
      }
    }
    if (!this.exitInfo && this.child.exitCode === null && this.child.signalCode === null) {
      await Promise.race([this.exited, sleep(1000)]);
    }
    liveGroups.delete(this.pgid);
    await new Promise<void>((r) => this.log.end(r));
    return running ? { by: 'planrun', killed } : { by: 'itself' };
  }
}

type StopOutcome = { by: 'planrun'; killed: boolean } | { by: 'itself' };

/** The `service` event for a service just stopped. */
function stoppedEvent(svc: ServiceProcess, how: StopOutcome, failedBefore: boolean): RunEvent {
  const base = { type: 'service', time: Date.now(), name: svc.spec.name, logFile: svc.logRel } as const;
  if (how.by === 'planrun') {
    return { ...base, status: 'stopped', message: how.killed ? `stopped by planrun (SIGKILL: still running ${KILL_AFTER_MS / 1000} s after SIGTERM)` : 'stopped by planrun' };
  }
  // Its failure to start was reported already.
  if (failedBefore) return { ...base, status: 'stopped', message: svc.describeExit() };
  // Ended cleanly by itself: a launcher that leaves the server in the background.
  if (svc.exitInfo?.code === 0) return { ...base, status: 'stopped', message: 'exited with code 0 on its own' };
  return {
    ...base,
    status: 'failed',
    message: `Service "${svc.spec.name}" ${svc.describeExit()} during the run, before planrun stopped it. Last lines of its output (${svc.logPath}):\n${svc.tail.text()}`,
  };
}

/** Resolves when the service is ready; rejects with a sentence if it is not. */
function waitReady(svc: ServiceProcess, signal: AbortSignal): Promise<void> {
  const { spec } = svc;
  return new Promise<void>((resolve, reject) => {
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      err ? reject(err) : resolve();
    };
    const what = [spec.readyUrl && `${spec.readyUrl} to answer`, spec.readyLog && `a line matching ${spec.readyLog}`].filter(Boolean).join(' or ');
    const timer = setTimeout(() => {
      finish(
        new Error(
          `Service "${spec.name}" was not ready within ${spec.timeoutMs / 1000} s (waited for ${what || 'it to start'}). ` +
            `Last lines of its output (${svc.logPath}):\n${svc.tail.text()}`,
        ),
      );
    }, spec.timeoutMs);
    const onAbort = () => finish(new Error(`Service "${spec.name}" was not started: the run was stopped`));
    signal.addEventListener('abort', onAbort, { once: true });
    void svc.exited.then(() => {
      // Let the last output arrive before quoting it.
      setTimeout(
        () => finish(new Error(`Service "${spec.name}" ${svc.describeExit()} before it was ready. ` + `Last lines of its output (${svc.logPath}):\n${svc.tail.text()}`)),
        50,
      );
    });
    if (spec.readyLog) {
      const re = spec.readyLog;
      svc.onLine((line) => {
        if (re.test(line)) finish();
      });
    }
    if (spec.readyUrl) {
      const url = spec.readyUrl;
      void (async () => {
        while (!done) {
          try {
            const res = await fetch(url, { signal: AbortSignal.timeout(2000), redirect: 'manual' });
            await res.body?.cancel();
            if (res.status < 500) return finish();
          } catch {
            /* not listening yet */
          }
          if (!done) await sleep(POLL_MS);
        }
      })();
    }
    if (!spec.readyUrl && !spec.readyLog) {
      svc.child.once('spawn', () => finish());
    }
  });
}

export async function startServices(specs: ServiceSpec[], o: StartServicesOptions): Promise<RunningServices> {
  const signal = o.signal ?? new AbortController().signal;
  const started: ServiceProcess[] = [];
  /** Services whose failure to start was reported. */
  const failed = new Set<ServiceProcess>();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      signal.removeEventListener('abort', onAbort);
      for (const svc of [...started].reverse()) o.emit(stoppedEvent(svc, await svc.stop(), failed.has(svc)));
    })());
  const onAbort = () => void stop();

  if (specs.length === 0) return { stop: async () => undefined };
  installExitHook();
  mkdirSync(join(o.reportDir, 'services'), { recursive: true });
  signal.addEventListener('abort', onAbort, { once: true });

  // In order: a later service may need an earlier one (a database before the app).
  for (const spec of specs) {
    if (signal.aborted) break;
    if (!existsSync(spec.cwd)) {
      await stop();
      throw new Error(`Service "${spec.name}" cannot start: its working folder ${spec.cwd} does not exist (cwd is relative to the plan file).`);
    }
    const logRel = join('services', `${spec.name.replace(/[^\w.-]+/g, '-')}.log`);
    o.emit({ type: 'service', time: Date.now(), name: spec.name, status: 'starting', message: spec.command, logFile: logRel });
    const svc = new ServiceProcess(spec, logRel, o.reportDir);
    started.push(svc);
    const t0 = Date.now();
    try {
      await waitReady(svc, signal);
    } catch (e) {
      const message = (e as Error).message;
      failed.add(svc);
      o.emit({ type: 'service', time: Date.now(), name: spec.name, status: 'failed', message, logFile: logRel });
      await stop();
      throw e;
    }
    o.emit({ type: 'service', time: Date.now(), name: spec.name, status: 'ready', message: `ready in ${Date.now() - t0} ms`, logFile: logRel });
  }
  if (signal.aborted) {
    await stop();
    throw new Error('Services were not started: the run was stopped');
  }
  return { stop };
}
