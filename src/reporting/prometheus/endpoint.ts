// The HTTP endpoint Prometheus scrapes while a run lasts: GET /metrics answers
// the live registry's exposition text; anything else is a 404 naming /metrics.
// It listens before the run starts, so a port in use is the command's error
// (MetricsEndpointError), not a run that nobody can watch.
import { createServer, type Server } from 'node:http';
import type { LiveRegistry } from './live-registry.js';

export const DEFAULT_METRICS_HOST = '127.0.0.1';

export interface MetricsEndpointOptions {
  port: number;
  /** Default 127.0.0.1: only this machine. `0.0.0.0` or `::` (every interface) is the user's explicit choice. */
  host?: string;
  registry: LiveRegistry;
}

export interface MetricsEndpoint {
  /** http://host:port/metrics, with the port actually bound (port 0 picks a free one). */
  readonly url: string;
  close(): Promise<void>;
}

/** The endpoint could not listen (port in use, address not on this machine, port reserved): nothing ran. */
export class MetricsEndpointError extends Error {
  override readonly name = 'MetricsEndpointError';
}

export async function startMetricsEndpoint(o: MetricsEndpointOptions): Promise<MetricsEndpoint> {
  const host = o.host ?? DEFAULT_METRICS_HOST;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('planrun serves its live metrics at /metrics\n');
      return;
    }
    o.registry.scrape().then(
      (text) => res.writeHead(200, { 'content-type': o.registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${err instanceof Error ? err.message : String(err)}\n`),
    );
  });
  await listen(server, host, o.port);
  const { port } = server.address() as { port: number };
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}/metrics`,
    close: () =>
      new Promise((resolve) => {
        // Prometheus keeps its connection alive between scrapes: close it, or close() waits for it.
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new MetricsEndpointError(listenProblem(err, host, port))));
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      // A failure of the listening socket later must not crash the run it only reports on.
      server.on('error', () => {});
      resolve();
    });
  });
}

function listenProblem(err: NodeJS.ErrnoException, host: string, port: number): string {
  const at = `${host}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return `cannot serve the metrics at ${at}: the port is in use by another program; choose another --metrics-port`;
    case 'EACCES':
      return `cannot serve the metrics at ${at}: this user may not listen on port ${port}; choose a port above 1023`;
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot serve the metrics at ${at}: ${host} is not an address of this machine; give one with --metrics-host (default ${DEFAULT_METRICS_HOST})`;
    default:
      return `cannot serve the metrics at ${at}: ${err.message}`;
  }
}
