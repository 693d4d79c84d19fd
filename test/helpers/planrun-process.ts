// planrun as a real process (`node --import tsx src/cli/main.ts …`), for the
// agents' end-to-end tests: its output as it comes, a wait for a line, its exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

export interface Proc {
  child: ChildProcess;
  stderr(): string;
  /** Resolves once stdout or stderr matches. */
  until(re: RegExp): Promise<void>;
  exit: Promise<number | null>;
}

/** Starts planrun with `args`; every process started is pushed on `children` (for the test's cleanup). */
export function planrun(args: string[], children: ChildProcess[]): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
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
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stderr: () => err,
    until: (re) => (re.test(all) ? Promise.resolve() : new Promise((resolve) => waiters.push({ re, resolve }))),
    exit,
  };
}
