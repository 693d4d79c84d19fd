// Ctrl-C and SIGTERM for a run session (session.ts, `planrun run`), by phase:
// - run: the first signal stops the run gracefully; what ran is reported.
// - reports: the run is over and its reports are being written; the first
//   signal lets them finish and only makes the exit code 130.
// In either phase a second signal exits at once: report files are written
// atomically (io/atomic-file.ts), so that never leaves a truncated one.
// The handlers stay installed until the reports are written: without them the
// default action of a signal kills planrun mid-report, silently.

export type InterruptPhase = 'run' | 'reports';

export interface InterruptOptions {
  /** Where the one line about the signal goes; default stderr. */
  write?(text: string): void;
  /** Leaves at once on a second signal; default process.exit. */
  exit?(code: number): void;
}

export const INTERRUPTED_EXIT_CODE = 130;

export class Interrupts {
  private readonly stop = new AbortController();
  private readonly any = new AbortController();
  private phase: InterruptPhase = 'run';
  private signalName?: NodeJS.Signals;
  private readonly write: (text: string) => void;
  private readonly exit: (code: number) => void;
  private readonly onSignal = (sig: NodeJS.Signals) => this.received(sig);

  constructor(o: InterruptOptions = {}) {
    this.write = o.write ?? ((text) => process.stderr.write(text));
    this.exit = o.exit ?? ((code) => process.exit(code));
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /** Aborted by the first signal of the run phase: stops the run. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  /** Aborted by the first signal in any phase: ends what only waits once the reports are written (the metrics linger). */
  get anySignal(): AbortSignal {
    return this.any.signal;
  }

  /** The first signal received, in any phase. */
  get interrupted(): NodeJS.Signals | undefined {
    return this.signalName;
  }

  /** The run is over: from now on a first signal lets the reports finish. */
  reporting(): void {
    this.phase = 'reports';
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }

  private received(sig: NodeJS.Signals): void {
    if (this.signalName) {
      this.exit(INTERRUPTED_EXIT_CODE);
      return;
    }
    this.signalName = sig;
    this.any.abort(new Error(sig));
    if (this.phase === 'run') {
      this.write(`\nplanrun: ${sig} received: stopping the run and writing the report (press Ctrl-C again to quit at once)\n`);
      this.stop.abort(new Error(sig));
    } else {
      this.write(`\nplanrun: ${sig} received: finishing the reports, then exiting with ${INTERRUPTED_EXIT_CODE} (press Ctrl-C again to quit at once)\n`);
    }
  }
}
