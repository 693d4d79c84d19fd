// planrun as a child process (controller or agent) from the sources, for the
// tests that need real processes: its output is kept and can be waited on.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { CLI_NODE_ARGS } from './cli-entry.js';

export interface Proc {
  child: ChildProcess;
  stderr(): string;
  /** Resolves once stdout and stderr so far match; rejects after `ms` (default a minute) quoting the output. */
  until(re: RegExp, ms?: number): Promise<void>;
  exit: Promise<number | null>;
  /** The exit code; rejects after `ms` (default a minute) quoting the output, so a hung process names itself. */
  ended(ms?: number): Promise<number | null>;
}

const started = new Set<ChildProcess>();

/** How long until() and ended() wait by default: a test that hangs says what the process had printed, before the test's own timeout. */
const UNTIL_MS = 60_000;

/**
 * `planrun ARGS`; `wrap` goes before node (e.g. `ip netns exec NAME`). The child gets its own process group, so
 * killProcesses() also ends what a wrapper started.
 */
export function planrun(args: string[], wrap: string[] = []): Proc {
  const argv = [...wrap, process.execPath, ...CLI_NODE_ARGS, ...args];
  const child = spawn(argv[0]!, argv.slice(1), { env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.add(child);
  let err = '';
  let all = '';
  const waiters: Array<{ re: RegExp; resolve(): void }> = [];
  const seen = (text: string) => {
    all += text;
    for (const w of [...waiters]) {
      if (!w.re.test(all)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  };
  child.stdout!.on('data', (d: Buffer) => seen(d.toString()));
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    seen(d.toString());
  });
  const exit = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      started.delete(child);
      resolve(code);
    }),
  );
  return {
    child,
    stderr: () => err,
    until: (re, ms = UNTIL_MS) => {
      if (re.test(all)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms}ms in the output of planrun ${args.join(' ')}:\n${all}`)), ms);
        waiters.push({
          re,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    exit,
    ended: (ms = UNTIL_MS) => {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`planrun ${args.join(' ')} still running after ${ms}ms; its output:\n${all}`)), ms);
      });
      return Promise.race([exit, late]).finally(() => clearTimeout(timer));
    },
  };
}

/** SIGKILLs every process group planrun() started that is still running (a test's `after`). */
export function killProcesses(): void {
  for (const c of started) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/**
 * The niceness of the children of `proc` named `name` (e.g. its private redis-server), sampled every 10 ms until it
 * exits: each value in the order seen, repeats left out. Linux only (its children are read from /proc).
 */
export async function watchChildNiceness(proc: Proc, name: string): Promise<number[]> {
  const seen: number[] = [];
  let exited = false;
  void proc.exit.then(() => (exited = true));
  const pid = proc.child.pid!;
  while (!exited) {
    let children: string[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
    } catch {
      // Gone: the loop ends with its exit.
    }
    for (const child of children) {
      try {
        if (readFileSync(`/proc/${child}/comm`, 'utf8').trim() !== name) continue;
        const nice = getPriority(Number(child));
        if (seen.at(-1) !== nice) seen.push(nice);
      } catch {
        // Exited between the list and the read.
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return seen;
}
