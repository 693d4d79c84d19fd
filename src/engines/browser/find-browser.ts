// Which Chromium to launch: the plan's choice, then the environment, then
// Playwright's own download, then the usual system paths. The first that exists wins.
import { accessSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { BrowserSpec } from '../../contract/plan.js';

export interface FoundBrowser {
  path: string;
  /** Where the path came from, e.g. `plan browser.executablePath` or `PLANRUN_BROWSER`. */
  source: string;
}

export const SYSTEM_BROWSER_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

export class BrowserNotFoundError extends Error {
  constructor(readonly looked: string[]) {
    super(
      'No Chromium browser found for the browser steps. Get one in any of these ways:\n' +
        '  - on Debian/Ubuntu: apt-get install -y chromium\n' +
        "  - Playwright's own build: npx playwright install chromium\n" +
        '  - point planrun at an installed Chromium/Chrome: set PLANRUN_BROWSER=/path/to/chrome ' +
        'or browser.executablePath in the plan\n' +
        'Looked in:\n' +
        looked.map((l) => `  - ${l}`).join('\n'),
    );
    this.name = 'BrowserNotFoundError';
  }
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** playwright-core's registry path for its own Chromium download (may not be installed). */
function playwrightRegistryPath(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    const { chromium } = require('playwright-core') as typeof import('playwright-core');
    return chromium.executablePath() || undefined;
  } catch {
    return undefined;
  }
}

export function findBrowser(
  spec: Pick<BrowserSpec, 'executablePath'>,
  env: Record<string, string | undefined> = process.env,
  systemPaths: string[] = SYSTEM_BROWSER_PATHS,
): FoundBrowser {
  const looked: string[] = [];
  const explicit: Array<[string | undefined, string]> = [
    [spec.executablePath, 'plan browser.executablePath'],
    [env.PLANRUN_BROWSER, 'PLANRUN_BROWSER'],
    [env.CHROME_PATH, 'CHROME_PATH'],
  ];
  for (const [path, source] of explicit) {
    if (!path) continue;
    // A path the user named but that is wrong is an error, not a reason to fall back silently.
    if (!isExecutableFile(path)) {
      throw new Error(`The browser named by ${source} (${path}) does not exist or is not executable. Fix the path, or unset it to let planrun look for Chromium itself.`);
    }
    return { path, source };
  }
  looked.push('plan browser.executablePath (not set)', 'PLANRUN_BROWSER / CHROME_PATH (not set)');
  const registry = playwrightRegistryPath();
  if (registry) {
    if (isExecutableFile(registry)) return { path: registry, source: 'playwright-core browsers' };
    looked.push(`${registry} (playwright-core's own browser, not installed)`);
  }
  for (const path of systemPaths) {
    if (isExecutableFile(path)) return { path, source: 'system' };
    looked.push(path);
  }
  throw new BrowserNotFoundError(looked);
}
