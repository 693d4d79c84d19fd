// Every duration of a schema-valid plan becomes a timer or a limit somewhere, so
// all of them get one range check here, found through the schema (wherever it
// says `#/definitions/Duration` or `#/definitions/Timeout`) rather than key by key:
// a new duration key is covered by using one of the two definitions.
//   Duration  0 … MAX_DURATION_MS (sleep, think, rampUp: 0 means no pause)
//   Timeout   like Duration but not 0 (a timer of 0 ms expires at once)
// Node.js clamps a longer timer to 1 ms, so `timeout: 600h` would fire at once.
import { formatPath, type IssueCollector } from './issue-collector.js';
import { parseDuration } from './duration.js';
import type { YamlPath } from './source.js';

export const MAX_DURATION_MS = 2 ** 31 - 1;

const DURATION = '#/definitions/Duration';
const TIMEOUT = '#/definitions/Timeout';

type Schema = Record<string, unknown>;

export function checkDurations(data: unknown, root: Schema, issues: IssueCollector): void {
  const definition = (ref: string) =>
    ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>((s, key) => (s as Schema | undefined)?.[key], root) as Schema;

  const walk = (schema: Schema, value: unknown, path: YamlPath): void => {
    const ref = schema.$ref as string | undefined;
    if (ref === DURATION || ref === TIMEOUT) {
      if (typeof value === 'number' || typeof value === 'string') check(value, path, ref === TIMEOUT);
      return;
    }
    if (ref !== undefined) {
      walk(definition(ref), value, path);
      return;
    }
    for (const key of ['anyOf', 'oneOf', 'allOf'] as const) for (const branch of (schema[key] as Schema[] | undefined) ?? []) walk(branch, value, path);
    if (Array.isArray(value)) {
      const items = schema.items as Schema | undefined;
      if (items) for (const [i, item] of value.entries()) walk(items, item, [...path, i]);
    } else if (value !== null && typeof value === 'object') {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const others = schema.additionalProperties;
      for (const [key, item] of Object.entries(value)) {
        const sub = Object.hasOwn(properties, key) ? properties[key] : typeof others === 'object' ? (others as Schema) : undefined;
        if (sub) walk(sub, item, [...path, key]);
      }
    }
  };

  const check = (value: number | string, path: YamlPath, positive: boolean): void => {
    // Numbers directly: parseDuration has no answer for 1e309 (Infinity), which the schema lets through.
    const ms = typeof value === 'number' ? value : parseDuration(value);
    if (ms === undefined) return; // not a duration: the schema said so already
    const shown = typeof value === 'number' ? `${value}` : `\`${value}\``;
    if (ms > MAX_DURATION_MS) {
      issues.error(path, `${formatPath(path)}: ${shown} is longer than ${MAX_DURATION_MS} ms (about 24.8 days), the longest timer Node.js supports`);
    } else if (positive && ms === 0) {
      issues.error(path, `${formatPath(path)} must be longer than 0: nothing finishes in 0 ms`);
    }
  };

  walk(root, data, []);
}
