// The transport base both engines' dispatch handlers build on, driven by a
// real undici Agent against real servers: the callback-order rules (1xx
// skipped, settle once, abort before start or mid-body, the in-flight slot
// freed as it settles).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent } from 'undici';
import { TransportHandler, type Controller } from '../src/engines/transport/handler.js';
import { InFlight } from '../src/engines/transport/in-flight.js';
import { startServer } from './http-helpers.js';

/** Writes down what the base hands on, and settles `done` at the end or the failure. */
class Recorder extends TransportHandler {
  readonly log: string[] = [];
  readonly done: Promise<void>;
  private settle!: () => void;
  /** Aborts with this reason at the first chunk, when set. */
  abortAtFirstChunk: Error | undefined;
  constructor(inFlight: InFlight<TransportHandler>) {
    super(inFlight);
    this.done = new Promise((resolve) => (this.settle = resolve));
  }
  protected onHead(statusCode: number, headers: IncomingHttpHeaders): void {
    this.log.push(`head ${statusCode} ${headers['x-final'] ?? ''}`);
  }
  protected onChunk(_c: Controller, chunk: Buffer): void {
    this.log.push(`chunk ${chunk.toString()}`);
    if (this.abortAtFirstChunk) this.abort(this.abortAtFirstChunk);
  }
  protected onEnd(): void {
    this.log.push('end');
    this.settle();
  }
  protected onFailure(error: unknown): void {
    this.log.push(`failure ${(error as Error).message}`);
    this.settle();
  }
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('TransportHandler: a 103 before the answer is skipped; the answer settles once and leaves its slot', async () => {
  const server = await startServer((_req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    res.writeHead(200, { 'x-final': 'yes' });
    res.end('body');
  });
  const agent = new Agent();
  try {
    const inFlight = new InFlight<TransportHandler>();
    const h = new Recorder(inFlight);
    assert.equal(inFlight.items().length, 1);
    agent.dispatch({ origin: server.origin, path: '/', method: 'GET' }, h);
    await h.done;
    assert.deepEqual(inFlight.items(), [], 'the slot is freed at the end');
    h.abort(new Error('too late'));
    h.onResponseError(undefined, new Error('late error'));
    assert.deepEqual(h.log, ['head 200 yes', 'chunk body', 'end']);
  } finally {
    await agent.close();
    await server.close();
  }
});

test('TransportHandler: aborted before undici starts it, the request is aborted at its start and fails once', async () => {
  let requests = 0;
  const server = await startServer((_req, res) => {
    requests++;
    res.end('never read');
  });
  const agent = new Agent();
  try {
    const inFlight = new InFlight<TransportHandler>();
    const h = new Recorder(inFlight);
    h.abort(new Error('stopped early'));
    assert.deepEqual(inFlight.items(), []);
    agent.dispatch({ origin: server.origin, path: '/', method: 'GET' }, h);
    await h.done;
    await wait(50);
    assert.deepEqual(h.log, ['failure stopped early'], 'undici reporting the abort back does not fail it twice');
    assert.equal(requests, 0, 'nothing reached the server');
  } finally {
    await agent.close();
    await server.close();
  }
});

test('TransportHandler: aborted mid-body, no chunk follows, it fails once with the reason and leaves its slot', async () => {
  const server = await startServer((_req, res) => {
    res.writeHead(200);
    res.write('one');
    setTimeout(() => res.end('two'), 50);
  });
  const agent = new Agent();
  try {
    const inFlight = new InFlight<TransportHandler>();
    const h = new Recorder(inFlight);
    h.abortAtFirstChunk = new Error('enough');
    agent.dispatch({ origin: server.origin, path: '/', method: 'GET' }, h);
    await h.done;
    await wait(100);
    assert.deepEqual(h.log, ['head 200 ', 'chunk one', 'failure enough']);
    assert.deepEqual(inFlight.items(), []);
  } finally {
    await agent.close();
    await server.close();
  }
});

test('TransportHandler: a connection cut mid-body fails once (no end); a later abort or chunk changes nothing', async () => {
  const server = await startServer((_req, res) => {
    res.writeHead(200, { 'content-length': '100' });
    res.write('half');
    setTimeout(() => res.socket?.destroy(), 20);
  });
  const agent = new Agent();
  try {
    const inFlight = new InFlight<TransportHandler>();
    const h = new Recorder(inFlight);
    agent.dispatch({ origin: server.origin, path: '/', method: 'GET' }, h);
    await h.done;
    h.abort(new Error('after the failure'));
    h.onResponseData(undefined as never, Buffer.from('late'));
    assert.deepEqual(h.log, ['head 200 ', 'chunk half', 'failure other side closed'], 'no chunk is handed on after the failure');
    assert.deepEqual(inFlight.items(), []);
  } finally {
    await agent.close();
    await server.close();
  }
});
