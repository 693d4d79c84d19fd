// Which Chromium planrun launches, in which order it looks, and what it says when there is none.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { BrowserNotFoundError, findBrowser, SYSTEM_BROWSER_PATHS } from '../../src/engines/browser/find-browser.js';
import { launchArgs } from '../../src/engines/browser/browser-engine.js';

function fakeBrowsers(names: string[]): { dir: string; paths: string[]; done(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'planrun-find-'));
  const paths = names.map((n) => {
    const p = join(dir, n);
    writeFileSync(p, '#!/bin/sh\n');
    chmodSync(p, 0o755);
    return p;
  });
  return { dir, paths, done: () => rmSync(dir, { recursive: true, force: true }) };
}

test('order: plan executablePath, then PLANRUN_BROWSER, then CHROME_PATH', () => {
  const f = fakeBrowsers(['plan-chrome', 'env-chrome', 'chrome-path']);
  try {
    const [plan, env, chromePath] = f.paths as [string, string, string];
    assert.deepEqual(findBrowser({ executablePath: plan }, { PLANRUN_BROWSER: env, CHROME_PATH: chromePath }), { path: plan, source: 'plan browser.executablePath' });
    assert.deepEqual(findBrowser({}, { PLANRUN_BROWSER: env, CHROME_PATH: chromePath }), { path: env, source: 'PLANRUN_BROWSER' });
    assert.deepEqual(findBrowser({}, { CHROME_PATH: chromePath }), { path: chromePath, source: 'CHROME_PATH' });
  } finally {
    f.done();
  }
});

test('a named browser that does not exist is an error, not a silent fallback', () => {
  assert.throws(() => findBrowser({ executablePath: '/nope/chrome' }, {}), /browser named by plan browser\.executablePath \(\/nope\/chrome\) does not exist/);
  assert.throws(() => findBrowser({}, { PLANRUN_BROWSER: '/nope/chrome' }), /PLANRUN_BROWSER \(\/nope\/chrome\) does not exist/);
});

test('then the system paths, first that exists (when playwright has no browser of its own)', { skip: existsPlaywright() && 'playwright-core has its own Chromium here' }, () => {
  const f = fakeBrowsers(['chromium', 'google-chrome']);
  try {
    const found = findBrowser({}, {}, [join(f.dir, 'missing'), ...f.paths]);
    assert.deepEqual(found, { path: f.paths[0], source: 'system' });
  } finally {
    f.done();
  }
});

function existsPlaywright(): boolean {
  try {
    return statSync(chromium.executablePath()).isFile();
  } catch {
    return false;
  }
}

test('none found: says how to get one and lists where it looked', { skip: existsPlaywright() && 'playwright-core has its own Chromium here' }, () => {
  const err = (() => {
    try {
      findBrowser({}, {}, ['/nope/chromium', '/nope/google-chrome']);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(err instanceof BrowserNotFoundError);
  assert.match(err.message, /apt-get install -y chromium/);
  assert.match(err.message, /npx playwright install chromium/);
  assert.match(err.message, /PLANRUN_BROWSER/);
  assert.match(err.message, /browser\.executablePath/);
  assert.match(err.message, /- \/nope\/chromium\n/);
  assert.match(err.message, /- \/nope\/google-chrome/);
  assert.match(err.message, new RegExp(`${chromium.executablePath().replace(/[.]/g, '\\.')} \\(playwright-core's own browser, not installed\\)`));
});

test('the default system paths are the usual Chromium/Chrome locations', () => {
  assert.deepEqual(SYSTEM_BROWSER_PATHS, ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable']);
});

test('launch flags: --no-sandbox only as root, container-friendly flags, plan args last', () => {
  const asRoot = launchArgs(['--lang=fr'], true);
  assert.equal(asRoot[0], '--no-sandbox');
  for (const flag of ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'])
    assert.ok(asRoot.includes(flag), flag);
  assert.equal(asRoot.at(-1), '--lang=fr');
  assert.ok(!launchArgs([], false).includes('--no-sandbox'));
});
