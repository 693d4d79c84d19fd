// Schema-valid raw plan → CompiledPlan, with the semantic checks the schema
// cannot express. Reports through the collector and always returns a plan
// (possibly partial); the loader throws if anything was reported.
import { dirname, resolve } from 'node:path';
import { compileBarriers } from './barriers.js';
import { compileRegex } from './checks.js';
import { formatPath, type IssueCollector } from './issue-collector.js';
import { CompileContext, type PositionedRef } from './compile-context.js';
import { compileCrawl } from './crawl.js';
import { loadDataSets } from './data.js';
import { parseDuration } from './duration.js';
import { checkScheduledBarriers, compileLoadModels } from './load-models.js';
import { DEFAULT_MAX_BODY_SIZE, parseSize } from './size.js';
import type { BrowserSpec, CompiledPlan, DataSetSpec, ServiceSpec, ValueTemplate } from '../contract/plan.js';
import type * as Raw from './raw-plan.js';
import { resolveRoles } from './roles.js';
import type { YamlPath } from './source.js';
import { compilePhaseSteps, compileScenario, type StepFacts } from './compile-steps.js';
import { didYouMean } from './suggest.js';
import { compileThresholds } from './compile-thresholds.js';

export interface CompileOptions {
  /** Absolute path of the plan file. */
  file: string;
  vars?: Record<string, string>;
  env?: Record<string, string | undefined>;
}

export function compilePlan(raw: Raw.Plan, issues: IssueCollector, options: CompileOptions): CompiledPlan {
  const cx = new CompileContext(issues);
  const env = options.env ?? process.env;
  const ms = (d: Raw.Duration | undefined, fallback: number) => (d === undefined ? fallback : (parseDuration(d) ?? fallback));

  const target = raw.target !== undefined ? parseTarget(raw.target, issues) : undefined;
  const { vars, varsTemplate } = resolveVars(raw, options.vars ?? {}, env, cx);
  const data = loadDataSets(raw.data, options.file, issues);
  const { workers, roles, workerRoles } = resolveRoles(raw, issues);
  const browser: BrowserSpec = {
    ...(raw.browser?.executablePath !== undefined ? { executablePath: raw.browser.executablePath } : {}),
    headless: raw.browser?.headless ?? true,
    args: raw.browser?.args ?? [],
    ...(raw.browser?.viewport ? { viewport: raw.browser.viewport } : {}),
  };
  // Before the reference checks below: header templates name vars and env too.
  const http: CompiledPlan['http'] = {
    headers: Object.fromEntries(Object.entries(raw.http?.headers ?? {}).map(([k, v]) => [k, cx.template(['http', 'headers', k], String(v))])),
    maxRedirects: raw.http?.maxRedirects ?? 5,
    redirectHeaders: raw.http?.redirectHeaders ?? [],
    connections: raw.http?.connections ?? workers,
    maxBodySize: parseSize(raw.http?.maxBodySize) ?? DEFAULT_MAX_BODY_SIZE,
  };
  const stepTimeoutMs = ms(raw.timeout, 30_000);
  const crawl =
    raw.crawl &&
    compileCrawl(cx, raw.crawl, {
      ...(target ? { target } : {}),
      workers,
      stepTimeoutMs,
      httpHeaders: http.headers,
      redirectHeaders: http.redirectHeaders,
      browser,
      planFile: options.file,
    });
  const waitTimeoutMs = ms(raw.waitTimeout, 60_000);
  const durationMs = raw.duration === undefined ? undefined : ms(raw.duration, 0);
  compileLoadModels(raw, roles, durationMs, issues);
  const { barriers, broken } = compileBarriers(raw, roles, waitTimeoutMs, issues);
  checkScheduledBarriers(roles, barriers, issues);
  const scenarioInput = { scenario: raw.scenario, roleNames: roles.map((r) => r.name), barriers, brokenBarriers: broken, ...(target ? { target } : {}) };
  const { scenarios, facts } = compileScenario(cx, scenarioInput);
  const setup = compilePhaseSteps(cx, scenarioInput, facts, 'setup', raw.setup);
  const teardown = compilePhaseSteps(cx, scenarioInput, facts, 'teardown', raw.teardown);
  checkBarrierUse(barriers, broken, facts, issues);
  checkReferences(cx, facts, vars, raw.data ?? {}, data);
  // Templates see only the environment variables they name: nothing can enumerate or send the rest.
  const namedEnv: Record<string, string> = {};
  for (const { ref } of cx.refs) {
    const value = ref.root === 'env' && ref.key !== undefined ? env[ref.key] : undefined;
    if (value !== undefined) namedEnv[ref.key!] = value;
  }
  const thresholds = compileThresholds(
    raw.thresholds,
    { stepNames: facts.stepNames, barrierNames: new Set(barriers.keys()), hasCrawl: raw.crawl !== undefined, hasArrivalRate: roles.some((r) => r.load?.kind === 'arrival-rate') },
    issues,
  );

  const think =
    raw.think === undefined
      ? undefined
      : typeof raw.think === 'object'
        ? { minMs: ms(raw.think.min, 0), maxMs: ms(raw.think.max, 0) }
        : { minMs: ms(raw.think, 0), maxMs: ms(raw.think, 0) };
  if (think && think.minMs > think.maxMs) issues.error(['think', 'max'], 'think.max must not be smaller than think.min');

  return {
    file: options.file,
    name: raw.name,
    ...(raw.description !== undefined ? { description: raw.description } : {}),
    ...(target ? { target } : {}),
    vars,
    varsTemplate,
    env: namedEnv,
    redact: { secrets: secretValues(raw, vars), headers: raw.redact?.headers ?? [], query: raw.redact?.query ?? [] },
    services: (raw.services ?? []).map((s, i) => compileService(s, i, options.file, issues)),
    browser,
    http,
    workers,
    ...(raw.rounds !== undefined || durationMs === undefined ? { rounds: raw.rounds ?? 1 } : {}),
    ...(durationMs !== undefined ? { durationMs } : {}),
    rampUpMs: ms(raw.rampUp, 0),
    ...(think ? { think } : {}),
    stepTimeoutMs,
    waitTimeoutMs,
    onError: raw.onError ?? 'skip-round',
    roles,
    workerRoles,
    barriers,
    scenarios,
    setup,
    teardown,
    ...(crawl ? { crawl } : {}),
    thresholds,
    reports: { ...(raw.reports?.out !== undefined ? { out: raw.reports.out } : {}), ...(raw.reports?.reporters ? { reporters: raw.reports.reporters } : {}) },
    ...(raw.seed !== undefined ? { seed: raw.seed } : {}),
    data,
  };
}

function parseTarget(target: string, issues: IssueCollector): URL | undefined {
  try {
    return new URL(target);
  } catch {
    issues.error(['target'], `target: \`${target}\` is not a valid URL`, { hint: 'e.g. `target: http://127.0.0.1:8080`' });
    return undefined;
  }
}

/** Plan vars after `{ env: NAME }` lookups and --var overrides (which keep the declared type when they can). */
function resolveVars(
  raw: Raw.Plan,
  overrides: Record<string, string>,
  env: Record<string, string | undefined>,
  cx: CompileContext,
): { vars: Record<string, unknown>; varsTemplate: ValueTemplate } {
  const vars: Record<string, unknown> = {};
  // Where each value is written, for its template errors: a default in the plan, else the var itself.
  const where: Record<string, YamlPath> = {};
  for (const [name, value] of Object.entries(raw.vars ?? {})) {
    const path = ['vars', name];
    where[name] = path;
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const fromEnv = env[value.env];
      if (fromEnv !== undefined) vars[name] = fromEnv;
      else if ('default' in value) {
        vars[name] = value.default;
        where[name] = [...path, 'default'];
      } else if (overrides[name] === undefined) {
        cx.issues.error([...path, 'env'], `vars.${name}: the environment variable ${value.env} is not set`, {
          hint: `set ${value.env}, pass --var ${name}=…, or add \`default:\``,
        });
      }
    } else vars[name] = value;
  }
  for (const [name, text] of Object.entries(overrides)) {
    const declared = vars[name];
    if (typeof declared === 'number' && text.trim() !== '' && Number.isFinite(Number(text))) vars[name] = Number(text);
    else if (typeof declared === 'boolean' && (text === 'true' || text === 'false')) vars[name] = text === 'true';
    else vars[name] = text;
    where[name] = ['vars', name];
  }
  // Workers render vars as templates, --var values included: compiled (and checked) here, once.
  const templates = Object.entries(vars).map(([name, value]) => [name, cx.value(where[name]!, value)] as const);
  const varsTemplate: ValueTemplate = { render: (scope) => Object.fromEntries(templates.map(([name, t]) => [name, t.render(scope)])) };
  return { vars, varsTemplate };
}

/** The values of `secret: true` vars (a --var override included), as the text outputs could show. */
function secretValues(raw: Raw.Plan, vars: Record<string, unknown>): string[] {
  const out: string[] = [];
  const collect = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (typeof v === 'number' || typeof v === 'boolean') out.push(String(v));
    else if (Array.isArray(v)) v.forEach(collect);
  };
  for (const [name, value] of Object.entries(raw.vars ?? {})) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && value.secret === true) collect(vars[name]);
  }
  return out;
}

function compileService(s: Raw.Service, i: number, file: string, issues: IssueCollector): ServiceSpec {
  const path = ['services', i];
  return {
    name: s.name,
    command: s.command,
    cwd: resolve(dirname(file), s.cwd ?? '.'),
    env: Object.fromEntries(Object.entries(s.env ?? {}).map(([k, v]) => [k, String(v)])),
    ...(s.ready?.url !== undefined ? { readyUrl: s.ready.url } : {}),
    ...(s.ready?.log !== undefined ? { readyLog: compileRegexIn(issues, [...path, 'ready', 'log'], s.ready.log) } : {}),
    timeoutMs: s.timeout === undefined ? 60_000 : (parseDuration(s.timeout) ?? 60_000),
    loc: issues.loc(path),
  };
}

function compileRegexIn(issues: IssueCollector, path: Array<string | number>, source: string): RegExp {
  return compileRegex(new CompileContext(issues), path, source);
}

/** Every wait has a signaller and every meeting party arrives; otherwise someone waits until the timeout. */
function checkBarrierUse(barriers: CompiledPlan['barriers'], broken: Set<string>, facts: StepFacts, issues: IssueCollector): void {
  for (const [name, use] of facts.barrierUse) {
    const b = barriers.get(name);
    if (!b || broken.has(name)) continue;
    if (b.kind === 'event') {
      const signalled = [...use.signal.keys()].some((role) => b.signalRoles.includes(role));
      for (const [role, path] of use.wait) {
        if (!signalled && b.waitRoles.includes(role)) {
          issues.error(
            path,
            `${formatPath(path)}: nobody signals \`${name}\`: no \`signal: ${name}\` step in the scenario of ${b.signalRoles.map((r) => `\`${r}\``).join(', ') || 'any role'}`,
            {
              hint: 'this wait would always time out',
            },
          );
        }
      }
    } else if (use.arrive.size > 0) {
      for (const role of b.partyRoles) {
        if (!use.arrive.has(role)) {
          issues.error(
            ['barriers', name, 'parties'],
            `barriers.${name}: role \`${role}\` is a party but has no \`barrier: ${name}\` step, so the others would wait until the timeout`,
          );
        }
      }
    }
  }
}

/**
 * `vars.X` must be declared, set or a loop variable; `captures.X` must be captured somewhere;
 * `data.X.Y` needs a data set X whose file has a column Y (not checked when X failed to load).
 */
function checkReferences(cx: CompileContext, facts: StepFacts, vars: Record<string, unknown>, declaredData: Record<string, unknown>, data: DataSetSpec[]): void {
  const knownVars = new Set([...Object.keys(vars), ...facts.setVars]);
  for (const { ref, path, base } of cx.refs) {
    if (ref.key === undefined) continue;
    if (ref.root === 'vars' && !knownVars.has(ref.key)) {
      cx.issues.error(path, `${formatPath(path)}: unknown variable \`vars.${ref.key}\``, {
        offset: base + ref.offset,
        hint: didYouMean(ref.key, knownVars) ?? 'declare it under `vars:` or set it with a `set:` step',
      });
    } else if (ref.root === 'captures' && !facts.captureNames.has(ref.key)) {
      cx.issues.error(path, `${formatPath(path)}: \`captures.${ref.key}\` is never captured`, {
        offset: base + ref.offset,
        hint: didYouMean(ref.key, facts.captureNames) ?? 'capture it with `capture:` on a request or a capture step',
      });
    } else if (ref.root === 'data') {
      checkDataRef(cx, { ref, path, base }, Object.keys(declaredData), data);
    }
  }
}

function checkDataRef(cx: CompileContext, { ref, path, base }: PositionedRef, declared: string[], data: DataSetSpec[]): void {
  const where = `${formatPath(path)}: `;
  if (!declared.includes(ref.key!)) {
    cx.issues.error(path, `${where}unknown data set \`data.${ref.key}\``, {
      offset: base + ref.offset,
      hint: didYouMean(ref.key!, declared) ?? (declared.length ? `data sets: ${declared.join(', ')}` : 'declare it under `data:`'),
    });
    return;
  }
  const set = data.find((d) => d.name === ref.key);
  const columns = set?.table.columns;
  if (!set || ref.subkey === undefined) return;
  // The caret goes under the column: as far after the root as it is in the expression.
  const offset = base + ref.offset + (ref.subkeyIndex ?? ref.index) - ref.index;
  if (!columns) {
    cx.issues.error(path, `${where}the rows of ${set.file} are plain values, not objects: use \`data.${set.name}\` itself, not \`.${ref.subkey}\``, { offset });
  } else if (!columns.includes(ref.subkey)) {
    cx.issues.error(path, `${where}unknown column \`${ref.subkey}\` in ${set.file} (columns: ${columns.join(', ')})`, {
      offset,
      ...(didYouMean(ref.subkey, columns) ? { hint: didYouMean(ref.subkey, columns)! } : {}),
    });
  }
}
