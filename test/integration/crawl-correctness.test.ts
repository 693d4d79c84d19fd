// Crawl correctness at the edges: relative links under a <base href> (HTTP and
// browser mode), schemes hidden by characters the URL parser strips, and
// bodies cut short, against real servers (a raw `net` one for the cut bodies).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { startServer } from '../helpers/http-helpers.js';
import { brokenOf, crawlSite } from '../helpers/crawl-helpers.js';

const html = (body: string) => `<!doctype html><html><head><title>t</title>${body}</html>`;

/** A site of fixed pages (HTML unless the path has an extension); anything else is a 404. */
async function pages(site: Record<string, string>) {
  const log: string[] = [];
  const server = await startServer((req, res) => {
    log.push(`${req.method} ${req.url}`);
    const body = site[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'text/html' });
    res.end(body ?? 'not found');
  });
  return { origin: server.origin, log, close: () => server.close() };
}

const BASE_SITE = {
  '/docs/s5/page.html': html('<base href="/docs/s5/"></head><body><a href="35">35</a> <a href="../s6/36">36</a> <a href="missing">gone</a>'),
  '/docs/s5/35': html('<body>35'),
  '/docs/s6/36': html('<body>36'),
};

for (const browser of [false, true]) {
  test(`${browser ? 'browser' : 'HTTP'} mode: links resolve against <base href> as written, even when normalisation strips trailing slashes`, { timeout: 60_000 }, async () => {
    const site = await pages(BASE_SITE);
    try {
      const report = await crawlSite({ start: [`${site.origin}/docs/s5/page.html`], robots: 'ignore', normalize: { trailingSlash: 'strip' }, browser });
      assert.equal(report.stoppedBy, 'complete');
      const crawled = report.urls.filter((u) => u.mode === 'crawled').map((u) => [u.url.slice(site.origin.length), u.status]);
      assert.deepEqual(crawled.sort(), [
        ['/docs/s5/35', 200],
        ['/docs/s5/missing', 404],
        ['/docs/s5/page.html', 200],
        ['/docs/s6/36', 200],
      ]);
      assert.deepEqual(brokenOf(report), [
        { url: `${site.origin}/docs/s5/missing`, kind: '4xx', referrers: [{ page: `${site.origin}/docs/s5/page.html`, element: 'a[href]', text: 'gone' }] },
      ]);
    } finally {
      await site.close();
    }
  });
}

test('links are skipped by the scheme the URL parser reads: tabs and newlines inside it do not make a broken link', async () => {
  const site = await pages({
    '/': html('<body><a href="java&#9;script:alert(1)">a</a> <a href="java&#10;script:void(0)">b</a> <a href=" mail&#13;to:x@example.com">c</a> <a href="ok">ok</a>'),
    '/ok': html('<body>ok'),
  });
  try {
    const report = await crawlSite({ start: [`${site.origin}/`], robots: 'ignore' });
    assert.equal(report.broken, 0);
    assert.equal(report.skipped.byScheme, 3);
    assert.equal(report.requests, 2);
    assert.deepEqual(site.log.sort(), ['GET /', 'GET /ok']);
  } finally {
    await site.close();
  }
});

/**
 * A raw HTTP/1.1 server, one response per connection, so a body can be cut:
 * `/len.*` promise 1000 bytes and send 500 then close; `/reset.*` send
 * chunked data then reset the connection; `/ok.*` are whole.
 */
async function cuttingServer(home: string) {
  const server = net.createServer((socket) => {
    socket.once('data', (data) => {
      const path = /^[A-Z]+ (\S+)/.exec(data.toString('latin1'))?.[1] ?? '/';
      const type = path === '/' || path.endsWith('.html') ? 'text/html' : 'application/octet-stream';
      if (path === '/') {
        socket.end(`HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ncontent-length: ${Buffer.byteLength(home)}\r\nconnection: close\r\n\r\n${home}`);
      } else if (path.startsWith('/len')) {
        socket.end(`HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ncontent-length: 1000\r\nconnection: close\r\n\r\n${'x'.repeat(500)}`);
      } else if (path.startsWith('/reset')) {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ntransfer-encoding: chunked\r\n\r\n1f4\r\n${'x'.repeat(500)}\r\n`);
        setTimeout(() => socket.resetAndDestroy(), 20);
      } else if (path.startsWith('/ok')) {
        socket.end(`HTTP/1.1 200 OK\r\ncontent-type: ${type}\r\ncontent-length: 500\r\nconnection: close\r\n\r\n${'x'.repeat(500)}`);
      } else socket.end('HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

test('a body cut short is broken (network), HTML or not; whole bodies are fine', async () => {
  const links = ['/len.html', '/len.bin', '/reset.html', '/reset.bin', '/ok.html', '/ok.bin'];
  const server = await cuttingServer(html(`<body>${links.map((l) => `<a href="${l}">${l}</a>`).join(' ')}`));
  try {
    const report = await crawlSite({ start: [`${server.origin}/`], robots: 'ignore', retries: 0 });
    assert.equal(report.stoppedBy, 'complete');
    assert.deepEqual(
      brokenOf(report).map((b) => [b.url.slice(server.origin.length), b.kind]),
      [
        ['/len.bin', 'network'],
        ['/len.html', 'network'],
        ['/reset.bin', 'network'],
        ['/reset.html', 'network'],
      ],
    );
    const ok = report.urls.filter((u) => !u.broken).map((u) => [u.url.slice(server.origin.length), u.status]);
    assert.deepEqual(ok.sort(), [
      ['/', 200],
      ['/ok.bin', 200],
      ['/ok.html', 200],
    ]);
  } finally {
    await server.close();
  }
});
