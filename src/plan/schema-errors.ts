// ajv errors → one helpful, positioned message each. ajv reports every branch
// of an anyOf/oneOf; here unions collapse to the branch that matches the value's
// type (or to one message for the whole union), and every message names the
// YAML path and points at the key or value in the file.
import type { ErrorObject } from 'ajv';
import { formatPath, type IssueCollector } from './issue-collector.js';
import type { YamlPath } from './source.js';
import { PER_PROCESS_HINT } from './roles.js';
import { ACTIONS, BROWSER_ACTIONS, WS_ACTIONS } from './compile-steps.js';
import { didYouMean } from './suggest.js';

type Schema = Record<string, unknown>;

const UNION_MESSAGES: Record<string, string> = {
  '#/definitions/Duration': 'must be a duration like 500ms, 10s, 2m',
  '#/definitions/Stage/properties/target': 'must be a rate like `200/s` or a number of workers',
  '#/definitions/StepDuration': 'must be a duration like 500ms, 10s, 2m, or a `{{ }}` template giving one',
  '#/definitions/Think': 'must be a duration like 500ms, 10s, 2m, or { min, max }',
  '#/definitions/VarValue': 'must be a value, a list, or { env: NAME, default: … }',
  '#/definitions/RoleRef': 'must be a role name or a list of role names',
  '#/definitions/Request': 'must be `METHOD URL` (e.g. `GET /health`) or an object with `url`',
  '#/definitions/Matcher': 'must be a value, or a matcher like { contains: … }, { matches: … }, { gte: … }',
  '#/definitions/Status': 'must be a status code 100–599, a class like `2xx`, or a list of codes',
  '#/properties/scenario': 'must be a list of steps, or a map role → list of steps',
  '#/definitions/Loop/properties/times': 'must be a whole number from 0 to 1000000000, or a template',
  '#/definitions/Loop/properties/over': 'must be a list or a template giving a list',
  '#/definitions/BrowserAction/properties/waitFor': 'must be a selector, or { selector, state } / { text } / { url }',
};

const TYPE_MESSAGES: Record<string, string> = {
  '#/definitions/Step': 'must be a step: a map with one action such as `request: GET /`, `wait: name` or `browser: { goto: / }`',
  '#/definitions/Steps': 'must be a list of steps (each line starting with `- `)',
  '#/definitions/Role': 'must be { count: N }, { workers: [ids] }, { rest: true } or { maxWorkers: N }',
  '#/definitions/Rate': 'must be a rate like `200/s`, `90/m` or `10/h`',
  '#/definitions/Stage': 'must be a stage: { duration: 30s, target: 200/s }, { hold: 30s } or { pause: 10s }',
  '#/definitions/Barrier': 'must be an event { signal: ROLES, wait: ROLES } or a meeting barrier { parties: ROLES }',
  '#/definitions/Expect': 'must be a map of checks such as { status: 200 }, { text: … } or { value: …, is: … }',
  '#/definitions/BrowserAction': 'must be a map with one action such as { goto: /path } or { click: SELECTOR }',
  '#/definitions/WsAction': 'must be a map with one action such as { connect: /socket }, { send: TEXT } or { expect: { text: TEXT } }',
  '#/properties/thresholds/additionalProperties': 'must be a list of conditions such as ["p95 < 500ms", "errors < 1%"]',
  '#/definitions/Threshold': 'must be a condition like `p95 < 500ms`, or { condition, abortOnFail, grace }',
};

// What to do instead when a value is over one of planrun's limits (the schema's `maximum`s).
const LIMIT_HINTS: Record<string, string> = {
  '#/properties/workers': PER_PROCESS_HINT,
  '#/definitions/Role/properties/count': PER_PROCESS_HINT,
  '#/definitions/Role/properties/workers/items': PER_PROCESS_HINT,
  '#/definitions/HttpOptions/properties/connections': PER_PROCESS_HINT,
  '#/definitions/Crawl/properties/concurrency': PER_PROCESS_HINT,
  '#/properties/rounds': 'for a longer run, use `duration:` instead of `rounds:`',
  '#/definitions/Crawl/properties/maxPages': 'split the crawl across several runs with `scope.include`',
};

// Keywords that judge a value's content; pointless once its type is wrong.
const VALUE_KEYWORDS = new Set(['const', 'enum', 'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'pattern', 'minLength', 'minItems', 'uniqueItems', 'format']);

const PATTERN_MESSAGES: Record<string, (value: string) => string> = {
  '#/properties/target': () => 'must be an http:// or https:// URL',
  '#/definitions/Rate': (v) => `\`${v}\` is not a rate like \`200/s\`, \`90/m\` or \`10/h\``,
  '#/definitions/Loop/properties/as': (v) => `\`${v}\` is not a variable name: use letters, digits and _, not starting with a digit`,
  '#/definitions/Threshold': (v) => `\`${v}\` is not a condition like \`p95 < 500ms\`, \`errors < 1%\`, \`count >= 10\``,
  '#/definitions/Threshold/properties/condition': (v) => `\`${v}\` is not a condition like \`p95 < 500ms\`, \`errors < 1%\`, \`count >= 10\``,
};

const NAME_PATTERN_MESSAGES: Record<string, (key: string) => string> = {
  '#/properties/roles': (k) => `\`${k}\` is not a valid role name: use letters, digits, _ and -, starting with a letter or _`,
  '#/properties/barriers': (k) => `\`${k}\` is not a valid barrier name: use letters, digits, _ and -, starting with a letter or _`,
  '#/properties/scenario/anyOf/1': (k) => `\`${k}\` is not a valid role name: use letters, digits, _ and -, starting with a letter or _`,
  '#/properties/thresholds': (k) => `\`${k}\` is not something thresholds measure: use http, steps, browser (each optionally .scheduled), crawl, step.NAME or barrier.NAME.wait`,
};

const COUNT_MESSAGES: Record<string, string> = {
  '#/definitions/Role': 'needs exactly one of `count: N`, `workers: [ids]`, `rest: true` or `maxWorkers: N`',
  '#/definitions/Stage': 'must be { duration, target }, { hold: D } or { pause: D }',
  '#/definitions/CrawlStartSource': 'needs exactly one of `sitemap: URL`, `robots: URL` or `urls: FILE`',
  '#/definitions/Capture': 'needs a source: json, header, regex, status, body, text, attribute, url or title',
  '#/definitions/Expect': 'needs at least one check (status, body, text, visible, value + is, …)',
  '#/definitions/WaitForObject': 'needs one of selector, text or url',
  '#/definitions/MatcherObject': 'needs one of equals, contains, notContains, matches, lt, lte, gt, gte, oneOf, exists',
};

/** Where each subschema object sits in the root schema, to recognise errors by location. */
class SchemaIndex {
  private readonly byObject = new Map<object, string>();
  private readonly byJson = new Map<string, string>();

  constructor(readonly root: Schema) {
    const walk = (node: unknown, pointer: string): void => {
      if (node === null || typeof node !== 'object') return;
      if (!Array.isArray(node)) {
        this.byObject.set(node, pointer);
        const json = JSON.stringify(node);
        if (!this.byJson.has(json)) this.byJson.set(json, pointer);
      }
      for (const [k, v] of Object.entries(node)) walk(v, `${pointer}/${k}`);
    };
    walk(root, '#');
  }

  pointer(schema: unknown): string {
    if (schema === null || typeof schema !== 'object') return '';
    return this.byObject.get(schema) ?? this.byJson.get(JSON.stringify(schema)) ?? '';
  }

  resolve(schema: unknown): Schema {
    let s = schema as Schema;
    for (let i = 0; i < 10 && typeof s?.$ref === 'string'; i++) {
      s = (s.$ref as string)
        .replace(/^#\//, '')
        .split('/')
        .reduce<unknown>((acc, key) => (acc as Schema | undefined)?.[key], this.root) as Schema;
    }
    return s ?? {};
  }

  /** JSON types a (sub)schema accepts; undefined means any. */
  types(schema: unknown): Set<string> | undefined {
    const s = this.resolve(schema);
    if (s.type !== undefined) return new Set(Array.isArray(s.type) ? (s.type as string[]) : [s.type as string]);
    const branches = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
    if (!branches) return undefined;
    const out = new Set<string>();
    for (const b of branches) {
      const t = this.types(b);
      if (!t) return undefined;
      for (const x of t) out.add(x);
    }
    return out;
  }
}

let indexCache: SchemaIndex | undefined;

function jsonType(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function accepts(types: Set<string> | undefined, t: string): boolean {
  return !types || types.has(t) || (t === 'integer' && types.has('number'));
}

export function toPath(instancePath: string): Array<string | number> {
  if (!instancePath) return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function valueAt(data: unknown, path: YamlPath): unknown {
  let v = data;
  for (const seg of path) v = v === null || typeof v !== 'object' ? undefined : (v as Record<string | number, unknown>)[seg];
  return v;
}

/** Reports every schema error of `data` through `issues`. */
export function reportSchemaErrors(errors: ErrorObject[], data: unknown, root: Schema, issues: IssueCollector): void {
  indexCache ??= new SchemaIndex(root);
  const index = indexCache;
  // The `required` checks of oneOf branches only pick the step's action: the oneOf error says it better.
  let pending = errors.filter((e) => e.keyword !== 'propertyNames' && e.keyword !== 'if' && !(e.keyword === 'required' && /\/oneOf\/\d+$/.test(index.pointer(e.parentSchema))));

  // Unions first, outermost (last reported) per location.
  const unionAt = new Map<string, ErrorObject>();
  for (const e of pending) if (e.keyword === 'anyOf') unionAt.set(e.instancePath, e);
  for (const [at, union] of unionAt) {
    const value = valueAt(data, toPath(at));
    const t = jsonType(value);
    const branches = ((union.parentSchema as Schema | undefined)?.anyOf ?? []) as unknown[];
    const matching = branches.some((b) => accepts(index.types(b), t));
    if (matching && (t === 'object' || t === 'array')) {
      pending = pending.filter((e) => !(e.instancePath === at && (e.keyword === 'type' || e.keyword === 'anyOf')));
    } else {
      pending = pending.filter((e) => e.instancePath !== at);
      const pointer = index.pointer(union.parentSchema);
      const path = toPath(at);
      issues.error(path, `${formatPath(path)} ${UNION_MESSAGES[pointer] ?? `must be ${describeTypes(index.types(union.parentSchema))}`}`);
    }
  }

  const wrongType = new Set(pending.filter((e) => e.keyword === 'type').map((e) => e.instancePath));
  pending = pending.filter((e) => !(VALUE_KEYWORDS.has(e.keyword) && wrongType.has(e.instancePath) && (e as ErrorObject & { propertyName?: string }).propertyName === undefined));

  // A map with unknown keys gets the unknown-key message only, not also "needs an action".
  const unknownKeysAt = new Set(pending.filter((e) => e.keyword === 'additionalProperties').map((e) => e.instancePath));
  for (const e of pending) {
    const path = toPath(e.instancePath);
    const where = formatPath(path);
    const value = valueAt(data, path);
    const parent = (e.parentSchema ?? {}) as Schema;
    const pointer = index.pointer(parent);
    switch (e.keyword) {
      case 'additionalProperties': {
        const key = (e.params as { additionalProperty: string }).additionalProperty;
        const allowed = Object.keys((parent.properties ?? {}) as Schema);
        issues.error([...path, key], `${path.length ? `${where}: ` : ''}unknown key \`${key}\``, {
          at: 'key',
          hint: didYouMean(key, allowed) ?? (allowed.length ? `allowed here: ${allowed.join(', ')}` : undefined),
        });
        break;
      }
      case 'required': {
        const missing = (e.params as { missingProperty: string }).missingProperty;
        issues.error(path, path.length ? `${where} needs \`${missing}\`` : `the plan needs \`${missing}\``, { at: path.length ? 'key' : 'value' });
        break;
      }
      case 'oneOf': {
        if (jsonType(value) !== 'object' || unknownKeysAt.has(e.instancePath)) break;
        const [actions, what]: readonly [readonly string[], string] =
          pointer === '#/definitions/BrowserAction'
            ? [BROWSER_ACTIONS, 'a browser step needs exactly one action']
            : pointer === '#/definitions/WsAction'
              ? [WS_ACTIONS, 'a ws step needs exactly one action']
              : [ACTIONS, 'a step needs exactly one action'];
        const found = Object.keys(value as object).filter((k) => actions.includes(k));
        if (found.length > 1) {
          issues.error([...path, found[1]!], `${where}: ${what}: ${actions.join(', ')}; found ${found.map((f) => `\`${f}\``).join(' and ')}`, {
            at: 'key',
            hint: 'split it into separate steps',
          });
        } else {
          issues.error(path, `${where}: ${what}: ${actions.join(', ')}`);
        }
        break;
      }
      case 'type':
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum':
        issues.error(path, `${where} ${value === null && e.keyword === 'type' ? 'is empty: it ' : ''}${TYPE_MESSAGES[pointer] ?? `must be ${describeValue(parent)}`}`, {
          hint:
            typeof value === 'string' && /^(yes|no|on|off|y|n)$/i.test(value) && String(parent.type).includes('boolean')
              ? `write true or false: \`${value}\` is text in YAML 1.2`
              : e.keyword === 'maximum'
                ? LIMIT_HINTS[pointer]
                : undefined,
        });
        break;
      case 'enum': {
        const options = (parent.enum ?? []) as unknown[];
        issues.error(path, `${where} must be one of: ${options.join(', ')}`, { hint: typeof value === 'string' ? didYouMean(value, options.map(String)) : undefined });
        break;
      }
      case 'const':
        issues.error(path, `${where} must be ${JSON.stringify(parent.const)}`);
        break;
      case 'pattern': {
        const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
        if (propertyName !== undefined) {
          const ownerPointer = findNamesOwner(index, e.instancePath, errors);
          const msg = NAME_PATTERN_MESSAGES[ownerPointer]?.(propertyName) ?? `\`${propertyName}\` is not a valid name here`;
          issues.error([...path, propertyName], `${where}: ${msg}`, { at: 'key' });
        } else {
          const msg = PATTERN_MESSAGES[pointer]?.(String(value)) ?? `must match ${String(parent.pattern)}`;
          issues.error(path, msg.startsWith('`') ? `${where}: ${msg}` : `${where} ${msg}`);
        }
        break;
      }
      case 'format':
        issues.error(path, `${where} must be an absolute URL like http://127.0.0.1:8080`);
        break;
      case 'minItems':
        issues.error(path, `${where} must ${parent.minItems === 1 ? 'not be empty' : `have at least ${String(parent.minItems)} items`}`);
        break;
      case 'uniqueItems': {
        const { i, j } = e.params as { i: number; j: number };
        issues.error([...path, Math.max(i, j)], `${where} lists the same value twice (items ${Math.min(i, j)} and ${Math.max(i, j)})`);
        break;
      }
      case 'minLength':
        issues.error(path, `${where} must not be empty`);
        break;
      case 'minProperties':
      case 'maxProperties':
        issues.error(path, `${where} ${COUNT_MESSAGES[pointer] ?? (e.keyword === 'minProperties' ? 'must not be empty' : 'has too many keys')}`);
        break;
      default:
        issues.error(path, `${where} ${e.message ?? 'is not valid'}`);
    }
  }
}

// propertyNames errors carry the map's own schema as parent only indirectly: the
// matching `propertyNames` error (same instancePath) has the owner as parentSchema.
function findNamesOwner(index: SchemaIndex, instancePath: string, errors: ErrorObject[]): string {
  const owner = errors.find((e) => e.keyword === 'propertyNames' && e.instancePath === instancePath);
  return owner ? index.pointer(owner.parentSchema) : '';
}

function describeTypes(types: Set<string> | undefined): string {
  if (!types) return 'a valid value';
  return [...types].map((t) => TYPE_NAMES[t] ?? t).join(' or ');
}

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a map (key: value)',
  null: 'empty',
};

/** `an integer ≥ 1`, `a number between 0 and 1`, `a string`… */
function describeValue(s: Schema): string {
  const types = s.type === undefined ? undefined : new Set(Array.isArray(s.type) ? (s.type as string[]) : [s.type as string]);
  let text = describeTypes(types);
  const min = s.minimum as number | undefined;
  const max = s.maximum as number | undefined;
  const xmin = s.exclusiveMinimum as number | undefined;
  if (min !== undefined && max !== undefined) text += ` between ${min} and ${max}`;
  else if (min !== undefined) text += ` ≥ ${min}`;
  else if (max !== undefined) text += xmin !== undefined ? ` > ${xmin} and ≤ ${max}` : ` ≤ ${max}`;
  else if (xmin !== undefined) text += ` > ${xmin}`;
  return text;
}
