// The planrun command the tests run as a child process: the build in dist/
// (what `npx planrun` runs), which `npm test` makes before the tests. It starts
// in about half the time of the sources through tsx, and the suite starts some
// hundreds of planrun processes. A build older than a source file would test
// old code, so it is refused with what to run.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST_MAIN = join(ROOT, 'dist/cli/main.js');

function newestSource(dir: string): { file: string; mtimeMs: number } {
  let newest = { file: dir, mtimeMs: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const candidate = entry.isDirectory() ? newestSource(path) : { file: path, mtimeMs: statSync(path).mtimeMs };
    if (candidate.mtimeMs > newest.mtimeMs) newest = candidate;
  }
  return newest;
}

function checkedEntry(): string {
  let built: number;
  try {
    built = statSync(DIST_MAIN).mtimeMs;
  } catch {
    throw new Error(`${DIST_MAIN} is missing: run \`npm run build\` before the tests that start planrun (npm test does)`);
  }
  const source = newestSource(join(ROOT, 'src'));
  if (source.mtimeMs > built) throw new Error(`dist/ is older than ${source.file}: run \`npm run build\` before the tests that start planrun (npm test does)`);
  return DIST_MAIN;
}

/** `node` and its arguments before planrun's own: `[process.execPath, ...CLI_NODE_ARGS, 'run', …]`. */
export const CLI_NODE_ARGS: readonly string[] = [checkedEntry()];
