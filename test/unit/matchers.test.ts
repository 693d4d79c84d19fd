// Pure matchers: values, JSON paths, response expectations and captures.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { captureFromResponse, captureMissing, checkHttpExpect, describeStatus, jsonPath, matchValue, parseJsonPath } from '../../src/engines/matchers.js';
import type { HttpResponseData } from '../../src/contract/engine.js';

const response = (over: Partial<HttpResponseData> = {}): HttpResponseData => ({
  url: 'http://127.0.0.1:1/x',
  status: 200,
  headers: { 'content-type': 'application/json', 'x-count': '7' },
  body: JSON.stringify({ a: { b: [{ c: 1 }, { c: 2, 'd.e': 'dot' }] }, list: ['x', 'y'], nil: null }),
  bytes: 10,
  durationMs: 12,
  ...over,
});

describe('matchValue', { timeout: 5000 }, () => {
  test('equals is deep; text compares with numbers and booleans', () => {
    assert.equal(matchValue({ equals: { a: [1, { b: 2 }] } }, { a: [1, { b: 2 }] }), undefined);
    assert.equal(matchValue({ equals: { a: [1, { b: 2 }] } }, { a: [1, { b: 3 }] }), 'expected {"a":[1,{"b":2}]}, got {"a":[1,{"b":3}]}');
    assert.equal(matchValue({ equals: 5 }, '5'), undefined);
    assert.equal(matchValue({ equals: true }, 'true'), undefined);
    assert.equal(matchValue({ equals: [1, 2] }, [1, 2, 3]), 'expected [1,2], got [1,2,3]');
    assert.equal(matchValue({ equals: { a: 1 } }, { a: 1, b: 2 }), 'expected {"a":1}, got {"a":1,"b":2}');
  });

  test('contains / notContains on text and arrays', () => {
    assert.equal(matchValue({ contains: 'ell' }, 'hello'), undefined);
    assert.equal(matchValue({ contains: 'xyz' }, 'hello'), 'expected a value containing "xyz", got "hello"');
    assert.equal(matchValue({ contains: 'b' }, ['a', 'b']), undefined);
    assert.equal(matchValue({ contains: 'b' }, ['abc']), 'expected a value containing "b", got ["abc"]');
    assert.equal(matchValue({ notContains: 'err' }, 'all fine'), undefined);
    assert.equal(matchValue({ notContains: 'err' }, 'an error'), 'expected a value not containing "err", got "an error"');
  });

  test('matches, comparisons, oneOf', () => {
    assert.equal(matchValue({ matches: /^\d+$/ }, '123'), undefined);
    assert.equal(matchValue({ matches: /^\d+$/ }, 'abc'), 'expected a value matching /^\\d+$/, got "abc"');
    assert.equal(matchValue({ lt: 5, gte: 1 }, 3), undefined);
    assert.equal(matchValue({ lt: 5 }, '4'), undefined);
    assert.equal(matchValue({ lte: 5 }, 6), 'expected a number ≤ 5, got 6');
    assert.equal(matchValue({ gt: 1 }, 'many'), 'expected a number > 1, got "many"');
    assert.equal(matchValue({ gt: 1, lt: 3 }, 5), 'expected a number < 3, got 5');
    assert.equal(matchValue({ oneOf: [200, 204] }, 204), undefined);
    assert.equal(matchValue({ oneOf: ['a', 'b'] }, 'c'), 'expected one of ["a","b"], got "c"');
  });

  test('exists, and missing values for every other condition', () => {
    assert.equal(matchValue({ exists: true }, null), undefined);
    assert.equal(matchValue({ exists: true }, undefined), 'expected a value, got nothing');
    assert.equal(matchValue({ exists: false }, undefined), undefined);
    assert.equal(matchValue({ exists: false }, 0), 'expected nothing, got 0');
    assert.equal(matchValue({ equals: 1 }, undefined), 'expected 1, got nothing');
    assert.equal(matchValue({ contains: 'a', gt: 2 }, undefined), 'expected a value containing "a" and a number > 2, got nothing');
    assert.equal(matchValue({}, 'anything'), undefined);
  });

  test('several failing conditions are all reported', () => {
    assert.equal(matchValue({ contains: 'z', matches: /^q/ }, 'abc'), 'expected a value containing "z", got "abc"; expected a value matching /^q/, got "abc"');
  });
});

describe('jsonPath', { timeout: 5000 }, () => {
  const doc = JSON.parse(response().body);
  test('both syntaxes reach the same values', () => {
    assert.equal(jsonPath(doc, '$.a.b[1].c'), 2);
    assert.equal(jsonPath(doc, 'a.b.1.c'), 2);
    assert.equal(jsonPath(doc, "$.a.b[1]['d.e']"), 'dot');
    assert.equal(jsonPath(doc, 'list[-1]'), 'y');
    assert.deepEqual(jsonPath(doc, '$'), doc);
    assert.equal(jsonPath(doc, '$.nil'), null);
    assert.equal(jsonPath(doc, '$.list.length'), 2, "an array's length is its own property, handy to count items");
  });
  test('missing parts are undefined, never a throw', () => {
    assert.equal(jsonPath(doc, '$.a.x.y'), undefined);
    assert.equal(jsonPath(doc, '$.list[5]'), undefined);
    assert.equal(jsonPath(doc, '$.nil.x'), undefined);
    assert.equal(jsonPath(doc, '$.constructor'), undefined);
    assert.equal(jsonPath('text', '$.a'), undefined);
  });
  test('malformed paths say what is wrong', () => {
    assert.deepEqual(parseJsonPath('$.a["b"][0]'), ['a', 'b', 0]);
    assert.throws(() => parseJsonPath('$.a[0'), /JSON path "\$\.a\[0": "\[" at 4 is never closed/);
    assert.throws(() => parseJsonPath('$.a[x]'), /\[x\] is neither an index nor a quoted key/);
  });
});

describe('checkHttpExpect', { timeout: 5000 }, () => {
  const none = { headers: [], json: [] };
  test('default status: 2xx or 3xx', () => {
    assert.deepEqual(checkHttpExpect(none, response({ status: 302 })), []);
    assert.deepEqual(checkHttpExpect(none, response({ status: 404, body: 'not   here' })), ['expected status 2xx or 3xx, got 404 (body: "not here")']);
  });
  test('status predicates are described from what they accept', () => {
    assert.equal(
      describeStatus((s) => s === 201),
      '201',
    );
    assert.equal(
      describeStatus((s) => s === 200 || s === 204),
      '200 or 204',
    );
    assert.equal(
      describeStatus((s) => s >= 400 && s < 500),
      '4xx',
    );
    assert.equal(
      describeStatus((s) => (s >= 200 && s < 300) || s === 304),
      '2xx or 304',
    );
    assert.deepEqual(checkHttpExpect({ ...none, status: (s) => s === 201, statusText: 'Created (201)' }, response()), [
      'expected status Created (201), got 200 (body: "{\\"a\\":{\\"b\\":[{\\"c\\":1},{\\"c\\":2,\\"d.e\\":\\"dot\\"}]},\\"list\\":[\\"x\\",\\"y\\"],\\"nil\\":null}")',
    ]);
  });
  test('headers, json paths, body and duration', () => {
    const failures = checkHttpExpect(
      {
        headers: [
          { name: 'x-count', matcher: { lt: 5 } },
          { name: 'x-missing', matcher: { exists: true } },
        ],
        json: [
          { path: '$.a.b[0].c', matcher: { equals: 1 } },
          { path: '$.list', matcher: { contains: 'z' } },
        ],
        body: { contains: 'nope' },
        maxDurationMs: 10,
      },
      response(),
    );
    assert.deepEqual(failures, [
      'header x-count: expected a number < 5, got "7"',
      'header x-missing: expected a value, got nothing',
      'body: expected a value containing "nope", got "{\\"a\\":{\\"b\\":[{\\"c\\":1},{\\"c\\":2,\\"d.e\\":\\"dot\\"}]},\\"list\\":[\\"x\\",\\"y\\"],\\"nil\\":null}"',
      'json $.list: expected a value containing "z", got ["x","y"]',
      'expected a response within 10ms, took 12ms',
    ]);
  });
  test('a malformed JSON path is a failure, not a throw', () => {
    assert.deepEqual(checkHttpExpect({ ...none, json: [{ path: '$.a[', matcher: { exists: true } }] }, response()), ['json $.a[: JSON path "$.a[": "[" at 4 is never closed']);
  });
  test('json checks on a body that is not JSON', () => {
    assert.deepEqual(checkHttpExpect({ ...none, json: [{ path: '$.a', matcher: { exists: true } }] }, response({ body: '<html>' })), [
      'json: the response body is not JSON (body: "<html>")',
    ]);
  });
});

describe('captureFromResponse', { timeout: 5000 }, () => {
  test('each response source', () => {
    const r = response();
    assert.equal(captureFromResponse({ name: 'c', from: 'json', path: 'a.b.1.c' }, r), 2);
    assert.equal(captureFromResponse({ name: 'h', from: 'header', header: 'x-count' }, r), '7');
    assert.equal(captureFromResponse({ name: 'g', from: 'regex', regex: /"c":(\d)/, group: 1 }, r), '1');
    assert.equal(captureFromResponse({ name: 'w', from: 'regex', regex: /"list"/, group: 0 }, r), '"list"');
    assert.equal(captureFromResponse({ name: 's', from: 'status' }, r), 200);
    assert.equal(captureFromResponse({ name: 'b', from: 'body' }, r), r.body);
  });
  test('missing values are undefined and explained', () => {
    const r = response();
    const json = { name: 'id', from: 'json', path: '$.id' } as const;
    assert.equal(captureFromResponse(json, r), undefined);
    assert.match(captureMissing(json, r), /^capture "id": nothing at \$\.id in the JSON body of http:\/\/127\.0\.0\.1:1\/x \(body: /);
    const html = response({ body: '<p>hi</p>' });
    assert.equal(captureFromResponse(json, html), undefined);
    assert.equal(captureMissing(json, html), 'capture "id": the response body of http://127.0.0.1:1/x is not JSON (body: "<p>hi</p>")');
    assert.equal(captureMissing({ name: 't', from: 'header', header: 'x-token' }, r), 'capture "t": http://127.0.0.1:1/x sent no "x-token" header');
    assert.equal(
      captureMissing({ name: 'r', from: 'regex', regex: /zzz(\d)/, group: 1 }, html),
      'capture "r": /zzz(\\d)/ does not match the body of http://127.0.0.1:1/x (body: "<p>hi</p>")',
    );
  });
  test('a cut body answers no body capture, even one its kept part could (the standalone capture step reads these too)', () => {
    // `"c":1` is in the kept part, but a prefix proves nothing about the whole body.
    const cut = response({ bytes: 3 * 1048576, cutAt: 1048576 });
    const note = "the body was cut at 1 MiB (of 3 MiB received); raise http.maxBodySize or the request's maxBodySize";
    for (const c of [
      { name: 'g', from: 'regex', regex: /"c":(\d)/, group: 1 },
      { name: 'j', from: 'json', path: 'a.b.0.c' },
      { name: 'b', from: 'body' },
    ] as const) {
      assert.equal(captureFromResponse(c, cut), undefined);
      assert.equal(captureMissing(c, cut), `capture "${c.name}": ${note}`);
    }
    assert.equal(captureFromResponse({ name: 'h', from: 'header', header: 'x-count' }, cut), '7');
    assert.equal(captureFromResponse({ name: 's', from: 'status' }, cut), 200);
    assert.deepEqual(checkHttpExpect({ headers: [{ name: 'x-count', matcher: { equals: 7 } }], json: [], body: { contains: '"c":1' } }, cut), [
      `body: expected a value containing "\\"c\\":1", but ${note}`,
    ]);
  });
  test('page sources are refused: they belong to the browser engine', () => {
    assert.throws(() => captureFromResponse({ name: 'p', from: 'title' }, response()), /capture "p" reads the page \(title\), not an HTTP response/);
  });
});
