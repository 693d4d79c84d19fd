// Bench children run their bench file compiled to plain JS (as planrun
// ships), not through tsx, whose loader alone adds ~50 MB of RSS. The bundle
// is split at dynamic imports, so a child loads only what it uses (a lazily
// imported browser engine or peer tool stays out of the planrun child's RSS).
// It sits in .planrun/bench-NAME/ (git-ignored): two levels below the project,
// as src/plan/ is, so a module that finds a file by its own URL
// (`../../schemas/plan.schema.json`) finds it, and its bare imports resolve to
// the project's node_modules.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Compiles `entry` (a bench file's path) and returns the script to give `node`. */
export async function buildChildBundle(entry: string): Promise<string> {
  const esbuild = await import('esbuild');
  const name = entry.replace(/^.*\//, '').replace(/\.ts$/, '');
  const outdir = fileURLToPath(new URL(`../../.planrun/bench-${name}/`, import.meta.url));
  await esbuild.build({
    entryPoints: { [name]: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  return join(outdir, `${name}.mjs`);
}
