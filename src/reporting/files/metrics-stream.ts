// metrics.ndjson: the time series streamed while the run goes, one JSON line
// per closed bucket. Unlike the other report files it is appended to, not
// replaced whole: each line is written synchronously as its bucket closes (about
// one a second, a few hundred bytes), so a run killed hard (SIGKILL, OOM, a lost
// machine) still leaves every bucket before its last second.
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { SeriesBucket } from '../../contract/report.js';

export const METRICS_STREAM_FILE = 'metrics.ndjson';

export interface MetricsStream {
  readonly file: string;
  write(bucket: SeriesBucket): void;
  close(): void;
  /** Why streaming stopped (a full disk): the run and its other reports go on without it. */
  readonly error: unknown;
}

/** Starts `dir/metrics.ndjson` afresh (a previous run's lines are dropped); `dir` must exist. */
export function openMetricsStream(dir: string): MetricsStream {
  const file = join(dir, METRICS_STREAM_FILE);
  let fd: number | undefined = openSync(file, 'w');
  let error: unknown;
  const close = () => {
    if (fd !== undefined) closeSync(fd);
    fd = undefined;
  };
  return {
    file,
    write(bucket) {
      if (fd === undefined) return;
      try {
        writeSync(fd, `${JSON.stringify(bucket)}\n`);
      } catch (err) {
        error = err;
        close();
      }
    },
    close,
    get error() {
      return error;
    },
  };
}
