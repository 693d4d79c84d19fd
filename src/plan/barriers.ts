// Barriers: events (signal → wait) and meeting barriers (parties), resolved to worker ids.
import { formatPath, type IssueCollector } from './issue-collector.js';
import { parseDuration } from './duration.js';
import type { BarrierSpec, RoleSpec } from '../contract/plan.js';
import type * as Raw from './raw-plan.js';
import { resolveRoleRef } from './roles.js';

/** Barriers by name, plus the names whose role lists had errors (their role checks are skipped to avoid echoes). */
export function compileBarriers(plan: Raw.Plan, roles: RoleSpec[], waitTimeoutMs: number, issues: IssueCollector): { barriers: Map<string, BarrierSpec>; broken: Set<string> } {
  const out = new Map<string, BarrierSpec>();
  const broken = new Set<string>();
  const roleNames = roles.map((r) => r.name);
  const workersOf = (names: string[]) =>
    roles
      .filter((r) => names.includes(r.name))
      .flatMap((r) => r.workers)
      .sort((a, b) => a - b);
  for (const [name, b] of Object.entries(plan.barriers ?? {})) {
    const path = ['barriers', name];
    const before = issues.issues.length;
    const loc = issues.loc(path, 'key');
    const timeoutMs = b.timeout === undefined ? waitTimeoutMs : (parseDuration(b.timeout) ?? waitTimeoutMs);
    if (b.parties !== undefined) {
      for (const key of ['signal', 'wait', 'scope', 'count'] as const) {
        if (b[key] !== undefined) {
          issues.error([...path, key], `${formatPath([...path, key])}: a meeting barrier (with \`parties\`) has no \`${key}\``, {
            at: 'key',
            hint: 'use `parties` for a meeting barrier, or `signal` + `wait` for an event',
          });
        }
      }
      const partyRoles = resolveRoleRef(b.parties, [...path, 'parties'], roleNames, issues);
      out.set(name, { kind: 'meeting', name, partyRoles, parties: workersOf(partyRoles), timeoutMs, loc });
      if (issues.issues.length > before) broken.add(name);
      continue;
    }
    if (b.signal === undefined || b.wait === undefined) {
      const missing = b.signal === undefined ? 'signal' : 'wait';
      issues.error(path, `${formatPath(path)}: an event needs \`signal\` and \`wait\` roles (missing \`${missing}\`)`, {
        at: 'key',
        hint: 'or use `parties: [roles]` for a meeting barrier',
      });
    }
    const signalRoles = b.signal === undefined ? [] : resolveRoleRef(b.signal, [...path, 'signal'], roleNames, issues);
    const waitRoles = b.wait === undefined ? [] : resolveRoleRef(b.wait, [...path, 'wait'], roleNames, issues);
    const signalers = workersOf(signalRoles);
    out.set(name, {
      kind: 'event',
      name,
      signalRoles,
      waitRoles,
      signalers,
      waiters: workersOf(waitRoles),
      scope: b.scope ?? 'round',
      count: b.count ?? Math.max(1, signalers.length),
      timeoutMs,
      loc,
    });
    if (issues.issues.length > before) broken.add(name);
  }
  return { barriers: out, broken };
}
