// The one interface every output implements. A reporter sees the live event
// stream, then the finished report model (built once by the metrics collector)
// from which it renders its file.
import type { RunEvent } from './events.js';
import type { RunReport } from './report.js';

export interface Reporter {
  readonly name: string;
  onEvent?(event: RunEvent): void;
  /** Called once with the final report; write files here. Must not throw for a partial run. */
  onEnd?(report: RunReport): Promise<void> | void;
}

/** Feeds several reporters at once; one failing reporter never silences the others. */
export class ReporterMux implements Reporter {
  readonly name = 'mux';
  readonly errors: Array<{ reporter: string; error: unknown }> = [];
  constructor(private readonly reporters: Reporter[]) {}

  onEvent(event: RunEvent): void {
    for (const r of this.reporters) {
      try {
        r.onEvent?.(event);
      } catch (error) {
        this.errors.push({ reporter: r.name, error });
      }
    }
  }

  async onEnd(report: RunReport): Promise<void> {
    for (const r of this.reporters) {
      try {
        await r.onEnd?.(report);
      } catch (error) {
        this.errors.push({ reporter: r.name, error });
      }
    }
  }
}
