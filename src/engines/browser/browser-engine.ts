// The browser engine: one Chromium per run, one context + page per worker (created
// on its first browser step). Runs `browser` actions, page expectations and page
// captures; a failed step leaves a screenshot and the page URL in the report folder.
import { join } from 'node:path';
import { chromium, errors, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { isPageCapture, type BrowserActionSpec, type TemplateScope } from '../../contract/plan.js';
import { writeFileAtomic } from '../../io/atomic-file.js';
import type { Attachment } from '../../contract/events.js';
import { StepFailure, type Engine, type RunContext, type StepContext, type StepDetails } from '../../contract/engine.js';
import { findBrowser } from './find-browser.js';
import { capture, describeCheck, runCheck } from './page-checks.js';
import { locate } from './selectors.js';

export { findBrowser } from './find-browser.js';

/** Flags that let Chromium run in containers and keep it from calling home. */
export function launchArgs(planArgs: string[], isRoot = process.getuid?.() === 0): string[] {
  const args = ['--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];
  // Chromium refuses to start as root with its sandbox on.
  if (isRoot) args.unshift('--no-sandbox');
  return [...args, ...planArgs];
}

interface WorkerPage {
  context: BrowserContext;
  page: Page;
}

/** Rejected once the browser dies; every step races against it so none hangs. */
class CrashWatch {
  crashed = false;
  readonly promise: Promise<never>;
  private reject!: (e: Error) => void;
  constructor() {
    this.promise = new Promise<never>((_, reject) => (this.reject = reject));
    this.promise.catch(() => undefined);
  }
  trip(): void {
    if (this.crashed) return;
    this.crashed = true;
    this.reject(crashFailure());
  }
}

function crashFailure(): StepFailure {
  return new StepFailure(
    'The browser crashed or was closed during the run; every later browser step fails. ' + 'See the service/system logs (out of memory? killed?) and run again.',
    'browser-crashed',
  );
}

const firstLine = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0]!.trim();
const safeName = (s: string): string => s.replace(/[^\w.-]+/g, '-');
const PLAYWRIGHT_ERR = /has been closed|Target closed|browser has disconnected|crash/i;

export async function createBrowserEngine(run: RunContext, o: { headed?: boolean } = {}): Promise<Engine> {
  const spec = run.plan.browser;
  const found = findBrowser(spec, process.env);
  const headless = o.headed ? false : spec.headless;
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: found.path, headless, args: launchArgs(spec.args), timeout: 60_000 });
  } catch (e) {
    const hint = !headless && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY ? ' A headed browser needs a display: run without --headed, or under xvfb-run.' : '';
    throw new Error(`Could not start Chromium ${found.path} (from ${found.source}): ${firstLine(e)}.${hint}`);
  }
  const crash = new CrashWatch();
  let closing = false;
  browser.on('disconnected', () => {
    if (!closing) crash.trip();
  });
  const workers = new Map<number, Promise<WorkerPage>>();

  const baseURL = run.plan.target?.href;

  function pageFor(worker: number): Promise<WorkerPage> {
    let entry = workers.get(worker);
    if (!entry) {
      entry = (async () => {
        const context = await browser.newContext({
          ...(baseURL ? { baseURL } : {}),
          ...(spec.viewport ? { viewport: spec.viewport } : {}),
        });
        const page = await context.newPage();
        // A crashed tab (not the whole browser): the worker gets a fresh one on its next step.
        page.on('crash', () => {
          if (workers.get(worker) === entry) workers.delete(worker);
        });
        return { context, page };
      })();
      entry.catch(() => workers.delete(worker));
      workers.set(worker, entry);
    }
    return entry;
  }

  /** Races a Playwright call against the step's signal and a browser crash. */
  function guarded<T>(ctx: StepContext, work: Promise<T>): Promise<T> {
    work.catch(() => undefined);
    const { signal } = ctx;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      Promise.race([work, crash.promise])
        .then(resolve, reject)
        .finally(() => signal.removeEventListener('abort', onAbort));
    });
  }

  async function execute(ctx: StepContext): Promise<StepDetails | undefined> {
    if (crash.crashed) throw crashFailure();
    const started = Date.now();
    // The runtime abandons the step at timeoutMs; our own waits end a little earlier so
    // the failure (with its screenshot) is ready before that.
    const hardDeadline = started + ctx.timeoutMs;
    const deadline = hardDeadline - Math.min(1500, Math.max(200, ctx.timeoutMs * 0.2));
    const left = () => Math.max(1, deadline - Date.now());
    const scope = ctx.scope();
    let wp: WorkerPage | undefined;
    try {
      wp = await guarded(ctx, pageFor(ctx.worker.id));
      const page = wp.page;
      const step = ctx.step;
      const attachments: Attachment[] = [];
      if (step.kind === 'browser') {
        const shot = await guarded(ctx, runAction(page, step.browser, scope, left, run.reportDir));
        if (shot) attachments.push(shot);
      } else if (step.kind === 'expect' && step.expect.on === 'page') {
        const within = step.expect.withinMs;
        const until = within === undefined ? deadline : Math.min(deadline, started + within);
        await guarded(ctx, expectUntil(page, step.expect.checks, scope, until, ctx.signal));
      } else if (step.kind === 'capture') {
        for (const c of step.captures) {
          if (!isPageCapture(c)) throw new StepFailure(`capture "${c.name}" reads from an HTTP response; the browser engine only reads the page`, 'plan');
          ctx.worker.captures[c.name] = await guarded(ctx, capture(page, c, scope, left()));
        }
      } else {
        throw new StepFailure(`the browser engine cannot run a step of kind "${step.kind}"`, 'plan');
      }
      return { pageUrl: page.url(), ...(attachments.length ? { attachments } : {}) };
    } catch (e) {
      throw await failure(ctx, e, wp, deadline, hardDeadline);
    }
  }

  /** Turns any error into a StepFailure with a screenshot and the page URL. */
  async function failure(ctx: StepContext, e: unknown, wp: WorkerPage | undefined, deadline: number, hardDeadline: number): Promise<StepFailure> {
    if (!crash.crashed && !(e instanceof StepFailure && e.code !== 'expectation') && PLAYWRIGHT_ERR.test(firstLine(e))) {
      // The 'disconnected' event can trail the failed call by a moment.
      await new Promise((r) => setTimeout(r, 250));
    }
    if (crash.crashed) return crashFailure();
    const stepName = `Step "${ctx.step.name}"`;
    let code: string;
    let message: string;
    if (e instanceof StepFailure) {
      if (e.code === 'plan') return e;
      code = e.code;
      message = e.message;
    } else if (ctx.run.signal.aborted) {
      return new StepFailure(`${stepName} stopped because the run was stopped`, 'aborted');
    } else if (e instanceof errors.TimeoutError || ctx.signal.aborted || Date.now() >= deadline) {
      code = 'timeout';
      message = `${stepName} timed out after ${ctx.timeoutMs} ms ${describeWork(ctx)}`;
    } else {
      code = 'browser';
      message = `${stepName} failed ${describeWork(ctx)}: ${firstLine(e)}`;
    }
    const extra: { pageUrl?: string; attachments?: Attachment[] } = {};
    if (wp) {
      extra.pageUrl = wp.page.url();
      const rel = join('screenshots', `${ctx.worker.id}-r${ctx.round}-${safeName(ctx.step.id)}.png`);
      try {
        await Promise.race([
          // Playwright would write the file itself, non-atomically: take the bytes and write them whole.
          wp.page.screenshot({ timeout: Math.max(200, hardDeadline - Date.now() - 50) }).then((png) => writeFileAtomic(join(run.reportDir, rel), png)),
          crash.promise,
        ]);
        extra.attachments = [{ name: 'screenshot', path: rel, contentType: 'image/png' }];
        message += ` (screenshot: ${rel}; page: ${extra.pageUrl})`;
      } catch {
        message += ` (page: ${extra.pageUrl}; no screenshot could be taken)`;
      }
    }
    if (crash.crashed) return crashFailure();
    return new StepFailure(message, code, extra);
  }

  return {
    name: 'browser',
    execute,
    async releaseWorker(worker: number): Promise<void> {
      const entry = workers.get(worker);
      workers.delete(worker);
      if (!entry) return;
      try {
        const { context } = await entry;
        if (!crash.crashed) await context.close();
      } catch {
        /* already gone with the browser */
      }
    },
    async close(): Promise<void> {
      closing = true;
      workers.clear();
      await browser.close().catch(() => undefined);
    },
  };
}

/** What the step was doing, for messages: `waiting to click "#ghost"`. */
function describeWork(ctx: StepContext): string {
  const scope = ctx.scope();
  const r = (t: { renderString(s: TemplateScope): string }) => `"${t.renderString(scope)}"`;
  const step = ctx.step;
  if (step.kind === 'expect' && step.expect.on === 'page') return `checking ${step.expect.checks.map((c) => describeCheck(c, scope)).join(', ')}`;
  if (step.kind === 'capture') return `capturing ${step.captures.map((c) => c.name).join(', ')}`;
  if (step.kind !== 'browser') return '';
  const a = step.browser;
  switch (a.action) {
    case 'goto':
      return `loading ${r(a.url)}`;
    case 'click':
      return `waiting to click ${r(a.selector)}`;
    case 'fill':
      return `waiting to fill ${r(a.selector)}`;
    case 'type':
      return `waiting to type into ${r(a.into)}`;
    case 'press':
      return a.on ? `waiting to press ${r(a.key)} on ${r(a.on)}` : `pressing ${r(a.key)}`;
    case 'select':
      return `waiting to select ${r(a.option)} in ${r(a.selector)}`;
    case 'waitFor': {
      const what = [a.selector && `${r(a.selector)} to be ${a.state ?? 'visible'}`, a.text && `text ${r(a.text)}`, a.url && `URL ${r(a.url)}`];
      return `waiting for ${what.filter(Boolean).join(' and ')}`;
    }
    case 'reload':
      return 'reloading the page';
    case 'screenshot':
      return `taking screenshot ${r(a.file)}`;
  }
}

async function expectUntil(page: Page, checks: Parameters<typeof runCheck>[1][], scope: TemplateScope, until: number, signal: AbortSignal): Promise<void> {
  let problems: string[] = [];
  for (;;) {
    problems = [];
    for (const check of checks) {
      try {
        const problem = await runCheck(page, check, scope);
        if (problem) problems.push(problem);
      } catch (e) {
        if (PLAYWRIGHT_ERR.test(firstLine(e))) throw e;
        problems.push(`${describeCheck(check, scope)}: ${firstLine(e)}`);
      }
    }
    if (problems.length === 0) return;
    if (Date.now() >= until || signal.aborted) break;
    await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, until - Date.now()))));
  }
  throw new StepFailure(problems.join('; '), 'expectation');
}

async function runAction(page: Page, action: BrowserActionSpec, scope: TemplateScope, left: () => number, reportDir: string): Promise<Attachment | undefined> {
  const r = (t: { renderString(s: TemplateScope): string }) => t.renderString(scope);
  switch (action.action) {
    case 'goto':
      await page.goto(r(action.url), { timeout: left(), waitUntil: 'load' });
      return;
    case 'click':
      await locate(page, r(action.selector)).click({ timeout: left() });
      return;
    case 'fill':
      await locate(page, r(action.selector)).fill(r(action.value), { timeout: left() });
      return;
    case 'type': {
      // Click then type with the keyboard: rich editors (Etherpad's ace) listen to
      // real key events, which fill() would bypass. Control+End puts the caret at
      // the end of what is already there, so typed text appends.
      await locate(page, r(action.into)).click({ timeout: left() });
      await page.keyboard.press('Control+End');
      await page.keyboard.type(r(action.text));
      return;
    }
    case 'press':
      if (action.on) await locate(page, r(action.on)).press(r(action.key), { timeout: left() });
      else await page.keyboard.press(r(action.key));
      return;
    case 'select':
      await locate(page, r(action.selector)).selectOption(r(action.option), { timeout: left() });
      return;
    case 'waitFor': {
      if (action.url) await page.waitForURL(r(action.url), { timeout: left() });
      if (action.selector || action.text) {
        let target = action.selector ? locate(page, r(action.selector)) : page.getByText(r(action.text!));
        if (action.selector && action.text) target = target.filter({ hasText: r(action.text) });
        await target.first().waitFor({ state: action.state ?? 'visible', timeout: left() });
      }
      return;
    }
    case 'reload':
      await page.reload({ timeout: left(), waitUntil: 'load' });
      return;
    case 'screenshot': {
      let file = safeName(r(action.file));
      if (!/\.(png|jpe?g)$/i.test(file)) file += '.png';
      const rel = join('screenshots', file);
      const type = /\.png$/i.test(file) ? 'png' : 'jpeg';
      await writeFileAtomic(join(reportDir, rel), await page.screenshot({ type, timeout: left() }));
      return { name: file, path: rel, contentType: `image/${type}` };
    }
  }
}
