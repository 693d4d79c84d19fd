// `planrun` as a user runs it, in a child process: the build in dist/
// (cli-entry.ts), without colour (NO_COLOR=1). The tests that run the CLI share these two
// runners: one that blocks until the command ends, and one that does not (for
// runs against servers in the test's own process, and for signals sent while
// it runs).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { CLI_NODE_ARGS } from './cli-entry.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  /** Added to this process's environment (and NO_COLOR=1): `{ CI: 'true' }` for the plain live output. */
  env?: NodeJS.ProcessEnv;
  /** The command is killed past this; default 30 s. */
  timeoutMs?: number;
}

/** Sees all the output of one stream so far, each time more arrives. */
export type Watch = (text: string, child: ChildProcess) => void;

const command = (args: string[]) => [...CLI_NODE_ARGS, ...args];
const environment = (o: CliOptions): NodeJS.ProcessEnv => ({ ...process.env, NO_COLOR: '1', ...o.env });

/** Runs `planrun ARGS…` to its end, blocking this process. */
export function planrunSync(args: string[], o: CliOptions = {}): CliRun {
  const r = spawnSync(process.execPath, command(args), { encoding: 'utf8', timeout: o.timeoutMs ?? 30_000, env: environment(o) });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `planrun ARGS…` without blocking this process; the watchers can signal
 * the child once its output shows it got somewhere. Rejects, with what it
 * printed, when the command outlives its timeout (it is then killed).
 */
export function planrun(args: string[], o: CliOptions & { onStdout?: Watch; onStderr?: Watch } = {}): Promise<CliRun> {
  const timeoutMs = o.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, command(args), { env: environment(o) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      o.onStdout?.(stdout, child);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      o.onStderr?.(stderr, child);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`planrun ${args.join(' ')} did not finish within ${timeoutMs} ms:\n${stderr}${stdout}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
