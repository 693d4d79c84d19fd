// The WebSocket engine: runs `ws` steps over undici's WebSocket client, one
// connection per worker (see connection.ts). connect opens it (closing the
// worker's previous one), send writes a text frame, expect waits for a message
// that matches and captures from it, close ends it. Every step reports what it
// sent and took off the connection; a failure names the URL, what was awaited,
// how the connection closed and the last messages seen.
import { Agent } from 'undici';
import type { CaptureSpec, MatcherSpec, TemplateScope, WsActionSpec, WsExpectSpec } from '../../contract/plan.js';
import type { WsStepInfo } from '../../contract/events.js';
import { StepFailure, type Engine, type RunContext, type StepContext, type StepDetails } from '../../contract/engine.js';
import { captureFromText, checkJsonPaths, describeMatcher, excerpt, matchValue, NOT_JSON } from '../matchers.js';
import { wireFailure } from '../transport/errors.js';
import { type Closed, type Handshake, type Message, type OpenResult, type WaitEnd, WsConnection } from './connection.js';

export { BUFFER_CAP } from './connection.js';

/** How long a worker's end (or the run's) waits for a server to answer a close before dropping the socket. */
const CLOSE_GRACE_MS = 1_000;

type Action<A extends WsActionSpec['action']> = Extract<WsActionSpec, { action: A }>;

/** `code 4001 "bye"`, or what a 1006 means. */
function describeClose(c: Closed): string {
  if (c.code === 1006) return 'code 1006: the connection dropped without a close frame';
  return `code ${c.code}${c.reason ? ` ${JSON.stringify(c.reason)}` : ''}`;
}

function closedBy(c: Closed): string {
  return c.byUs ? `was closed (${describeClose(c)})` : c.code === 1006 ? `was lost (${describeClose(c)})` : `was closed by the server (${describeClose(c)})`;
}

/** `; last messages: "a", "b"` or `; no message arrived`, for failure messages. */
function lastMessages(conn: WsConnection): string {
  const recent = conn.recent();
  return recent.length === 0 ? 'no message arrived' : `last messages: ${recent.map((m) => excerpt(m.text, 60)).join(', ')}`;
}

/** The rendered checks of one expect, and the test of a message they make (built with them, not per message). */
interface Awaited {
  text: MatcherSpec[];
  json: Array<{ path: string; matcher: MatcherSpec }>;
  test: (m: Message) => boolean;
}

/** Expectations without templates render once, not at every step of a message loop. */
const staticExpects = new WeakMap<WsExpectSpec, Awaited>();

function renderExpect(e: WsExpectSpec, scope: () => TemplateScope): Awaited {
  const cached = staticExpects.get(e);
  if (cached) return cached;
  let awaited: Awaited;
  try {
    const s = scope();
    const text = e.text.map((m) => m.render(s));
    const json = e.json.map(({ path, matcher }) => ({ path, matcher: matcher.render(s) }));
    awaited = { text, json, test: (m) => matches(text, json, m) };
  } catch (err) {
    throw new StepFailure(`cannot build the expectation: ${(err as Error).message}`, 'plan');
  }
  if (e.text.every((m) => m.isStatic) && e.json.every((j) => j.matcher.isStatic)) staticExpects.set(e, awaited);
  return awaited;
}

/** What an expect awaits, as a phrase for failure messages: `a message with text "x" and json $.a 1`. */
function describeAwaited(a: Awaited): string {
  const parts = [...a.text.map((m) => `text ${describeMatcher(m)}`), ...a.json.map(({ path, matcher }) => `json ${path} ${describeMatcher(matcher)}`)];
  return parts.length ? `a message with ${parts.join(' and ')}` : 'a message';
}

function matches(text: Awaited['text'], json: Awaited['json'], m: Message): boolean {
  for (const t of text) if (matchValue(t, m.text) !== undefined) return false;
  if (json.length === 0) return true;
  const parsed = m.json();
  return parsed !== NOT_JSON && checkJsonPaths(json, parsed).length === 0;
}

function captureMissing(c: CaptureSpec, m: Message, url: string): string {
  const head = `capture "${c.name}"`;
  const shown = `(message: ${excerpt(m.text)})`;
  if (c.from === 'json') {
    return m.json() === NOT_JSON ? `${head}: the message from ${url} is not JSON ${shown}` : `${head}: nothing at ${c.path} in the JSON message from ${url} ${shown}`;
  }
  if (c.from === 'regex') return `${head}: ${c.regex} ${c.regex.exec(m.text) ? `has no group ${c.group} in its match` : 'does not match the message'} from ${url} ${shown}`;
  return `${head}: the message has no ${c.from}`;
}

/** ws:// or wss:// from the step's URL, relative to the target; http(s) maps to ws(s). */
function wsUrl(text: string, target: URL | undefined): string {
  let url: URL;
  try {
    url = new URL(text, target);
  } catch {
    throw new StepFailure(
      target
        ? `the URL ${JSON.stringify(text)} is not a valid URL, even relative to the target ${target.href}`
        : `the URL ${JSON.stringify(text)} is relative but the plan has no \`target:\`; set one or write an absolute ws:// URL`,
      'ws',
    );
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  else if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new StepFailure(`the URL ${url.href} is not ws(s):// or http(s)://`, 'ws');
  return url.href;
}

/** Why a connect failed, from what its handshake met. */
function connectFailure(ctx: StepContext, url: string, seen: Handshake, protocols: string[], aborted: boolean, extra: StepDetails): StepFailure {
  const fail = (message: string, code: string) => new StepFailure(message, code, extra);
  if (ctx.run.signal.aborted) return fail(`stopped: the run was aborted while connecting to ${url}`, 'aborted');
  if (aborted) return fail(`timed out after ${ctx.timeoutMs}ms connecting to ${url} (step timeout)`, 'timeout');
  const { kind, code } = wireFailure(seen.error);
  if (kind === 'unreachable' || kind === 'connect-timeout')
    return fail(`cannot connect to ${new URL(url).host} (${code}) for ${url}: is the server running and the target right?`, 'connect');
  if (seen.error) return fail(`cannot open ${url}: ${seen.error.message}${code && !seen.error.message.includes(code) ? ` (${code})` : ''}`, 'connect');
  if (seen.status !== undefined && seen.status !== 101) return fail(`${url} answered the WebSocket handshake with status ${seen.status} instead of 101 Switching Protocols`, 'ws');
  if (seen.status === 101) {
    const offered = protocols.length ? `; offered subprotocols: ${protocols.join(', ')}` : '';
    return fail(`${url} accepted the upgrade but its answer is not a valid WebSocket handshake (missing or unexpected Sec-WebSocket-Protocol or -Accept)${offered}`, 'ws');
  }
  // Fetch refuses some ports outright (1, 9, 25…) before any connection: nothing reaches the dispatcher.
  return fail(`cannot open ${url}: the connection failed before any answer (fetch also refuses ports such as 1, 9 or 25)`, 'connect');
}

export function createWsEngine(run: RunContext): Engine {
  // Handshakes go through an Agent of the run's own, not undici's global one.
  const agent = new Agent();
  const connections = new Map<number, WsConnection>();

  /** A step's counts (the drops since the previous step are taken off the connection). Built field by field: two per message. */
  function info(conn: WsConnection | { url: string }, counts: Partial<WsStepInfo>): WsStepInfo {
    let dropped = counts.dropped ?? 0;
    if (conn instanceof WsConnection) {
      dropped = counts.dropped ?? conn.dropped;
      conn.dropped = 0;
    }
    const out: WsStepInfo = { url: conn.url, sent: counts.sent ?? 0, received: counts.received ?? 0, skipped: counts.skipped ?? 0, dropped, bytes: counts.bytes ?? 0 };
    if (counts.closeCode !== undefined) out.closeCode = counts.closeCode;
    return out;
  }

  function connectionOf(ctx: StepContext): WsConnection {
    const conn = connections.get(ctx.worker.id);
    if (!conn) throw new StepFailure('this worker has no WebSocket connection: put a `ws: { connect: … }` step before this one (a `close` step ends it)', 'plan');
    return conn;
  }

  async function connect(ctx: StepContext, spec: Action<'connect'>): Promise<StepDetails> {
    const scope = ctx.scope();
    const url = wsUrl(spec.url.renderString(scope), run.plan.target);
    const headers = Object.fromEntries(Object.entries(spec.headers).map(([name, t]) => [name.toLowerCase(), t.renderString(scope)]));
    const protocols = spec.protocols.map((t) => t.renderString(scope));
    // The worker's previous connection ends here: its unread messages and drops are this step's.
    const previous = connections.get(ctx.worker.id);
    let skipped = 0;
    let dropped = 0;
    if (previous) {
      connections.delete(ctx.worker.id);
      skipped = (await previous.close(CLOSE_GRACE_MS, ctx.signal)).unread;
      dropped = previous.dropped;
    }
    let opened: OpenResult;
    try {
      opened = await WsConnection.open(url, { agent, headers, protocols, signal: ctx.signal });
    } catch (err) {
      // The constructor throws for what it cannot send (a bad header or subprotocol).
      throw new StepFailure(`cannot open ${url}: ${(err as Error).message}`, 'ws', { ws: info({ url }, { skipped, dropped }) });
    }
    if ('failed' in opened) throw connectFailure(ctx, url, opened.failed, protocols, opened.aborted, { ws: info({ url }, { skipped, dropped }) });
    connections.set(ctx.worker.id, opened.connection);
    return { ws: info(opened.connection, { skipped, dropped }) };
  }

  function send(ctx: StepContext, spec: Action<'send'>): StepDetails {
    const conn = connectionOf(ctx);
    if (conn.closed) throw new StepFailure(`cannot send: ${conn.url} ${closedBy(conn.closed)}`, 'closed', { ws: info(conn, { closeCode: conn.closed.code }) });
    const m = spec.message;
    // A static text needs no scope: building one is most of what a `send: ping` costs.
    const text = m.type === 'json' ? (JSON.stringify(m.value.render(ctx.scope())) ?? 'null') : m.text.isStatic ? m.text.source : m.text.renderString(ctx.scope());
    const bytes = conn.send(text);
    return { ws: info(conn, { sent: 1, bytes }) };
  }

  /** Waits for the awaited message; a message already buffered is taken without a promise. */
  function expect(ctx: StepContext, spec: Action<'expect'>): StepDetails | Promise<StepDetails> {
    const conn = connectionOf(ctx);
    const awaited = renderExpect(spec.expect, ctx.scope);
    // `within` never outlasts the step: past the step timeout the step's signal ends the wait.
    const within = spec.withinMs !== undefined && spec.withinMs < ctx.timeoutMs ? spec.withinMs : undefined;
    return conn.next(awaited.test, ctx.signal, within, (got, skipped) => expected(ctx, spec, conn, awaited, within, skipped, got));
  }

  /** What an expect found: its captures and counts, or the failure that says what it waited for and saw. */
  function expected(
    ctx: StepContext,
    spec: Action<'expect'>,
    conn: WsConnection,
    awaited: Awaited,
    within: number | undefined,
    skipped: number,
    got: Message | WaitEnd,
  ): StepDetails {
    if (typeof got === 'string') {
      const counts = (extra: Partial<WsStepInfo> = {}) => ({ ws: info(conn, { received: skipped, skipped, ...extra }) });
      const phrase = describeAwaited(awaited);
      const seen = `${skipped ? `skipped ${skipped} other message${skipped === 1 ? '' : 's'}; ` : ''}${lastMessages(conn)}`;
      if (got === 'closed') {
        throw new StepFailure(`${conn.url} ${closedBy(conn.closed!)} before ${phrase} arrived (${seen})`, 'closed', counts({ closeCode: conn.closed!.code }));
      }
      if (ctx.run.signal.aborted) throw new StepFailure(`stopped: the run was aborted while waiting on ${conn.url} for ${phrase}`, 'aborted', counts());
      const waited = got === 'timeout' ? within! : ctx.timeoutMs;
      throw new StepFailure(`timed out after ${waited}ms waiting on ${conn.url} for ${phrase} (${seen})`, 'timeout', counts());
    }
    const missing: string[] = [];
    for (const c of spec.captures) {
      const value = captureFromText(c, got.text, () => got.json());
      if (value === undefined) missing.push(captureMissing(c, got, conn.url));
      else ctx.worker.captures[c.name] = value;
    }
    const details = { ws: info(conn, { received: skipped + 1, skipped, bytes: got.bytes }) };
    if (missing.length > 0) throw new StepFailure(missing.join('; '), 'capture', details);
    return details;
  }

  async function close(ctx: StepContext): Promise<StepDetails> {
    const conn = connectionOf(ctx);
    connections.delete(ctx.worker.id);
    const { closed, answered, unread } = await conn.close(ctx.timeoutMs, ctx.signal);
    const details = { ws: info(conn, { skipped: unread, closeCode: closed.code }) };
    if (answered) return details;
    if (ctx.run.signal.aborted) throw new StepFailure(`stopped: the run was aborted while closing ${conn.url}`, 'aborted', details);
    throw new StepFailure(`timed out after ${ctx.timeoutMs}ms waiting for ${conn.url} to answer the close (code 1000); the socket was dropped`, 'timeout', details);
  }

  return {
    name: 'ws',

    // Not async: a send (and an expect whose message is buffered) is done at once and returns its details directly.
    execute(ctx: StepContext): StepDetails | Promise<StepDetails> {
      const step = ctx.step;
      if (step.kind !== 'ws') throw new StepFailure(`the ws engine runs ws steps, not ${step.kind} steps`, 'internal');
      const spec = step.ws;
      switch (spec.action) {
        case 'connect':
          return connect(ctx, spec);
        case 'send':
          return send(ctx, spec);
        case 'expect':
          return expect(ctx, spec);
        case 'close':
          return close(ctx);
      }
    },

    async releaseWorker(worker: number): Promise<void> {
      const conn = connections.get(worker);
      if (!conn) return;
      connections.delete(worker);
      await conn.close(CLOSE_GRACE_MS);
    },

    async close(): Promise<void> {
      const open = [...connections.values()];
      connections.clear();
      await Promise.all(open.map((c) => c.close(CLOSE_GRACE_MS)));
      await agent.close();
    },
  };
}
