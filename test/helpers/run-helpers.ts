// Shared by the runtime tests: the pad and WebSocket fixture servers on free ports, and a
// way to run an inline plan while keeping every event it emitted.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePlan } from '../../src/plan/load.js';
import type { RunEvent, StepResult } from '../../src/contract/events.js';
import { runPlan, type RunOptions, type RunResult } from '../../src/runtime/run.js';

export const PAD_SERVER = fileURLToPath(new URL('../fixtures/pad/server.mjs', import.meta.url));

export interface Pad {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export const WS_SERVER = fileURLToPath(new URL('../fixtures/ws/server.mjs', import.meta.url));

export function startPad(): Promise<Pad> {
  return startFixture(PAD_SERVER);
}

/** The WebSocket fixture server (broadcast, echo, hello; see its header). */
export function startWsServer(): Promise<Pad> {
  return startFixture(WS_SERVER);
}

/** Starts a fixture server script on port 0 and reads its port from the `listening on` line. */
async function startFixture(script: string): Promise<Pad> {
  const child: ChildProcess = spawn(process.execPath, [script, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export interface Recorded extends RunResult {
  events: RunEvent[];
  results: StepResult[];
}

export async function runYaml(yaml: string, options: Partial<RunOptions> = {}): Promise<Recorded> {
  const plan = parsePlan(yaml, join(tmpdir(), 'inline-plan.yml'));
  const events: RunEvent[] = [];
  const reportDir = options.reportDir ?? (await mkdtemp(join(tmpdir(), 'planrun-test-')));
  const result = await runPlan(plan, {
    reportDir,
    runId: 'test',
    ...options,
    emit: (e) => {
      events.push(e);
      options.emit?.(e);
    },
  });
  const results = events.flatMap((e) => (e.type === 'step:end' ? [e.result] : []));
  return { ...result, events, results };
}

/** Results of one step name, optionally in one round. */
export function named(results: StepResult[], name: string, round?: number): StepResult[] {
  return results.filter((r) => r.name === name && (round === undefined || r.round === round));
}

export const end = (r: StepResult) => r.start + r.durationMs;
