// `planrun run` of a plan whose crawl starts from a robots.txt and a URL file
// (relative to the plan): the run fails on the broken sitemap entry, and
// report.json (checked against its schema) and summary.md name the sitemap as
// the entry's referrer; report.html says what the crawl started from.
import { CLI_NODE_ARGS } from '../helpers/cli-entry.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readReport } from '../helpers/report-helpers.js';
import { page, sitemapIndex, startDocSite, urlset } from '../fixtures/sitemap/sitemap-site.js';

function cli(args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_NODE_ARGS, ...args], { env: { ...process.env, CI: 'true', NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, output }));
  });
}

test('planrun run: a crawl seeded from robots.txt Sitemap: lines and a URL file reports the broken entry with its sitemap', { timeout: 90_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'planrun-seeds-cli-'));
  const site = await startDocSite((o) => ({
    '/robots.txt': { body: `Sitemap: ${o}/sitemap_index.xml\n`, type: 'text/plain' },
    '/sitemap_index.xml': { body: sitemapIndex([`${o}/pages.xml.gz`]), type: 'application/xml' },
    '/pages.xml.gz': { body: gzipSync(urlset([`${o}/a`, `${o}/gone`])), type: 'application/gzip' },
    '/a': page('A'),
    '/listed': page('Listed'),
  }));
  try {
    await writeFile(join(dir, 'urls.txt'), '# extra pages\n/listed\n');
    const planFile = join(dir, 'seeds.yml');
    await writeFile(planFile, `name: seeded crawl\ntarget: ${site.origin}\ncrawl:\n  start: [{ robots: /robots.txt }, { urls: urls.txt }]\n  robots: ignore\n`);
    const out = join(dir, 'report');
    const run = await cli(['run', planFile, '--out', out, '--reporter', 'plain,json,markdown,html']);
    assert.equal(run.status, 1, run.output);
    const report = await readReport(join(out, 'report.json'));
    const crawl = report.crawl!;
    assert.deepEqual(crawl.seeds, { sitemaps: 2, fromSitemaps: 2, fromFiles: 1 });
    assert.deepEqual(
      crawl.brokenUrls.map((b) => [b.url, b.broken?.kind, b.referrers]),
      [[`${site.origin}/gone`, '4xx', [{ page: `${site.origin}/pages.xml.gz`, element: 'url>loc' }]]],
    );
    assert.deepEqual(
      crawl.urls
        .filter((u) => u.mode === 'crawled')
        .map((u) => u.url)
        .sort(),
      [`${site.origin}/a`, `${site.origin}/gone`, `${site.origin}/listed`],
    );
    const md = await readFile(join(out, 'summary.md'), 'utf8');
    assert.ok(md.includes(`${site.origin}/pages.xml.gz`), md);
    // The HTML report says where the crawl started: no start URL, sitemaps and a URL file.
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.match(html, /<div class="muted">from 2 sitemaps \(2 URLs\), 1 URL from files · stopped: complete/);
  } finally {
    await site.close();
    await rm(dir, { recursive: true, force: true });
  }
});
