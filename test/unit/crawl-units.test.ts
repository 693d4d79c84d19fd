// The small pieces of the crawler: normalisation, patterns, srcset, the
// frontier's exact end, fingerprints, Retry-After.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeUrl, pageBase, type NormalizeRules } from '../../src/engines/crawl/normalize.js';
import { compilePathPattern, compilePathTemplate, isRegexPattern } from '../../src/plan/path-patterns.js';
import { LinkExtractor, parseSrcset } from '../../src/engines/crawl/extract.js';
import { DEFAULT_CHECK, DEFAULT_FOLLOW, parseSelector, similarityToBits } from '../../src/plan/crawl.js';
import { FingerprintIndex, TextFingerprinter } from '../../src/engines/crawl/fingerprint.js';
import { retryAfterMs } from '../../src/engines/crawl/fetcher.js';
import { MemoryFrontier } from '../../src/coordination/memory-frontier.js';

const rules = (r: Partial<NormalizeRules> = {}): NormalizeRules => ({ query: 'sort', stripParams: new Set(), trailingSlash: 'keep', ...r });
const norm = (href: string, base?: string, r?: Partial<NormalizeRules>) => normalizeUrl(href, base, rules(r))?.url;

test('normalisation: case, default port, dot segments, percent-encoding, fragment set aside', () => {
  assert.equal(norm('HTTP://Example.COM:80/a/./b/../c'), 'http://example.com/a/c');
  assert.equal(norm('https://example.com:443/'), 'https://example.com/');
  assert.equal(norm('http://h/%7Euser/%41%2f%e2%82%ac'), 'http://h/~user/A%2F%E2%82%AC');
  assert.equal(norm('../x?', 'http://h/a/b/c'), 'http://h/a/x');
  const n = normalizeUrl('/p#Section%201', 'http://h/', rules())!;
  assert.deepEqual([n.url, n.fragment], ['http://h/p', 'Section 1']);
});

test('normalisation: query keep / sort / strip and stripParams; trailing slash rule', () => {
  assert.equal(norm('http://h/p?b=2&a=1&a=0'), 'http://h/p?a=1&a=0&b=2');
  assert.equal(norm('http://h/p?b=2&a=1', undefined, { query: 'keep' }), 'http://h/p?b=2&a=1');
  assert.equal(norm('http://h/p?b=2&a=1', undefined, { query: 'strip' }), 'http://h/p');
  assert.equal(norm('http://h/p?utm_source=x&id=3&sessionid=9', undefined, { stripParams: new Set(['utm_source', 'sessionid']) }), 'http://h/p?id=3');
  assert.equal(norm('http://h/p?utm_source=x', undefined, { stripParams: new Set(['utm_source']) }), 'http://h/p');
  assert.equal(norm('http://h/p?q=a%20b&r=%7e'), 'http://h/p?q=a%20b&r=~');
  assert.equal(norm('http://h/docs', undefined, { trailingSlash: 'add' }), 'http://h/docs/');
  assert.equal(norm('http://h/file.html', undefined, { trailingSlash: 'add' }), 'http://h/file.html');
  assert.equal(norm('http://h/docs/', undefined, { trailingSlash: 'strip' }), 'http://h/docs');
  assert.equal(norm('http://h/', undefined, { trailingSlash: 'strip' }), 'http://h/');
  assert.equal(norm('http://[bad'), undefined);
});

test('page base: <base href> resolved as written, not normalised; the page URL when it is unusable, as in browsers', () => {
  const page = 'http://h/a/b.html';
  assert.equal(String(pageBase('/docs/s5/', page)), 'http://h/docs/s5/');
  assert.equal(String(pageBase('../%7Ex/?q=1', page)), 'http://h/%7Ex/?q=1');
  assert.equal(pageBase(undefined, page), page);
  assert.equal(pageBase('http://[bad', page), page);
  assert.equal(pageBase('data:text/html,x', page), page);
  assert.equal(pageBase('java\tscript:void(0)', page), page);
});

test('path patterns: globs with * and **, regexes between slashes, templates', () => {
  const g = compilePathPattern('/docs/**');
  assert.deepEqual(['/docs/a', '/docs/a/b', '/doc', '/docsx'].map(g), [true, true, false, false]);
  const s = compilePathPattern('/p/*.html');
  assert.deepEqual(['/p/a.html', '/p/a/b.html'].map(s), [true, false]);
  assert.deepEqual(['/docs/x', '/docs/a/b/x', '/docs/y'].map(compilePathPattern('/docs/**/x')), [true, true, false]);
  assert.equal(isRegexPattern('/^\\/p\\/\\d+$/'), true);
  assert.equal(isRegexPattern('/docs/'), false);
  const r = compilePathPattern('/^\\/p\\/\\d+$/i');
  assert.deepEqual(['/p/12', '/P/3', '/p/x'].map(r), [true, true, false]);
  assert.deepEqual(['/docs/'].map(compilePathPattern('/docs/')), [true]);
  const t = compilePathTemplate('/product/:id');
  assert.deepEqual(['/product/1', '/product/1/', '/product/1/photo.jpg', '/product/'].map(t), [true, true, false, false]);
});

test('selectors and srcset candidates', () => {
  assert.deepEqual(parseSelector('link[rel=stylesheet]'), { tag: 'link', attr: 'href', rel: 'stylesheet', label: 'link[rel=stylesheet]' });
  assert.deepEqual(parseSelector('IMG[SRCSET]'), { tag: 'img', attr: 'srcset', label: 'IMG[SRCSET]' });
  assert.equal(parseSelector('img'), undefined);
  assert.deepEqual(parseSrcset('a.png 1x, b.png 2x'), ['a.png', 'b.png']);
  assert.deepEqual(parseSrcset(' a.png, b.png 480w , c.png'), ['a.png', 'b.png', 'c.png']);
  // As in the HTML spec, a comma inside a URL belongs to it; only trailing commas end a candidate.
  assert.deepEqual(parseSrcset('a.png,b.png 1x'), ['a.png,b.png']);
  assert.deepEqual(parseSrcset('a.png, b.png,'), ['a.png', 'b.png']);
  assert.deepEqual(parseSrcset('img.php?a=1,2 100w, d.png (max-width: 3px) 2x'), ['img.php?a=1,2', 'd.png']);
});

test('link extractor: streamed in tiny chunks, base href, link text, check-only elements, ids', () => {
  const x = new LinkExtractor({
    follow: DEFAULT_FOLLOW.map((s) => parseSelector(s)!),
    check: DEFAULT_CHECK.map((s) => parseSelector(s)!),
    collectIds: true,
    collectText: true,
  });
  const html =
    '<html><head><title> My  page </title><base href="/root/"><link rel="preconnect" href="//cdn"><link rel="stylesheet" href="s.css"></head>' +
    '<body><h1 id="top-h">Hi &amp; bye</h1><a name="old"></a><a href="a.html">  The <b>A</b>\n page </a>' +
    '<img src="i.png" alt="An image"><picture><source srcset="p1.webp 1x, p2.webp 2x"></picture>' +
    '<area href="map.html" alt="Map"><iframe src="frame.html"></iframe><script src="app.js"></script><script>var a = "<a href=x>";</script></body></html>';
  const bytes = new TextEncoder().encode(html);
  for (let i = 0; i < bytes.length; i += 7) x.write(bytes.subarray(i, i + 7));
  const page = x.end();
  assert.equal(page.base, '/root/');
  assert.equal(page.title, 'My page');
  assert.deepEqual([...page.ids!], ['top-h', 'old']);
  assert.deepEqual(
    page.links.map((l) => [l.element, l.href, l.follow, l.text]),
    [
      ['link[href]', 's.css', false, undefined],
      ['a[href]', 'a.html', true, 'The A page'],
      ['img[src]', 'i.png', false, 'An image'],
      ['source[srcset]', 'p1.webp', false, undefined],
      ['source[srcset]', 'p2.webp', false, undefined],
      ['area[href]', 'map.html', true, 'Map'],
      ['iframe[src]', 'frame.html', true, undefined],
      ['script[src]', 'app.js', false, undefined],
    ],
  );
  assert.match(page.text!, /Hi & bye/);
  assert.doesNotMatch(page.text!, /var a/);
});

test('similarity maps to simhash bits; near-identical texts match, different ones do not', () => {
  assert.equal(similarityToBits(1), 0);
  assert.equal(similarityToBits(0.95), 6);
  const fp = (text: string, exact = false) => {
    const f = new TextFingerprinter(exact);
    // Cut anywhere, even inside words.
    for (let i = 0; i < text.length; i += 5) f.feed(text.slice(i, i + 5));
    return f.digest();
  };
  const base = Array.from({ length: 300 }, (_, i) => `word${i % 97} w${(i * 7) % 13}`).join(' ');
  const index = new FingerprintIndex(similarityToBits(0.95));
  assert.equal(index.seenBefore(fp(`Product 1 ${base}`)), false);
  assert.equal(index.seenBefore(fp(`Product 2 ${base}`)), true);
  assert.equal(index.seenBefore(fp('completely other words about a different subject entirely, nothing shared')), false);
  const exact = new FingerprintIndex(0);
  assert.equal(exact.seenBefore(fp('same text here', true)), false);
  assert.equal(exact.seenBefore(fp('Same   text, here!', true)), true);
  assert.equal(exact.seenBefore(fp('same text there', true)), false);
});

test('Retry-After: seconds or HTTP date', () => {
  assert.equal(retryAfterMs('2'), 2000);
  assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 7_000), 3000);
  assert.equal(retryAfterMs('soon'), undefined);
  assert.equal(retryAfterMs(undefined), undefined);
});

test('frontier: take() resolves undefined exactly when nothing is queued or in flight', async () => {
  const f = new MemoryFrontier();
  assert.deepEqual(
    await f.addAll([
      { url: 'a', depth: 0, checkOnly: false },
      { url: 'a', depth: 0, checkOnly: false },
    ]),
    [true, false],
  );
  const a = (await f.take())!;
  let ended = false;
  const parked = f.take().then((e) => {
    ended = e === undefined;
    return e;
  });
  await Promise.resolve();
  assert.equal(ended, false, 'a taker waits while a is in flight');
  // a's link arrives before a completes: the parked taker gets it.
  await f.addAll([{ url: 'b', depth: 1, checkOnly: false }]);
  await f.complete(a);
  const b = (await parked)!;
  assert.equal(b.url, 'b');
  const last = f.take();
  assert.deepEqual(f.stats(), { queued: 0, inFlight: 1, done: 1, seen: 2 });
  await f.complete(b);
  assert.equal(await last, undefined);
  assert.equal(await f.take(), undefined);
  assert.deepEqual(await f.markSeen(['b', 'c']), [false, true]);
});

test('frontier: stop() releases every parked taker', async () => {
  const f = new MemoryFrontier();
  await f.addAll([{ url: 'a', depth: 0, checkOnly: false }]);
  await f.take();
  const parked = [f.take(), f.take()];
  f.stop();
  assert.deepEqual(await Promise.all(parked), [undefined, undefined]);
  assert.deepEqual(await f.addAll([{ url: 'z', depth: 0, checkOnly: false }]), [false]);
});
