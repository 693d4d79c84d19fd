// The HTTP transport of a run: one keep-alive Agent (a pool of
// `connections` sockets per origin) shared by every worker, with undici's
// redirect interceptor composed on top. Each distinct redirect limit gets its
// own composed view of the same Agent, so a step's `maxRedirects` never
// changes how connections are pooled.
import { Agent, interceptors, type Dispatcher } from 'undici';

export interface TransportOptions {
  /** Sockets per origin (plan `http.connections`, default: workers). */
  connections: number;
  /** Redirects followed unless a step says otherwise (plan `http.maxRedirects`). */
  maxRedirects: number;
}

export class HttpTransport {
  readonly agent: Agent;
  private readonly byLimit = new Map<number, Dispatcher>();

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
  }

  /** The dispatcher following at most `maxRedirects` redirects (0: none, the 3xx is the response). */
  dispatcher(maxRedirects = this.options.maxRedirects): Dispatcher {
    let d = this.byLimit.get(maxRedirects);
    if (!d) {
      d = maxRedirects > 0 ? this.agent.compose(interceptors.redirect({ maxRedirections: maxRedirects })) : this.agent;
      this.byLimit.set(maxRedirects, d);
    }
    return d;
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** Drops every socket at once (run aborted: in-flight requests fail). */
  destroy(): Promise<void> {
    return this.agent.destroy();
  }
}
