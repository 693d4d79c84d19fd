// Roles → worker ids. Explicit `workers: [ids]` first, then `count` roles take
// the lowest free ids in declaration order, then the `rest` role takes what is left.
import { formatPath, type IssueCollector } from './issue-collector.js';
import type { RoleSpec } from '../contract/plan.js';
import type * as Raw from './raw-plan.js';
import { workerStagePeak } from './load-models.js';
import { didYouMean } from './suggest.js';

export const DEFAULT_ROLE = 'worker';
/** Workers one process runs; schemas/plan.schema.json caps `workers`, `count` and ids to match. */
export const MAX_WORKERS = 100_000;
export const PER_PROCESS_HINT = 'this is the limit of one planrun process: split the load across several processes or agents';
/** Worker ids named in a message before the rest are only counted. */
const MAX_LISTED = 10;

export interface ResolvedRoles {
  workers: number;
  roles: RoleSpec[];
  workerRoles: string[];
}

/** The keys that pick a role's workers; a role has exactly one. */
const SELECTORS = ['count', 'workers', 'rest', 'maxWorkers'] as const;

export function resolveRoles(plan: Raw.Plan, issues: IssueCollector): ResolvedRoles {
  // An open-model plan names its pool `maxWorkers`; a ramping-workers plan may leave it to its highest stage target.
  const declared = plan.workers ?? plan.maxWorkers ?? workerStagePeak(plan.stages);
  if (!plan.roles || Object.keys(plan.roles).length === 0) {
    const n = declared ?? 1;
    return { workers: n, roles: [{ name: DEFAULT_ROLE, workers: range(n) }], workerRoles: new Array<string>(n).fill(DEFAULT_ROLE) };
  }
  const entries = Object.entries(plan.roles)
    .filter(([name, r]) => {
      if (SELECTORS.filter((k) => r[k] !== undefined).length === 1) return true;
      issues.error(['roles', name], `roles.${name} needs exactly one of \`count: N\`, \`workers: [ids]\`, \`rest: true\` or \`maxWorkers: N\``);
      return false;
    })
    // `maxWorkers` picks workers like `count`: it reads better beside `rate`.
    .map(([name, r]): [string, Raw.Role] => [name, r.maxWorkers !== undefined ? { ...r, count: r.maxWorkers } : r]);
  const owner = new Map<number, string>();
  const members = new Map<string, number[]>(entries.map(([name]) => [name, []]));

  // Without `workers`, the plan has as many workers as its roles ask for.
  const asked = entries.reduce((sum, [, r]) => sum + (r.count ?? 0) + (r.workers?.length ?? 0), 0);
  let highestId = -1;
  for (const [, r] of entries) for (const id of r.workers ?? []) highestId = Math.max(highestId, id);
  const total = declared ?? Math.max(1, asked, highestId + 1);
  // Each count is within the limit, their sum may not be: check before giving out ids.
  if (total > MAX_WORKERS) {
    issues.error(['roles'], `roles: the roles take ${total} workers, more than the ${MAX_WORKERS} one planrun process runs`, { at: 'key', hint: PER_PROCESS_HINT });
    return { workers: total, roles: entries.map(([name]) => ({ name, workers: [] })), workerRoles: [] };
  }

  for (const [name, role] of entries) {
    role.workers?.forEach((id, i) => {
      const path = ['roles', name, 'workers', i];
      if (id >= total) {
        issues.error(path, `${formatPath(path)}: worker id ${id} is out of range: the plan has ${total} worker${total === 1 ? '' : 's'} (ids 0–${total - 1})`, {
          hint: declared === undefined ? undefined : 'raise `workers` or use a smaller id',
        });
      } else if (owner.has(id)) {
        issues.error(path, `${formatPath(path)}: worker ${id} is already in role \`${owner.get(id)}\``, { hint: 'a worker has one role' });
      } else {
        owner.set(id, name);
        members.get(name)!.push(id);
      }
    });
  }
  let next = 0;
  for (const [name, role] of entries) {
    if (role.count === undefined) continue;
    for (let k = 0; k < role.count; k++) {
      while (owner.has(next)) next++;
      if (next >= total) {
        const path = ['roles', name, 'count'];
        issues.error(path, `${formatPath(path)}: role \`${name}\` needs ${role.count} workers but only ${k} ${k === 1 ? 'is' : 'are'} left of ${total}`, {
          hint: declared === undefined ? undefined : 'raise `workers` or lower the counts',
        });
        break;
      }
      owner.set(next, name);
      members.get(name)!.push(next);
    }
  }
  const restRoles = entries.filter(([, r]) => r.rest);
  for (const [name] of restRoles.slice(1)) {
    issues.error(['roles', name, 'rest'], `roles.${name}.rest: only one role can take the rest (\`${restRoles[0]![0]}\` already does)`);
  }
  const rest = restRoles[0];
  if (rest) {
    for (let id = 0; id < total; id++) {
      if (!owner.has(id)) {
        owner.set(id, rest[0]);
        members.get(rest[0])!.push(id);
      }
    }
    if (members.get(rest[0])!.length === 0) {
      issues.error(['roles', rest[0], 'rest'], `roles.${rest[0]}.rest: role \`${rest[0]}\` gets no worker: the other roles take all ${total}`, {
        hint: 'raise `workers`',
      });
    }
  } else if (owner.size < total && !issues.hasErrors) {
    const free = range(total).filter((id) => !owner.has(id));
    // Up to 100,000 ids: name the first few, not all of them.
    const listed = free.length > MAX_LISTED ? `${free.slice(0, MAX_LISTED).join(', ')}, … (${free.length} in all)` : free.join(', ');
    issues.error(
      declared !== undefined ? ['workers'] : ['roles'],
      `the roles take ${owner.size} of ${total} workers; worker${free.length === 1 ? '' : 's'} ${listed} ha${free.length === 1 ? 's' : 've'} no role`,
      {
        hint: 'make the counts add up to `workers`, or give one role `rest: true`',
      },
    );
  }
  const workerRoles = range(total).map((id) => owner.get(id) ?? DEFAULT_ROLE);
  const roles = entries.map(([name]) => ({ name, workers: members.get(name)!.sort((a, b) => a - b) }));
  return { workers: total, roles, workerRoles };
}

/**
 * A RoleRef (`writer`, `[a, b]`, `all`) → role names; unknown names are reported
 * at their own position with a suggestion.
 */
export function resolveRoleRef(ref: Raw.RoleRef, path: ReadonlyArray<string | number>, roleNames: string[], issues: IssueCollector): string[] {
  const names = typeof ref === 'string' ? [ref] : ref;
  const out: string[] = [];
  names.forEach((name, i) => {
    const p = typeof ref === 'string' ? path : [...path, i];
    if (name === 'all') out.push(...roleNames);
    else if (roleNames.includes(name)) out.push(name);
    else {
      issues.error(p, `${formatPath(p)}: unknown role \`${name}\`; the roles are ${roleNames.map((r) => `\`${r}\``).join(', ')}`, {
        hint: didYouMean(name, [...roleNames, 'all']),
      });
    }
  });
  return [...new Set(out)];
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
