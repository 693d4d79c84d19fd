// The load line of the terminal outputs (live view, plain CI log): a
// LoadSnapshot as one line. Only formats; the collector measured it.
import type { LoadSnapshot, RoleStage } from '../../contract/reporter.js';
import { formatDurationCompact } from '../../text/duration.js';
import { plural } from '../../text/plural.js';

/** `load: 48.0 req/s, p95 12.3ms, 0.00% errors, 4 workers active, 0 dropped, api stage 2/3 → 40.0/s` */
export function formatLoadLine(load: LoadSnapshot): string {
  const last = load.last;
  const measured = last
    ? [
        `${last.requestsPerSecond.toFixed(1)} req/s`,
        // Browser- or ws-only plans have no requests: their step rate says how busy the run is.
        ...(last.requestsPerSecond === 0 ? [`${last.stepsPerSecond.toFixed(1)} steps/s`] : []),
        `p95 ${formatDurationCompact(last.p95Ms)}`,
        `${last.errorRate === null ? '-' : (last.errorRate * 100).toFixed(2)}% errors`,
      ]
    : ['measuring'];
  const parts = [...measured, `${plural(load.activeWorkers, 'worker')} active`, `${load.dropped} dropped`, ...load.stages.map(formatStage)];
  return `load: ${parts.join(', ')}`;
}

function formatStage(s: RoleStage): string {
  const target = s.kind === 'arrival-rate' ? `${s.target.toFixed(1)}/s` : plural(Math.floor(s.target + 1e-9), 'worker');
  return `${s.role} stage ${s.stage}/${s.of} → ${target}`;
}
