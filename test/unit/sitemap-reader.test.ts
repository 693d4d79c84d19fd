// SitemapReader fed in chunks of every size down to one byte: the gzip magic
// number split across chunks, multi-byte UTF-8 split across chunks, entities,
// CDATA and namespace prefixes all give the same entries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { SitemapReader } from '../../src/engines/crawl/sitemap.js';

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<sm:urlset xmlns:sm="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <sm:url><sm:loc> http://shop.test/caf\u00e9?a=1&amp;b=2 </sm:loc><image:image><image:loc>http://cdn.test/i.png</image:loc></image:image></sm:url>
  <sm:url><sm:loc><![CDATA[http://shop.test/\u65e5\u672c]]></sm:loc><sm:lastmod>2026-01-01</sm:lastmod></sm:url>
</sm:urlset>
`;
const EXPECTED = ['http://shop.test/caf\u00e9?a=1&b=2', 'http://shop.test/\u65e5\u672c'];

async function read(body: Buffer, chunk: number): Promise<string[]> {
  const entries: string[] = [];
  const reader = new SitemapReader({ maxBytes: 1 << 20, maxEntries: 10 }, (loc) => entries.push(loc));
  for (let at = 0; at < body.length; at += chunk) reader.write(body.subarray(at, at + chunk));
  await reader.end();
  assert.equal(reader.kind, 'urlset');
  return entries;
}

for (const [name, body] of [
  ['plain', Buffer.from(XML)],
  ['gzipped', gzipSync(XML)],
] as const) {
  test(`${name}: the same entries whatever the chunk size`, async () => {
    for (const chunk of [1, 2, 3, 7, 64, body.length]) assert.deepEqual(await read(body, chunk), EXPECTED, `chunks of ${chunk} bytes`);
  });
}

test('a sitemap index hands out its sitemaps, not the pages of a nested <url>', async () => {
  const entries: string[] = [];
  const reader = new SitemapReader({ maxBytes: 1 << 20, maxEntries: 10 }, (loc) => entries.push(loc));
  reader.write(Buffer.from('<sitemapindex><sitemap><loc>http://a.test/1.xml</loc></sitemap><url><loc>http://a.test/page</loc></url></sitemapindex>'));
  await reader.end();
  assert.equal(reader.kind, 'sitemapindex');
  assert.deepEqual(entries, ['http://a.test/1.xml']);
});
