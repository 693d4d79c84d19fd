// The HTTP transport of a run: one keep-alive Agent (a pool of
// `connections` sockets per origin) shared by every worker. Requests go
// through `send`, which follows redirects per request (see exchange.ts), so a
// step's `maxRedirects` never changes how connections are pooled.
import { Agent, type Dispatcher } from 'undici';
import { InFlight } from '../transport/in-flight.js';
import type { TransportHandler } from '../transport/handler.js';
import { exchange, type Exchanged, type ExchangeOptions, type RedirectPolicy } from './exchange.js';

export interface TransportOptions {
  /** Sockets per origin (plan `http.connections`, default: workers). */
  connections: number;
  /** Redirects followed unless a step says otherwise (plan `http.maxRedirects`). */
  maxRedirects: number;
}

export class HttpTransport {
  readonly agent: Agent;
  private readonly dispatch: Dispatcher.Dispatch;
  /**
   * Exchanges in flight per step signal. A worker reuses its signal step after
   * step, so one abort listener per signal replaces an add/remove per request.
   */
  private readonly inFlight = new WeakMap<AbortSignal, InFlight<TransportHandler>>();

  constructor(readonly options: TransportOptions) {
    this.agent = new Agent({
      connections: Math.max(1, options.connections),
      pipelining: 1,
      // Load runs pause between rounds (think time, barriers): keep idle sockets
      // longer than undici's 4 s default so a round does not reconnect.
      keepAliveTimeout: 30_000,
      // The step timeout (through the AbortSignal) bounds requests; undici's own
      // 300 s header/body timeouts only stay as a last resort.
    });
    this.dispatch = this.agent.dispatch.bind(this.agent);
  }

  /**
   * Sends one request, following at most `redirects.max` redirects (0: none, the 3xx is the response);
   * `signal` aborts it. The response fills `into`, also when the exchange fails halfway.
   */
  send(opts: ExchangeOptions, redirects: RedirectPolicy, signal: AbortSignal, into?: Exchanged): Promise<Exchanged> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return exchange(this.dispatch, opts, redirects, this.slotsOf(signal), into);
  }

  private slotsOf(signal: AbortSignal): InFlight<TransportHandler> {
    let slots = this.inFlight.get(signal);
    if (!slots) {
      const inFlight = (slots = new InFlight<TransportHandler>());
      this.inFlight.set(signal, inFlight);
      signal.addEventListener(
        'abort',
        () => {
          for (const slot of inFlight.items()) slot.abort(signal.reason);
        },
        { once: true },
      );
    }
    return slots;
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** Drops every socket at once (run aborted: in-flight requests fail). */
  destroy(): Promise<void> {
    return this.agent.destroy();
  }
}
