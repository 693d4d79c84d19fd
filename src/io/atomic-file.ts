// Every file planrun writes into the report folder (report.json, junit.xml,
// report.html, summary.md, screenshots) goes through writeFileAtomic: a reader,
// a CI upload or a Ctrl-C never sees half a file. The content goes to a
// temporary file in the same folder (so the rename stays on one file system,
// where it is atomic), then replaces the target in one rename: the target holds
// either its old complete content or the new complete content, never a mix.
//
// No fsync: this guards against planrun stopping (signals, crashes), not the
// machine losing power, and flushing a 50 MB report to disk on every run costs.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, rmSync, writeFile } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { basename, dirname, join } from 'node:path';

/** Temporary files being written now: removed if the process exits before their rename (a second Ctrl-C). */
const pending = new Set<string>();
let exitHookInstalled = false;

function removePendingOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const temp of pending) rmSync(temp, { force: true });
  });
}

/**
 * The temporary file beside `file`. It starts with a dot, so it is hidden and
 * the summary's list of report files never shows it.
 */
function tempPathFor(file: string): string {
  return join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
}

const writeToFd = promisify(writeFile) as (fd: number, data: string | Uint8Array) => Promise<void>;

/** Writes `data` to `file` whole or not at all, creating its folder if needed. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  removePendingOnExit();
  const temp = tempPathFor(file);
  // Created on this thread, not the thread pool: once it is in `pending`, the
  // exit hook removes it. An asynchronous open could create it after the hook ran.
  const fd = openSync(temp, 'wx');
  pending.add(temp);
  try {
    try {
      await writeToFd(fd, data);
    } finally {
      closeSync(fd);
    }
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw new Error(`Could not write ${file}: ${(error as Error).message}. Check that its folder is writable.`, { cause: error });
  } finally {
    pending.delete(temp);
  }
}
