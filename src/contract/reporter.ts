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
