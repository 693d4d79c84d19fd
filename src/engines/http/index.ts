// The HTTP engine: runs `request` steps over one shared undici Agent.
// A step renders its request, sends it (redirects per `maxRedirects`, bounded
// by the step's AbortSignal), reads the whole body (keeping up to
// `maxBodySize` of it), keeps it as the worker's last response, checks
// expectations, then stores captures.
import type { Dispatcher } from 'undici';
import type { RequestSpec, TemplateScope } from '../../contract/plan.js';
import { StepFailure, type Engine, type HttpResponseData, type RunContext, type StepContext, type StepDetails } from '../../contract/engine.js';
import { captureFromResponse, captureMissing, checkHttpExpect } from '../matchers.js';
import type { StepResult } from '../../contract/events.js';
import { HttpTransport } from './dispatcher.js';
import { emptyExchange } from './exchange.js';
import { toStepFailure } from './failures.js';
import { RequestBuilder, type OutgoingRequest } from './request.js';
import { toResponseData, REDIRECT_STATUSES } from './response.js';

export { HttpTransport } from './dispatcher.js';

type HttpInfo = NonNullable<StepResult['http']>;

/** How long close() lets in-flight requests finish before dropping their sockets. */
const CLOSE_GRACE_MS = 2_000;

/** Every request step waits for the wire: its execute always answers with a promise. */
export interface HttpEngine extends Engine {
  execute(ctx: StepContext): Promise<StepDetails>;
}

export function createHttpEngine(run: RunContext): HttpEngine {
  const plan = run.plan;
  const transport = new HttpTransport({ connections: plan.http.connections, maxRedirects: plan.http.maxRedirects });
  const builder = new RequestBuilder(plan);

  async function send(ctx: StepContext, spec: RequestSpec): Promise<{ response: HttpResponseData; http: HttpInfo }> {
    let scope: TemplateScope | undefined;
    let outgoing: OutgoingRequest;
    try {
      outgoing = builder.build(spec, () => (scope ??= ctx.scope()));
    } catch (err) {
      if (err instanceof StepFailure) throw err;
      throw new StepFailure(`cannot build the ${spec.method} request from ${JSON.stringify(spec.url.source)}: ${(err as Error).message}`, 'http');
    }
    // What goes out in a secret header or query parameter must not come back in a body, a capture or a message.
    run.redactor.learnHeaders(outgoing.headers);
    run.redactor.learnUrl(outgoing.url);
    const http: HttpInfo = { method: outgoing.method, url: outgoing.href, bytes: 0 };
    const maxRedirects = spec.maxRedirects ?? plan.http.maxRedirects;
    const startedAt = performance.now();
    const received = emptyExchange(spec.maxBodySize ?? plan.http.maxBodySize);
    try {
      const exchanged = await transport.send(
        {
          origin: outgoing.origin,
          path: outgoing.path,
          method: outgoing.method as Dispatcher.HttpMethod,
          headers: outgoing.headers,
          body: outgoing.body ?? null,
          // Undici's own timers at the step's limit, in case the step signal never fires: in Node 20 a
          // timeout inside AbortSignal.any() can be garbage-collected before it aborts (nodejs/node#57736).
          headersTimeout: ctx.timeoutMs,
          bodyTimeout: ctx.timeoutMs,
        },
        { max: maxRedirects, headers: spec.redirectHeaders ?? plan.http.redirectHeaders },
        ctx.signal,
        received,
      );
      const response = toResponseData(exchanged, outgoing.href, startedAt);
      run.redactor.learnHeaders(response.headers);
      http.status = response.status;
      http.bytes = response.bytes;
      return { response, http };
    } catch (err) {
      if (received.status > 0) http.status = received.status;
      throw toStepFailure(err, ctx, http, startedAt);
    }
  }

  return {
    name: 'http',

    async execute(ctx: StepContext): Promise<StepDetails> {
      const step = ctx.step;
      if (step.kind !== 'request') throw new StepFailure(`the http engine runs request steps, not ${step.kind} steps`, 'internal');
      const spec = step.request;
      const { response, http } = await send(ctx, spec);
      ctx.worker.lastResponse = response;

      const maxRedirects = spec.maxRedirects ?? plan.http.maxRedirects;
      const location = response.headers.location;
      if (maxRedirects > 0 && location !== undefined && REDIRECT_STATUSES.has(response.status)) {
        throw new StepFailure(
          `too many redirects: stopped after ${maxRedirects} (maxRedirects: ${maxRedirects}); ${response.url} answered ${response.status} → ${location}`,
          'http',
          { http },
        );
      }

      const failures = checkHttpExpect(spec.expect, response);
      if (failures.length > 0) throw new StepFailure(`${http.method} ${response.url}: ${failures.join('; ')}`, 'expectation', { http });

      const missing: string[] = [];
      for (const c of spec.captures) {
        let value: unknown;
        try {
          value = captureFromResponse(c, response);
        } catch (err) {
          missing.push(`capture "${c.name}": ${(err as Error).message}`);
          continue;
        }
        if (value === undefined) missing.push(captureMissing(c, response));
        else ctx.worker.captures[c.name] = value;
      }
      if (missing.length > 0) throw new StepFailure(missing.join('; '), 'capture', { http });
      return { http };
    },

    async close(): Promise<void> {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_GRACE_MS)));
      const closed = await Promise.race([transport.close().then(() => 'closed' as const), grace]);
      clearTimeout(timer);
      if (closed === 'late') await transport.destroy();
    },
  };
}
