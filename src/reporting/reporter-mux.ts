// Feeds the run's events, load snapshots and final report to every reporter the run was given.
import type { RunEvent } from '../contract/events.js';
import type { RunReport } from '../contract/report.js';
import type { LoadSnapshot, Reporter } from '../contract/reporter.js';

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

  onLoad(load: LoadSnapshot): void {
    for (const r of this.reporters) {
      try {
        r.onLoad?.(load);
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
