// Load models: `rate` (open model, constant arrival rate) and `stages` (ramping
// arrival rate or ramping workers), per plan or per role, compiled into the
// piecewise-linear schedules the executors follow. Plans without them keep the
// closed model (rounds or duration). The combinations that make no sense are
// refused here, each at the key that causes it.
import { formatPath, type IssueCollector } from './issue-collector.js';
import { parseDuration } from './duration.js';
import type { BarrierSpec, LoadModel, LoadSegment, RoleSpec } from '../contract/plan.js';
import type * as Raw from './raw-plan.js';

const RATE = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(s|m|h)\s*$/;
const PER_SECOND: Record<string, number> = { s: 1, m: 1 / 60, h: 1 / 3600 };

/** Iterations per second of a schema-valid rate (`200/s`, `90/m`). */
export function parseRate(rate: Raw.Rate): number | undefined {
  const m = RATE.exec(rate);
  return m ? Number(m[1]) * PER_SECOND[m[2]!]! : undefined;
}

/** The most workers numeric stage targets ask for: the pool of a ramping-workers plan without `workers`. */
export function workerStagePeak(stages: Raw.Stages | undefined): number | undefined {
  const targets = (stages ?? []).map((s) => s.target).filter((t): t is number => typeof t === 'number');
  return targets.length > 0 ? Math.max(1, ...targets) : undefined;
}

type Path = Array<string | number>;

/** Sets `load` on the roles that have a schedule; plan-level keys drive the default role. */
export function compileLoadModels(raw: Raw.Plan, roles: RoleSpec[], durationMs: number | undefined, issues: IssueCollector): void {
  const planLevel = raw.rate !== undefined || raw.stages !== undefined;
  if (raw.roles && Object.keys(raw.roles).length > 0) {
    for (const key of ['rate', 'stages', 'maxWorkers'] as const) {
      if (raw[key] !== undefined) {
        issues.error([key], `${key}: with \`roles\`, the load model belongs to the role it drives`, { at: 'key', hint: `move \`${key}\` under \`roles.NAME\`` });
      }
    }
    for (const role of roles) {
      const r = raw.roles[role.name];
      if (!r) continue;
      const path = ['roles', role.name];
      if (r.maxWorkers !== undefined && r.rate === undefined && r.stages === undefined) {
        issues.error([...path, 'maxWorkers'], `${formatPath([...path, 'maxWorkers'])}: only a role with \`rate\` or \`stages\` has a worker pool`, {
          at: 'key',
          hint: 'use `count: N` for a closed-model role',
        });
      }
      const load = compileOne(r, path, role.workers.length, raw, durationMs, issues);
      if (load) role.load = load;
    }
    return;
  }
  if (raw.maxWorkers !== undefined) {
    if (!planLevel)
      issues.error(['maxWorkers'], 'maxWorkers: only an open-model plan (`rate` or `stages`) has a worker pool', { at: 'key', hint: 'use `workers: N` for the closed model' });
    if (raw.workers !== undefined) issues.error(['maxWorkers'], 'maxWorkers: give `workers` or `maxWorkers`, not both: they are the same pool', { at: 'key' });
  }
  if (!planLevel) return;
  if (raw.rampUp !== undefined) issues.error(['rampUp'], 'rampUp: ramp the load with `stages` instead', { at: 'key', hint: 'e.g. `stages: [{ duration: 30s, target: 200/s }]`' });
  const role = roles[0];
  if (!role) return;
  const load = compileOne(raw, [], role.workers.length, raw, durationMs, issues);
  if (load?.kind === 'arrival-rate' && raw.workers === undefined && raw.maxWorkers === undefined) {
    const key = raw.rate !== undefined ? 'rate' : 'stages';
    issues.error([key], `${key}: an arrival-rate plan needs \`maxWorkers\`: how many iterations may run at once`, {
      at: 'key',
      hint: 'e.g. `maxWorkers: 50`; iterations that find no free worker are counted as dropped',
    });
  }
  if (load) role.load = load;
}

/** The schedule of one plan or role (`at` = its path), or undefined for the closed model or after an error. */
function compileOne(
  o: { rate?: Raw.Rate; stages?: Raw.Stages },
  at: Path,
  pool: number,
  raw: Raw.Plan,
  durationMs: number | undefined,
  issues: IssueCollector,
): LoadModel | undefined {
  if (o.rate === undefined && o.stages === undefined) return undefined;
  const key = (k: string) => [...at, k];
  const name = (k: string) => formatPath(key(k));
  const isPlan = at.length === 0;
  if (o.rate !== undefined && o.stages !== undefined) {
    issues.error(key('stages'), `${name('stages')}: give \`rate\` (a constant rate) or \`stages\` (a ramp), not both`, {
      at: 'key',
      hint: 'a constant rate is one stage: `{ duration: 0s, target: 200/s }` then `{ hold: 1m }`',
    });
    return undefined;
  }
  if (raw.rounds !== undefined) {
    const what = o.rate !== undefined ? 'rate' : 'stages';
    issues.error(
      isPlan ? ['rounds'] : key(what),
      isPlan
        ? `rounds: a plan with \`${what}\` runs for a time, not for a number of rounds`
        : `${name(what)}: a role with \`${what}\` runs for a time, not for the plan's \`rounds\``,
      {
        at: 'key',
        hint: what === 'rate' ? 'replace `rounds` with `duration`' : 'remove `rounds`: the stages bound the run',
      },
    );
    return undefined;
  }
  if (o.rate !== undefined) {
    const perSecond = parseRate(o.rate) ?? 0;
    if (durationMs === undefined) {
      issues.error(key('rate'), `${name('rate')}: an arrival rate needs the plan's \`duration\` (how long to keep it)`, {
        at: 'key',
        hint: 'add e.g. `duration: 1m`, or ramp with `stages`',
      });
      return undefined;
    }
    return { kind: 'arrival-rate', segments: [{ startMs: 0, durationMs, from: perSecond, to: perSecond }], durationMs };
  }
  if (isPlan && raw.duration !== undefined) {
    issues.error(['duration'], 'duration: the stages bound the run; remove `duration`', { at: 'key' });
    return undefined;
  }
  return compileStages(o.stages!, key('stages'), pool, issues);
}

function compileStages(stages: Raw.Stages, path: Path, pool: number, issues: IssueCollector): LoadModel | undefined {
  const segments: LoadSegment[] = [];
  let kind: LoadModel['kind'] | undefined;
  let level = 0;
  let t = 0;
  let ok = true;
  stages.forEach((s, i) => {
    const at = [...path, i];
    const forms = [s.target !== undefined || s.duration !== undefined, s.hold !== undefined, s.pause !== undefined].filter(Boolean).length;
    if (forms !== 1) {
      issues.error(at, `${formatPath(at)}: a stage is one of \`{ duration, target }\`, \`{ hold: D }\` or \`{ pause: D }\``);
      ok = false;
      return;
    }
    if (s.hold !== undefined || s.pause !== undefined) {
      const ms = parseDuration(s.hold ?? s.pause) ?? 0;
      const value = s.hold !== undefined ? level : 0;
      segments.push({ startMs: t, durationMs: ms, from: value, to: value });
      t += ms;
      return;
    }
    if (s.target === undefined || s.duration === undefined) {
      const missing = s.target === undefined ? 'target' : 'duration';
      issues.error(at, `${formatPath(at)}: a ramp stage needs \`duration\` and \`target\` (missing \`${missing}\`)`, { hint: 'e.g. `{ duration: 30s, target: 200/s }`' });
      ok = false;
      return;
    }
    const stageKind = typeof s.target === 'number' ? 'ramping-workers' : 'arrival-rate';
    const target = typeof s.target === 'number' ? s.target : (parseRate(s.target) ?? 0);
    const tp = [...at, 'target'];
    if (kind !== undefined && stageKind !== kind) {
      issues.error(
        tp,
        `${formatPath(tp)}: \`${s.target}\` is ${stageKind === 'ramping-workers' ? 'a number of workers' : 'a rate'} but the earlier stages ramp ${kind === 'ramping-workers' ? 'workers' : 'a rate'}`,
        {
          hint: 'all stages of a plan or role ramp the same thing: rates like `200/s`, or worker counts',
        },
      );
      ok = false;
      return;
    }
    kind = stageKind;
    if (stageKind === 'ramping-workers' && target > pool) {
      issues.error(tp, `${formatPath(tp)}: ${target} workers, but the pool has ${pool}`, { hint: "raise `workers` (or the role's `count`/`maxWorkers`)" });
      ok = false;
      return;
    }
    const ms = parseDuration(s.duration) ?? 0;
    segments.push({ startMs: t, durationMs: ms, from: level, to: target });
    level = target;
    t += ms;
  });
  if (!ok) return undefined;
  if (kind === undefined) {
    issues.error(path, `${formatPath(path)}: no stage has a \`target\`, so nothing would run`, { hint: 'start with e.g. `{ duration: 10s, target: 100/s }`' });
    return undefined;
  }
  return { kind, segments, durationMs: t };
}

/**
 * A role on a schedule runs iterations whenever the schedule says, so its round
 * numbers mean nothing to other workers: it may signal and wait only `scope: run`
 * events, and it cannot be a party of a meeting.
 */
export function checkScheduledBarriers(roles: RoleSpec[], barriers: Map<string, BarrierSpec>, issues: IssueCollector): void {
  const scheduled = new Map(roles.filter((r) => r.load).map((r) => [r.name, r.load!]));
  if (scheduled.size === 0) return;
  const what = (role: string) => `role \`${role}\` runs on a schedule (\`${scheduled.get(role)!.kind === 'arrival-rate' ? 'rate' : 'stages'}\`)`;
  for (const b of barriers.values()) {
    const path = ['barriers', b.name];
    if (b.kind === 'meeting') {
      const role = b.partyRoles.find((r) => scheduled.has(r));
      if (role) {
        issues.error([...path, 'parties'], `${formatPath(path)}: ${what(role)}, so its workers cannot meet the others at a barrier`, {
          hint: 'use an event with `scope: run` instead',
        });
      }
      continue;
    }
    if (b.scope === 'run') continue;
    const role = [...b.signalRoles, ...b.waitRoles].find((r) => scheduled.has(r));
    if (role) {
      issues.error(path, `${formatPath(path)}: ${what(role)}, so its iterations have no common round: it can signal and wait only \`scope: run\` events`, {
        at: 'key',
        hint: 'set `scope: run`',
      });
    }
  }
}
