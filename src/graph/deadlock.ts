// Static deadlock check on the execution graph. Every worker of a role runs the
// same steps, so the check works on the graph's tracks (one per role): it plays
// the rounds forward (a fixpoint over a happens-before model) and reports every
// role that can never finish, with the chain of waits that holds it, named step
// by step.
//
// Model, per unrolled round: a role's steps run in order; a wait needs `count`
// signals of its event in the same round (scope round), in the round before
// (previous-round: round 1 passes at once) or anywhere in the run (run); a
// meeting barrier needs every party role to have arrived in that round.
// Two rounds are enough to see previous-round dependencies; more are played
// when a scope-run count needs the signals of several rounds.
//
// Roles on a schedule (`rate` or `stages`) run as many iterations as their
// schedule allows, whatever the plan's rounds: they are played for as many
// rounds as needed (each iteration counted like a round), and a scope-run count
// they signal is never judged unreachable. They use only scope-run events (no
// meetings); compile refuses the rest.
//
// `if:` conditions and loops whose count is known only at run time make a step
// `maybe` (see points.ts). Two passes keep the check honest about them:
//   sure  — maybe-signals count (a dynamic loop counts as unbounded), maybe-waits
//           do not block, maybe-barriers arrive without blocking. Whatever is
//           stuck here is stuck in every run: an error.
//   worst — maybe-signals do not count, maybe-waits block, maybe-barriers are
//           skipped. What is stuck here only is a warning (the plan may hang
//           until the wait timeout, depending on the conditions).
import { idRanges } from '../plan/describe-plan.js';
import type { PlanIssue } from '../plan/issues.js';
import type { BarrierSpec, CompiledPlan, EventBarrier, MeetingBarrier } from '../contract/plan.js';
import { isSync, sourceRound, type ExecutionGraph, type RoleTrack as Track } from './graph.js';
import { pointInRound, type PointInRound, type StepPoint } from './points.js';

type Mode = 'sure' | 'worst';

/** A role's points of one kind (signal, wait, barrier) per barrier name, in track order. */
type ByBarrier = Map<string, Map<Track, StepPoint[]>>;

/**
 * Sync points indexed by barrier, built once: per-barrier questions (who
 * signals it, is it waited for) then cost that barrier's points, not a scan of
 * every step of every role (which made 10,000 barriers quadratic).
 */
interface SyncIndex {
  signal: ByBarrier;
  wait: ByBarrier;
  barrier: ByBarrier;
}

function indexSync(tracks: Track[]): SyncIndex {
  const index: SyncIndex = { signal: new Map(), wait: new Map(), barrier: new Map() };
  for (const t of tracks) {
    for (const p of t.points) {
      if (!isSync(p.step)) continue;
      const byBarrier = index[p.step.kind];
      let byTrack = byBarrier.get(p.step.barrier);
      if (!byTrack) byBarrier.set(p.step.barrier, (byTrack = new Map()));
      let points = byTrack.get(t);
      if (!points) byTrack.set(t, (points = []));
      points.push(p);
    }
  }
  return index;
}

function pointsOf(byBarrier: ByBarrier, name: string): Iterable<[Track, StepPoint[]]> {
  return byBarrier.get(name) ?? [];
}

interface Pos {
  round: number;
  seq: number;
}

/** Where a role is stuck. */
interface Blocked {
  track: Track;
  round: number;
  point: StepPoint;
}

type Terminal =
  | { kind: 'self'; signal: StepPoint }
  | { kind: 'nobody'; exists: boolean }
  | { kind: 'short'; got: number; needed: number }
  | { kind: 'conditional'; role: string; point: StepPoint }
  | { kind: 'never-arrives'; role: string; exists: boolean }
  | { kind: 'conditional-arrival'; role: string; point: StepPoint };

interface Link {
  /** The role the blocked node waits for (signaller or missing party). */
  role: string;
  to: Blocked;
}

/** Most rounds played for scope-run counts (each round costs roles × steps). */
const MAX_ROUNDS = 200;

export function checkDeadlocks(graph: ExecutionGraph): PlanIssue[] {
  const { plan, tracks } = graph;
  const issues: PlanIssue[] = [];
  const sync = indexSync(tracks);
  const countErrors = checkCounts(plan, tracks, sync, issues);
  const rounds = roundsToPlay(plan, tracks, sync);
  const seen = new Set<string>();
  const hasMaybe = tracks.some((t) => t.points.some((p) => someRound(rounds, (r) => pointInRound(p, r).runs === 'maybe')));
  for (const mode of hasMaybe ? (['sure', 'worst'] as const) : (['sure'] as const)) {
    const play = new Play(plan, tracks, sync, rounds, mode);
    play.run();
    for (const t of tracks) {
      const stuck = play.blockedAt(t);
      if (!stuck) continue;
      const found = explain(play, stuck, countErrors);
      if (!found || seen.has(found.key)) continue;
      seen.add(found.key);
      issues.push({
        file: found.at.step.loc.file,
        line: found.at.step.loc.line,
        col: found.at.step.loc.col,
        message:
          mode === 'sure' ? found.message : found.message.replace(/^deadlock in round (\d+):/, 'possible deadlock in round $1, depending on `if:` conditions or loop counts:'),
        ...(found.hint ? { hint: found.hint } : {}),
        severity: mode === 'sure' ? 'error' : 'warning',
      });
    }
  }
  return issues.sort((a, b) => a.line - b.line || a.col - b.col);
}

function someRound(rounds: number, f: (r: number) => boolean): boolean {
  for (let r = 1; r <= rounds; r++) if (f(r)) return true;
  return false;
}

/** Two rounds, or fewer if the plan has fewer; more when a scope-run count needs several rounds of signals. */
function roundsToPlay(plan: CompiledPlan, tracks: readonly Track[], sync: SyncIndex): number {
  const limit = Math.min(MAX_ROUNDS, Math.max(...tracks.map((t) => t.maxRounds)));
  let rounds = Math.min(limit, 2);
  for (const b of plan.barriers.values()) {
    if (b.kind !== 'event' || b.scope !== 'run') continue;
    const perRound = maxSignals(b, sync, 2);
    if (perRound > 0 && Number.isFinite(perRound)) rounds = Math.max(rounds, Math.min(limit, MAX_ROUNDS, Math.ceil(b.count / perRound) + 1));
  }
  return Math.max(1, rounds);
}

/** Signals `b` can get in `round` at most: every signal step that may run, times its loops, times the role's workers. */
function maxSignals(b: EventBarrier, sync: SyncIndex, round: number): number {
  let n = 0;
  for (const [t, points] of pointsOf(sync.signal, b.name)) {
    if (!b.signalRoles.includes(t.role) || t.workers.length === 0) continue;
    for (const p of points) {
      const info = pointInRound(p, round);
      if (info.runs !== 'never') n += t.workers.length * info.times;
    }
  }
  return n;
}

/** A count no round (or run) can reach. Returns the names of the barriers reported. */
function checkCounts(plan: CompiledPlan, tracks: readonly Track[], sync: SyncIndex, issues: PlanIssue[]): Set<string> {
  const reported = new Set<string>();
  for (const b of plan.barriers.values()) {
    if (b.kind !== 'event') continue;
    if (!sync.wait.has(b.name)) continue;
    const perRound = Math.max(maxSignals(b, sync, 1), maxSignals(b, sync, 2));
    if (perRound === 0 || !Number.isFinite(perRound)) continue; // nobody signals: reported at the wait
    let reachable = perRound;
    let where = 'in a round';
    if (b.scope === 'run') {
      if (plan.rounds === undefined || tracks.some((t) => t.maxRounds === Infinity && b.signalRoles.includes(t.role))) continue;
      reachable = 0;
      for (let r = 1; r <= Math.min(plan.rounds, MAX_ROUNDS); r++) reachable += maxSignals(b, sync, r);
      if (plan.rounds > MAX_ROUNDS) reachable += (plan.rounds - MAX_ROUNDS) * maxSignals(b, sync, MAX_ROUNDS);
      where = `in the whole run (${plan.rounds} round${plan.rounds === 1 ? '' : 's'})`;
    }
    if (b.count <= reachable) continue;
    reported.add(b.name);
    const who = plan.roles
      .filter((t) => b.signalRoles.includes(t.name) && t.workers.length > 0)
      .map((t) => `${t.name}[${idRanges(t.workers)}]`)
      .join(' + ');
    issues.push({
      file: b.loc.file,
      line: b.loc.line,
      col: b.loc.col,
      severity: 'error',
      message: `barriers.${b.name}: count ${b.count} is larger than the ${reachable} signal${reachable === 1 ? '' : 's'} "${b.name}" can get ${where} from its signalers ${who || '(none)'}, so every wait for it would time out`,
      hint: `lower \`count\` to at most ${reachable}, or let more workers signal \`${b.name}\``,
    });
  }
  return reported;
}

/** Plays the rounds of every role forward until nobody can move. */
class Play {
  readonly pos = new Map<string, Pos>();
  private readonly signals = new Map<string, number[]>();
  private readonly arrivals = new Map<string, Map<number, Set<string>>>();
  private readonly info = new Map<string, PointInRound>();
  /** Position of each track among the plan's roles: a cycle is told from its first role. */
  readonly order: Map<Track, number>;

  constructor(
    readonly plan: CompiledPlan,
    readonly tracks: Track[],
    readonly sync: SyncIndex,
    readonly rounds: number,
    readonly mode: Mode,
  ) {
    for (const t of tracks) this.pos.set(t.role, { round: t.workers.length === 0 ? rounds + 1 : 1, seq: 0 });
    this.order = new Map(tracks.map((t, i) => [t, i]));
  }

  /** The last round `t` plays. */
  private last(t: Track): number {
    return Math.min(this.rounds, t.maxRounds);
  }

  at(t: Track, point: StepPoint, round: number): PointInRound {
    const key = `${t.role}\0${round}\0${point.seq}`;
    let v = this.info.get(key);
    if (!v) this.info.set(key, (v = pointInRound(point, round)));
    return v;
  }

  run(): void {
    let moved = true;
    while (moved) {
      moved = false;
      for (const t of this.tracks) while (this.advance(t)) moved = true;
    }
  }

  /** Completes the next point of `t` if it can; false when blocked or done. */
  private advance(t: Track): boolean {
    const pos = this.pos.get(t.role)!;
    if (pos.round > this.last(t)) return false;
    const point = t.points[pos.seq];
    if (!point) {
      pos.round++;
      pos.seq = 0;
      return pos.round <= this.last(t);
    }
    if (!this.canPass(t, point, pos.round)) return false;
    pos.seq++;
    return true;
  }

  private canPass(t: Track, point: StepPoint, round: number): boolean {
    const { runs, times } = this.at(t, point, round);
    const step = point.step;
    if (runs === 'never' || !isSync(step)) return true;
    const maybe = runs === 'maybe';
    const b = this.plan.barriers.get(step.barrier);
    if (!b) return true;
    if (step.kind === 'signal') {
      if (!maybe || this.mode === 'sure') this.addSignal(b.name, round, t.workers.length * times);
      return true;
    }
    if (b.kind === 'meeting') {
      if (maybe && this.mode === 'worst') return true;
      const arrived = this.arrived(b.name, round);
      arrived.add(t.role);
      return (maybe && this.mode === 'sure') || this.meetingComplete(b, round);
    }
    if (maybe && this.mode === 'sure') return true;
    return this.eventSatisfied(b, round);
  }

  private addSignal(name: string, round: number, n: number): void {
    let list = this.signals.get(name);
    if (!list) this.signals.set(name, (list = []));
    list[round] = (list[round] ?? 0) + n;
  }

  signalCount(name: string, round: number | 'run'): number {
    const list = this.signals.get(name) ?? [];
    if (round !== 'run') return list[round] ?? 0;
    return list.reduce((a, n) => a + (n ?? 0), 0);
  }

  arrived(name: string, round: number): Set<string> {
    let byRound = this.arrivals.get(name);
    if (!byRound) this.arrivals.set(name, (byRound = new Map()));
    let set = byRound.get(round);
    if (!set) byRound.set(round, (set = new Set()));
    return set;
  }

  meetingComplete(b: MeetingBarrier, round: number): boolean {
    const arrived = this.arrived(b.name, round);
    return this.partyTracks(b).every((t) => arrived.has(t.role));
  }

  partyTracks(b: MeetingBarrier): Track[] {
    return this.tracks.filter((t) => b.partyRoles.includes(t.role) && t.workers.length > 0);
  }

  eventSatisfied(b: EventBarrier, round: number): boolean {
    const source = sourceRound(b, round);
    if (source === 0) return true;
    return this.signalCount(b.name, source) >= b.count;
  }

  blockedAt(t: Track): Blocked | undefined {
    const pos = this.pos.get(t.role)!;
    if (pos.round > this.last(t)) return undefined;
    const point = t.points[pos.seq];
    return point ? { track: t, round: pos.round, point } : undefined;
  }

  /** True when `t` completed the point `seq` of `round`. */
  passed(t: Track, round: number, seq: number): boolean {
    const pos = this.pos.get(t.role)!;
    return pos.round > round || (pos.round === round && pos.seq > seq);
  }
}

/** What holds `node`: the next stuck role in the chain, or a cause that ends it. */
function holder(play: Play, node: Blocked): Link | Terminal {
  const step = node.point.step as { barrier: string };
  const b = play.plan.barriers.get(step.barrier) as BarrierSpec;
  if (b.kind === 'meeting') {
    const arrived = play.arrived(b.name, node.round);
    for (const t of play.partyTracks(b)) {
      if (arrived.has(t.role)) continue;
      const arrivals = play.sync.barrier.get(b.name)?.get(t) ?? [];
      const points = arrivals.filter((p) => play.at(t, p, node.round).runs !== 'never');
      const sure = points.filter((p) => play.mode === 'sure' || play.at(t, p, node.round).runs === 'always');
      if (sure.length === 0) {
        if (points[0]) return { kind: 'conditional-arrival', role: t.role, point: points[0] };
        return { kind: 'never-arrives', role: t.role, exists: arrivals.length > 0 };
      }
      const to = play.blockedAt(t);
      if (to) return { role: t.role, to };
    }
    return { kind: 'never-arrives', role: node.track.role, exists: true };
  }
  const source = sourceRound(b, node.round);
  const rounds = source === 'run' ? Array.from({ length: play.rounds }, (_, i) => i + 1) : [source];
  const pending: Array<{ t: Track; p: StepPoint }> = [];
  let conditional: { t: Track; p: StepPoint } | undefined;
  let any = false;
  for (const [t, points] of pointsOf(play.sync.signal, b.name)) {
    if (!b.signalRoles.includes(t.role) || t.workers.length === 0) continue;
    for (const r of rounds) {
      for (const p of points) {
        const runs = play.at(t, p, r).runs;
        if (runs === 'never') continue;
        any = true;
        if (runs === 'maybe' && play.mode === 'worst') conditional ??= { t, p };
        else if (!play.passed(t, r, p.seq)) pending.push({ t, p });
      }
    }
  }
  const self = pending.find((c) => c.t === node.track);
  if (self) return { kind: 'self', signal: self.p };
  for (const c of pending) {
    const to = play.blockedAt(c.t);
    if (to) return { role: c.t.role, to };
  }
  if (conditional) return { kind: 'conditional', role: conditional.t.role, point: conditional.p };
  if (!any) return { kind: 'nobody', exists: [...pointsOf(play.sync.signal, b.name)].some(([t]) => b.signalRoles.includes(t.role)) };
  return { kind: 'short', got: play.signalCount(b.name, source), needed: b.count };
}

interface Found {
  key: string;
  at: StepPoint;
  message: string;
  hint?: string;
}

function explain(play: Play, start: Blocked, countErrors: Set<string>): Found | undefined {
  const keyOf = (n: Blocked) => `${n.track.role}@${n.round}:${n.point.seq}`;
  const chain: Blocked[] = [];
  const links: Link[] = [];
  const index = new Map<string, number>();
  let node = start;
  for (;;) {
    index.set(keyOf(node), chain.length);
    chain.push(node);
    const next = holder(play, node);
    if (!('to' in next)) return terminalMessage(play, node, next, countErrors, keyOf(node));
    links.push(next);
    const seenAt = index.get(keyOf(next.to));
    if (seenAt !== undefined) {
      // A cycle: chain[seenAt..] with links[seenAt..]. Start it at its earliest round, then the first role.
      const nodes = chain.slice(seenAt);
      const ls = links.slice(seenAt);
      let first = 0;
      const order = (n: Blocked) => play.order.get(n.track)!;
      nodes.forEach((n, i) => {
        const f = nodes[first]!;
        if (n.round < f.round || (n.round === f.round && (order(n) < order(f) || (order(n) === order(f) && n.point.seq < f.point.seq)))) first = i;
      });
      const rot = <T>(a: T[]) => [...a.slice(first), ...a.slice(0, first)];
      return cycleMessage(play, rot(nodes), rot(ls), nodes.map(keyOf).sort().join(' '));
    }
    node = next.to;
  }
}

function lineOf(p: StepPoint): string {
  return `line ${p.step.loc.line}`;
}

function what(play: Play, n: Blocked, start: Blocked): string {
  const step = n.point.step as { kind: string; barrier: string };
  const b = play.plan.barriers.get(step.barrier) as BarrierSpec;
  const inRound = n.round !== start.round ? ` in round ${n.round}` : '';
  if (b.kind === 'meeting') return `at barrier "${b.name}" (${lineOf(n.point)})${inRound}`;
  const of = b.scope === 'previous-round' ? ` of round ${n.round - 1}` : b.scope === 'run' ? ' of the whole run' : '';
  return `for "${b.name}"${of} (${lineOf(n.point)})${inRound}`;
}

function isMeeting(play: Play, n: Blocked): boolean {
  return play.plan.barriers.get((n.point.step as { barrier: string }).barrier)?.kind === 'meeting';
}

function cycleMessage(play: Play, nodes: Blocked[], links: Link[], key: string): Found {
  const start = nodes[0]!;
  let text = `deadlock in round ${start.round}: ${start.track.role} waits ${what(play, start, start)}`;
  nodes.forEach((n, i) => {
    const link = links[i]!;
    const next = nodes[(i + 1) % nodes.length]!;
    const after = `only after waiting ${what(play, next, start)}`;
    text += isMeeting(play, n) ? ` for ${link.role}, which arrives there ${after}` : `, which ${link.role} signals ${after}`;
  });
  const events = [...new Set(nodes.filter((n) => !isMeeting(play, n)).map((n) => (n.point.step as { barrier: string }).barrier))].map((b) => `"${b}"`);
  return {
    key,
    at: start.point,
    message: text,
    hint:
      events.length === 0
        ? 'let every role arrive at these barriers in the same order'
        : `break the cycle: signal before waiting in one of these roles, or wait with \`scope: previous-round\` for ${events.length === 1 ? events[0] : `one of ${events.join(', ')}`}`,
  };
}

function terminalMessage(play: Play, n: Blocked, t: Terminal, countErrors: Set<string>, nodeKey: string): Found | undefined {
  const head = `${n.track.role} waits ${what(play, n, n)}`;
  const barrier = (n.point.step as { barrier: string }).barrier;
  const key = `${nodeKey}|${t.kind}`;
  switch (t.kind) {
    case 'self':
      return {
        key,
        at: n.point,
        message: `deadlock in round ${n.round}: ${head}, which ${n.track.role} itself signals only later (${lineOf(t.signal)})`,
        hint: `signal \`${barrier}\` before waiting for it, or wait with \`scope: previous-round\``,
      };
    case 'nobody': {
      const b = play.plan.barriers.get(barrier) as EventBarrier;
      return {
        key,
        at: n.point,
        message: `${head}, which nobody signals: ${b.signalRoles.map((r) => `\`${r}\``).join(', ') || 'no role'} ha${b.signalRoles.length === 1 ? 's' : 've'} no \`signal: ${barrier}\` step${t.exists ? ` that runs ${source(b, n.round)}` : ''}`,
        hint: 'this wait would always time out',
      };
    }
    case 'short':
      if (countErrors.has(barrier)) return undefined;
      // A scope-run count may need more rounds than were played: not provably short.
      if ((play.plan.barriers.get(barrier) as EventBarrier).scope === 'run' && play.rounds < (play.plan.rounds ?? Infinity)) return undefined;
      return { key, at: n.point, message: `${head}, which gets only ${t.got} of the ${t.needed} signals it needs in round ${n.round}` };
    case 'conditional':
      return {
        key,
        at: n.point,
        message: underCondition(t.point)
          ? `may fail in round ${n.round}: ${head}, which ${t.role} signals only under a condition (${lineOf(t.point)}); when the condition is false, the wait fails at once (broken barrier)`
          : `hang in round ${n.round}: ${head}, which ${t.role} signals only in a loop whose count is known at run time (${lineOf(t.point)}); when it is skipped, the wait runs into its timeout`,
      };
    case 'never-arrives':
      return {
        key,
        at: n.point,
        message: `deadlock in round ${n.round}: ${head} for ${t.role}, which never arrives there: ${t.role} has no \`barrier: ${barrier}\` step${t.exists ? ` that runs in round ${n.round}` : ''}`,
        hint: `add \`barrier: ${barrier}\` to the steps of ${t.role}, or remove ${t.role} from the parties`,
      };
    case 'conditional-arrival':
      return {
        key,
        at: n.point,
        message: underCondition(t.point)
          ? `may fail in round ${n.round}: ${head} for ${t.role}, which arrives there only under a condition (${lineOf(t.point)}); when the condition is false, the barrier fails at once (broken barrier)`
          : `hang in round ${n.round}: ${head} for ${t.role}, which arrives there only in a loop whose count is known at run time (${lineOf(t.point)}); when it is skipped, the barrier runs into its timeout`,
      };
  }
}

/** `in round 3`, `in round 2` (previous-round of 3), `in any round` (run). */
function source(b: EventBarrier, round: number): string {
  return b.scope === 'run' ? 'in any round' : `in round ${b.scope === 'previous-round' ? round - 1 : round}`;
}

/**
 * A step skipped by its `if:` (or a parent's) gives up its signal or arrival at
 * once (the worker abandons it), so the others fail fast; one in a loop that
 * runs too few times is simply missing, and they wait until their timeout.
 */
function underCondition(p: StepPoint): boolean {
  return [...p.parents, p.step].some((s) => s.if);
}
