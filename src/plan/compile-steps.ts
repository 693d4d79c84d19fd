// Scenario → steps per role. A shared list is filtered by each step's `role:`;
// a map gives each role its own list. Ids are `<role>/<index>` with `.child`
// for steps inside a group or loop, stable whatever `role:` filters out.
import { formatPath } from './issue-collector.js';
import type { CompileContext } from './compile-context.js';
import { compileCaptures, compileExpect, compileHttpExpect, compileWsExpect } from './checks.js';
import { parseDuration } from './duration.js';
import { parseSize } from './size.js';
import type { BarrierSpec, BrowserActionSpec, RequestBody, RequestSpec, StepSpec, Template, WsActionSpec } from '../contract/plan.js';
import type * as Raw from './raw-plan.js';
import { resolveRoleRef } from './roles.js';
import type { YamlPath } from './source.js';
import { didYouMean } from './suggest.js';

export const ACTIONS = ['request', 'browser', 'ws', 'signal', 'wait', 'barrier', 'sleep', 'set', 'share', 'capture', 'expect', 'group', 'loop'] as const;
export const BROWSER_ACTIONS = ['goto', 'click', 'fill', 'type', 'press', 'select', 'waitFor', 'reload', 'screenshot'] as const;
// Keys that only make sense beside one browser action.
const COMPANIONS: Record<string, string> = { value: 'fill', into: 'type', on: 'press', option: 'select' };
const REQUIRED_COMPANION: Record<string, string> = { fill: 'value', type: 'into', select: 'option' };
export const WS_ACTIONS = ['connect', 'send', 'expect', 'close'] as const;
// Keys that only make sense beside one ws action.
const WS_COMPANIONS: Record<string, string> = { headers: 'connect', protocols: 'connect', within: 'expect', capture: 'expect' };

export interface StepFacts {
  /** Names assigned by `set:` steps and loop variables (vars.X). */
  setVars: Set<string>;
  captureNames: Set<string>;
  /** Every step name per role (explicit or default). */
  stepNames: Set<string>;
  /** Barrier use per barrier: which roles signal / wait / arrive, with the first step path. */
  barrierUse: Map<string, { signal: Map<string, YamlPath>; wait: Map<string, YamlPath>; arrive: Map<string, YamlPath> }>;
}

export interface ScenarioInput {
  scenario: Raw.Plan['scenario'];
  roleNames: string[];
  barriers: Map<string, BarrierSpec>;
  /** Barriers whose declaration had errors: role checks on their steps are skipped. */
  brokenBarriers?: Set<string>;
  target?: URL;
}

export function compileScenario(cx: CompileContext, input: ScenarioInput): { scenarios: Map<string, StepSpec[]>; facts: StepFacts } {
  const facts: StepFacts = { setVars: new Set(), captureNames: new Set(), stepNames: new Set(), barrierUse: new Map() };
  const scenarios = new Map<string, StepSpec[]>(input.roleNames.map((r) => [r, []]));
  const { scenario } = input;
  if (scenario === undefined) return { scenarios, facts };
  const lists: Array<{ roles: string[]; steps: Raw.Steps; path: YamlPath }> = [];
  if (Array.isArray(scenario)) lists.push({ roles: input.roleNames, steps: scenario, path: ['scenario'] });
  else {
    for (const [role, steps] of Object.entries(scenario)) {
      if (!input.roleNames.includes(role)) {
        const hint = didYouMean(role, input.roleNames);
        cx.issues.error(['scenario', role], `scenario.${role}: unknown role \`${role}\`; the roles are ${input.roleNames.map((r) => `\`${r}\``).join(', ')}`, {
          at: 'key',
          ...(hint ? { hint } : { hint: 'declare it under `roles:`' }),
        });
        continue;
      }
      lists.push({ roles: [role], steps, path: ['scenario', role] });
    }
  }
  for (const list of lists) {
    for (const role of list.roles) {
      const names = new Map<string, YamlPath>();
      const compiler = new StepCompiler(cx, input, facts, role, names);
      scenarios.set(role, compiler.steps(list.steps, list.path, `${role}/`));
    }
  }
  return { scenarios, facts };
}

/** What setup and teardown cannot do: nobody else runs beside them to signal, wait or meet, and they open no browser. */
const NOT_IN_PHASES = ['signal', 'wait', 'barrier', 'browser'] as const;

/**
 * `setup:` / `teardown:` → the steps of that phase's pseudo-worker (role `setup` or `teardown`, ids `setup/0`…).
 * Their names, vars and captures count in `facts` like a role's.
 */
export function compilePhaseSteps(cx: CompileContext, input: ScenarioInput, facts: StepFacts, phase: 'setup' | 'teardown', raw: Raw.Steps | undefined): StepSpec[] {
  if (raw === undefined) return [];
  // Reports tell the phase's steps by their role: a role of that name would mix them with its workers'.
  if (input.roleNames.includes(phase)) {
    cx.issues.error(['roles', phase], `roles.${phase}: \`${phase}\` is the role the plan's \`${phase}:\` steps are reported under`, {
      at: 'key',
      hint: 'give this role another name',
    });
  }
  return new StepCompiler(cx, input, facts, phase, new Map(), phase).steps(raw, [phase], `${phase}/`);
}

class StepCompiler {
  constructor(
    private readonly cx: CompileContext,
    private readonly input: ScenarioInput,
    private readonly facts: StepFacts,
    private readonly role: string,
    private readonly names: Map<string, YamlPath>,
    /** Compiling `setup:` or `teardown:` rather than a role's scenario. */
    private readonly phase?: 'setup' | 'teardown',
  ) {}

  steps(raw: Raw.Steps, path: YamlPath, idPrefix: string): StepSpec[] {
    const out: StepSpec[] = [];
    raw.forEach((step, i) => {
      const p = [...path, i];
      if (this.phase && this.refused(step, p)) return;
      if (step.role !== undefined) {
        const roles = resolveRoleRef(step.role, [...p, 'role'], this.input.roleNames, this.cx.issues);
        if (!roles.includes(this.role)) return;
      }
      const compiled = this.step(step, p, `${idPrefix}${i}`);
      if (compiled) out.push(compiled);
    });
    return out;
  }

  /** A step `setup:` / `teardown:` cannot run, reported at its key. */
  private refused(raw: Raw.Step, path: YamlPath): boolean {
    const key = raw.role !== undefined ? 'role' : NOT_IN_PHASES.find((a) => raw[a] !== undefined);
    if (!key) return false;
    const what = key === 'role' ? '`role:`' : `a \`${key}\` step`;
    const when = this.phase === 'setup' ? 'before the workers start' : 'after the workers end';
    const hint =
      key === 'role'
        ? `\`${this.phase}:\` belongs to no role: its steps run once`
        : key === 'browser'
          ? 'put browser steps in the scenario'
          : 'put it in the scenario; to hand a value to the workers, use `share:`';
    this.cx.issues.error([...path, key], `${formatPath([...path, key])}: ${what} cannot be used in \`${this.phase}:\`: its steps run once, alone, ${when}`, { at: 'key', hint });
    return true;
  }

  private step(raw: Raw.Step, path: YamlPath, id: string): StepSpec | undefined {
    const action = ACTIONS.find((a) => raw[a] !== undefined);
    if (!action) return undefined;
    const cx = this.cx;
    const base = {
      id,
      name: raw.name ?? defaultName(raw, action),
      loc: cx.issues.loc(path),
      ...(raw.if !== undefined ? { if: cx.condition([...path, 'if'], raw.if) } : {}),
      ...(raw.timeout !== undefined ? { timeoutMs: parseDuration(raw.timeout) } : {}),
      ...(raw.onError !== undefined ? { onError: raw.onError } : {}),
    };
    this.facts.stepNames.add(base.name);
    if (raw.name !== undefined) {
      const first = this.names.get(raw.name);
      if (first) {
        cx.issues.error([...path, 'name'], `${formatPath([...path, 'name'])}: the step name \`${raw.name}\` is already used by ${formatPath(first)}`, {
          hint: 'step names identify steps in reports and thresholds: make them unique',
        });
      } else this.names.set(raw.name, path);
    }
    const p = [...path, action];
    switch (action) {
      case 'request':
        return { ...base, kind: 'request', request: this.request(p, raw.request!) };
      case 'browser':
        return { ...base, kind: 'browser', browser: this.browser(p, raw.browser!) };
      case 'ws':
        return { ...base, kind: 'ws', ws: this.ws(p, raw.ws!) };
      case 'signal':
      case 'wait':
      case 'barrier':
        this.barrierStep(action, p, raw[action]!);
        return { ...base, kind: action, barrier: raw[action]! };
      case 'sleep':
        return { ...base, kind: 'sleep', ms: typeof raw.sleep === 'string' && raw.sleep.includes('{{') ? cx.template(p, raw.sleep) : (parseDuration(raw.sleep) ?? 0) };
      case 'set':
      case 'share': {
        const values = raw[action]!;
        if (action === 'set') for (const k of Object.keys(values)) this.facts.setVars.add(k);
        return {
          ...base,
          kind: 'set',
          shared: action === 'share',
          values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, cx.value([...p, k], v)])),
        };
      }
      case 'capture': {
        for (const k of Object.keys(raw.capture!)) this.facts.captureNames.add(k);
        return { ...base, kind: 'capture', captures: compileCaptures(cx, p, raw.capture!) };
      }
      case 'expect':
        return { ...base, kind: 'expect', expect: compileExpect(cx, p, raw.expect!) };
      case 'group':
        return { ...base, kind: 'group', steps: this.steps(raw.group!, p, `${id}.`) };
      case 'loop':
        return { ...base, kind: 'loop', ...this.loop(p, raw.loop!, id) };
    }
  }

  private request(path: YamlPath, raw: string | Raw.RequestObject): RequestSpec {
    const cx = this.cx;
    if (typeof raw === 'string') {
      const method = raw.slice(0, raw.search(/\s/)) as Raw.HttpMethod;
      const url = raw.slice(method.length).trimStart();
      this.checkUrl(path, url, raw.indexOf(url));
      return {
        method,
        url: cx.template(path, url, raw.indexOf(url)),
        headers: {},
        query: {},
        body: { type: 'none' },
        captures: [],
        expect: compileHttpExpect(cx, path, undefined),
      };
    }
    this.checkUrl([...path, 'url'], raw.url, 0);
    const bodies = (['json', 'form', 'body'] as const).filter((k) => raw[k] !== undefined);
    if (bodies.length > 1) {
      cx.issues.error([...path, bodies[1]!], `${formatPath(path)}: a request has one body: \`json\`, \`form\` or \`body\`, not both \`${bodies[0]}\` and \`${bodies[1]}\``, {
        at: 'key',
      });
    }
    let body: RequestBody = { type: 'none' };
    if (raw.json !== undefined) body = { type: 'json', value: cx.value([...path, 'json'], raw.json) };
    else if (raw.form !== undefined) body = { type: 'form', fields: this.templates([...path, 'form'], raw.form) };
    else if (raw.body !== undefined) body = { type: 'raw', text: cx.template([...path, 'body'], raw.body) };
    if (raw.capture) for (const k of Object.keys(raw.capture)) this.facts.captureNames.add(k);
    return {
      method: raw.method ?? 'GET',
      url: cx.template([...path, 'url'], raw.url),
      headers: this.templates([...path, 'headers'], raw.headers ?? {}),
      query: this.templates([...path, 'query'], raw.query ?? {}),
      body,
      ...(raw.maxRedirects !== undefined ? { maxRedirects: raw.maxRedirects } : {}),
      ...(raw.maxBodySize !== undefined ? { maxBodySize: parseSize(raw.maxBodySize)! } : {}),
      ...(raw.redirectHeaders !== undefined ? { redirectHeaders: raw.redirectHeaders } : {}),
      captures: raw.capture ? compileCaptures(cx, [...path, 'capture'], raw.capture, 'response') : [],
      expect: compileHttpExpect(cx, [...path, 'expect'], raw.expect),
    };
  }

  templates(path: YamlPath, values: Record<string, string | number | boolean>): Record<string, Template> {
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, this.cx.template([...path, k], String(v))]));
  }

  private browser(path: YamlPath, raw: Raw.BrowserAction): BrowserActionSpec {
    const cx = this.cx;
    const action = BROWSER_ACTIONS.find((a) => raw[a] !== undefined)!;
    for (const [key, owner] of Object.entries(COMPANIONS)) {
      if ((raw as Record<string, unknown>)[key] !== undefined && owner !== action) {
        cx.issues.error([...path, key], `${formatPath([...path, key])}: \`${key}\` goes with \`${owner}\`, not \`${action}\``, { at: 'key' });
      }
    }
    const needed = REQUIRED_COMPANION[action];
    if (needed && (raw as Record<string, unknown>)[needed] === undefined) {
      cx.issues.error([...path, action], `${formatPath(path)}: \`${action}\` needs \`${needed}\``, { at: 'key' });
    }
    const t = (key: keyof Raw.BrowserAction) => cx.template([...path, key], String(raw[key] ?? ''));
    switch (action) {
      case 'goto':
        this.checkUrl([...path, 'goto'], raw.goto!, 0);
        return { action, url: t('goto') };
      case 'click':
        return { action, selector: t('click') };
      case 'fill':
        return { action, selector: t('fill'), value: t('value') };
      case 'type':
        return { action, text: t('type'), into: t('into') };
      case 'press':
        return { action, key: t('press'), ...(raw.on !== undefined ? { on: t('on') } : {}) };
      case 'select':
        return { action, selector: t('select'), option: t('option') };
      case 'waitFor': {
        const w = raw.waitFor!;
        if (typeof w === 'string') return { action, selector: t('waitFor') };
        const wp = [...path, 'waitFor'];
        return {
          action,
          ...(w.selector !== undefined ? { selector: cx.template([...wp, 'selector'], w.selector) } : {}),
          ...(w.state !== undefined ? { state: w.state } : {}),
          ...(w.text !== undefined ? { text: cx.template([...wp, 'text'], w.text) } : {}),
          ...(w.url !== undefined ? { url: cx.template([...wp, 'url'], w.url) } : {}),
        };
      }
      case 'reload':
        return { action };
      case 'screenshot':
        return { action, file: t('screenshot') };
    }
  }

  private ws(path: YamlPath, raw: Raw.WsAction): WsActionSpec {
    const cx = this.cx;
    const action = WS_ACTIONS.find((a) => raw[a] !== undefined)!;
    for (const [key, owner] of Object.entries(WS_COMPANIONS)) {
      if ((raw as Record<string, unknown>)[key] !== undefined && owner !== action) {
        cx.issues.error([...path, key], `${formatPath([...path, key])}: \`${key}\` goes with \`${owner}\`, not \`${action}\``, { at: 'key' });
      }
    }
    switch (action) {
      case 'connect':
        this.checkUrl([...path, 'connect'], raw.connect!, 0, 'ws');
        return {
          action,
          url: cx.template([...path, 'connect'], raw.connect!),
          headers: this.templates([...path, 'headers'], raw.headers ?? {}),
          protocols: (raw.protocols ?? []).map((p, i) => cx.template([...path, 'protocols', i], p)),
        };
      case 'send': {
        const send = raw.send!;
        const sp = [...path, 'send'];
        return { action, message: typeof send === 'string' ? { type: 'text', text: cx.template(sp, send) } : { type: 'json', value: cx.value([...sp, 'json'], send.json) } };
      }
      case 'expect': {
        if (raw.capture) for (const k of Object.keys(raw.capture)) this.facts.captureNames.add(k);
        const withinMs = raw.within === undefined ? undefined : parseDuration(raw.within);
        return {
          action,
          expect: compileWsExpect(cx, [...path, 'expect'], raw.expect!),
          ...(withinMs !== undefined ? { withinMs } : {}),
          captures: raw.capture ? compileCaptures(cx, [...path, 'capture'], raw.capture, 'message') : [],
        };
      }
      case 'close':
        return { action };
    }
  }

  private loop(path: YamlPath, raw: Raw.Loop, id: string): { times?: Template; over?: ReturnType<CompileContext['value']>; as: string; steps: StepSpec[] } {
    const cx = this.cx;
    if ((raw.times === undefined) === (raw.over === undefined)) {
      cx.issues.error(path, `${formatPath(path)}: a loop needs either \`times\` or \`over\`${raw.times !== undefined ? ', not both' : ''}`);
    }
    const as = raw.as ?? 'item';
    this.facts.setVars.add(as);
    this.facts.setVars.add('index');
    return {
      ...(raw.times !== undefined ? { times: cx.template([...path, 'times'], String(raw.times)) } : {}),
      ...(raw.over !== undefined ? { over: typeof raw.over === 'string' ? templateValue(cx.template([...path, 'over'], raw.over)) : cx.value([...path, 'over'], raw.over) } : {}),
      as,
      steps: this.steps(raw.steps, [...path, 'steps'], `${id}.`),
    };
  }

  private barrierStep(kind: 'signal' | 'wait' | 'barrier', path: YamlPath, name: string): void {
    const issues = this.cx.issues;
    const b = this.input.barriers.get(name);
    if (!b) {
      issues.error(
        path,
        `${formatPath(path)}: unknown barrier \`${name}\`${this.input.barriers.size ? `; the barriers are ${[...this.input.barriers.keys()].map((n) => `\`${n}\``).join(', ')}` : ''}`,
        {
          hint: didYouMean(name, this.input.barriers.keys()) ?? (this.input.barriers.size ? undefined : 'declare it under `barriers:`'),
        },
      );
      return;
    }
    let use = this.facts.barrierUse.get(name);
    if (!use) this.facts.barrierUse.set(name, (use = { signal: new Map(), wait: new Map(), arrive: new Map() }));
    const bucket = kind === 'signal' ? use.signal : kind === 'wait' ? use.wait : use.arrive;
    if (!bucket.has(this.role)) bucket.set(this.role, path);
    if (this.input.brokenBarriers?.has(name)) return;
    if (b.kind === 'meeting' && kind !== 'barrier') {
      issues.error(path, `${formatPath(path)}: \`${name}\` is a meeting barrier (parties); use \`barrier: ${name}\``, { at: 'key' });
    } else if (b.kind === 'event' && kind === 'barrier') {
      issues.error(path, `${formatPath(path)}: \`${name}\` is an event (signal → wait); use \`signal: ${name}\` or \`wait: ${name}\``, { at: 'key' });
    } else if (b.kind === 'event') {
      const allowed = kind === 'signal' ? b.signalRoles : b.waitRoles;
      if (!allowed.includes(this.role)) {
        issues.error(
          path,
          `${formatPath(path)}: role \`${this.role}\` ${kind === 'signal' ? 'signals' : 'waits for'} \`${name}\`, but barriers.${name}.${kind} is ${allowed.map((r) => `\`${r}\``).join(', ') || 'empty'}`,
          {
            hint: `add \`${this.role}\` to barriers.${name}.${kind}, or restrict this step with \`role:\``,
          },
        );
      }
    } else if (!b.partyRoles.includes(this.role)) {
      issues.error(path, `${formatPath(path)}: role \`${this.role}\` arrives at \`${name}\` but is not one of its parties (${b.partyRoles.map((r) => `\`${r}\``).join(', ')})`);
    }
  }

  /**
   * Absolute URLs must parse; relative ones need a target. Templated prefixes are checked at run time.
   * `ws` URLs may also be ws:// or wss://, but not about: or data:.
   */
  private checkUrl(path: YamlPath, url: string, offset: number, kind: 'http' | 'ws' = 'http'): void {
    if (url.startsWith('{{')) return;
    const staticPart = url.split('{{')[0]!;
    const issues = this.cx.issues;
    if (/^[a-z][a-z0-9+.-]*:/i.test(url)) {
      const allowed = kind === 'ws' ? /^(https?|wss?):\/\//i.test(url) : /^https?:\/\//i.test(url) || /^(about|data):/i.test(url);
      if (!allowed) {
        issues.error(path, `${formatPath(path)}: \`${url}\` is not ${kind === 'ws' ? 'a ws(s) or http(s)' : 'an http(s)'} URL`, { offset });
      } else if (!url.includes('{{') && !URL.canParse(url)) {
        issues.error(path, `${formatPath(path)}: \`${url}\` is not a valid URL`, { offset });
      } else if (url.includes('{{') && /^(https?|wss?):\/\/[^/{]*\s/.test(staticPart)) {
        issues.error(path, `${formatPath(path)}: \`${url}\` is not a valid URL`, { offset });
      }
    } else if (!this.input.target) {
      issues.error(path, `${formatPath(path)}: the relative URL \`${url}\` needs \`target\` (the base URL) at the top of the plan`, {
        offset,
        hint: 'add e.g. `target: http://127.0.0.1:8080`, or write an absolute URL',
      });
    }
  }
}

function templateValue(t: Template): { render: Template['render'] } {
  return { render: (scope) => t.render(scope) };
}

function short(text: string, max = 40): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** A name for a step without one: `GET /p/x`, `wait written`, `browser goto /p/…`. */
export function defaultName(raw: Raw.Step, action: (typeof ACTIONS)[number]): string {
  switch (action) {
    case 'request': {
      const r = raw.request!;
      return typeof r === 'string' ? short(r) : short(`${r.method ?? 'GET'} ${r.url}`);
    }
    case 'browser': {
      const b = raw.browser!;
      const a = BROWSER_ACTIONS.find((k) => b[k] !== undefined) ?? 'action';
      const arg = b[a as keyof Raw.BrowserAction];
      if (typeof arg === 'string') return `browser ${a} ${short(arg)}`;
      if (a === 'waitFor' && typeof arg === 'object') return `browser waitFor ${short(Object.values(arg).join(' '))}`;
      return `browser ${a}`;
    }
    case 'ws': {
      const w = raw.ws!;
      const a = WS_ACTIONS.find((k) => w[k] !== undefined) ?? 'action';
      if (a === 'connect') return `ws connect ${short(w.connect!)}`;
      if (a === 'send') return `ws send ${short(typeof w.send === 'string' ? w.send : JSON.stringify(w.send!.json), 30)}`;
      if (a === 'expect')
        return short(
          `ws expect ${
            Object.entries(w.expect!)
              .map(([k, v]) => (typeof v === 'object' && v !== null ? k : `${k} ${v}`))
              .join(', ') || 'a message'
          }`,
        );
      return `ws ${a}`;
    }
    case 'signal':
    case 'wait':
    case 'barrier':
      return `${action} ${raw[action]}`;
    case 'sleep':
      return `sleep ${typeof raw.sleep === 'number' ? `${raw.sleep}ms` : raw.sleep}`;
    case 'set':
    case 'share':
    case 'capture':
      return short(`${action} ${Object.keys(raw[action]!).join(', ')}`);
    case 'expect':
      return short(
        `expect ${Object.entries(raw.expect!)
          .filter(([k]) => k !== 'in' && k !== 'within')
          .map(([k, v]) => (typeof v === 'object' ? k : `${k} ${v}`))
          .join(', ')}`,
      );
    case 'group':
      return 'group';
    case 'loop':
      return raw.loop!.times !== undefined
        ? `loop ${raw.loop!.times}×`
        : `loop over ${short(String(Array.isArray(raw.loop!.over) ? `${raw.loop!.over.length} items` : raw.loop!.over), 30)}`;
  }
}
