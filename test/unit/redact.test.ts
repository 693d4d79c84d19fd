// The redactor alone: known values, learned values, secret query names, deep redaction.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, Redactor, STEP_BEGIN_FIELDS, STEP_RESULT_FIELDS } from '../../src/runtime/redact.js';
import type { RunEvent, RunEventOf, StepResult } from '../../src/contract/events.js';

const none = { secrets: [], headers: [], query: [] };

test('known secrets are replaced wherever they appear, in their URL, form and JSON encodings too', () => {
  const r = new Redactor({ ...none, secrets: ['s3cr3t value"x'] });
  assert.equal(r.redactText('got s3cr3t value"x twice: s3cr3t value"x'), `got ${REDACTED} twice: ${REDACTED}`);
  assert.equal(r.redactText('/p/s3cr3t%20value%22x'), `/p/${REDACTED}`);
  assert.equal(r.redactText('a=s3cr3t+value%22x'), `a=${REDACTED}`);
  assert.equal(r.redactText('{"t":"s3cr3t value\\"x"}'), `{"t":"${REDACTED}"}`);
  assert.equal(r.redactText('nothing here'), 'nothing here');
});

test('a secret containing another is replaced whole; values shorter than 4 characters are not searched for', () => {
  const r = new Redactor({ ...none, secrets: ['abcd', 'xxabcdyy', 'abc'] });
  assert.equal(r.redactText('xxabcdyy abcd abc'), `${REDACTED} ${REDACTED} abc`);
});

test('the head of a secret cut short by an excerpt is redacted too', () => {
  const r = new Redactor({ ...none, secrets: ['tok-1234567890'] });
  assert.equal(r.redactText('body: expected "x", got "Bearer tok-12345…"'), `body: expected "x", got "Bearer ${REDACTED}…"`);
  assert.equal(r.redactText('tok-1 and tok-9… stay'), 'tok-1 and tok-9… stay');
});

test('secret-named query parameters are redacted by name, defaults and plan names alike', () => {
  const r = new Redactor({ ...none, query: ['sig'] });
  assert.equal(
    r.redactText('GET http://h/a?access_token=t1&page=2&API_KEY=k&Password=p&client_secret=c&x_sig=9#f failed'),
    `GET http://h/a?access_token=${REDACTED}&page=2&API_KEY=${REDACTED}&Password=${REDACTED}&client_secret=${REDACTED}&x_sig=${REDACTED}#f failed`,
  );
  // Percent-encoded names match too; empty values stay empty.
  assert.equal(r.redactText('/a?my%5Ftoken=abc&token='), `/a?my%5Ftoken=${REDACTED}&token=`);
  assert.equal(r.isSecretQuery('page'), false);
});

test('values sent in secret headers and query parameters are learned and redacted elsewhere', () => {
  const r = new Redactor({ ...none, headers: ['X-Session'] });
  r.learnHeaders({ authorization: 'Bearer tok-123456', 'x-session': 'sess-9876', cookie: 'theme=dark; sid=cookie-5555', accept: 'text/html' });
  r.learnUrl(new URL('http://h/a?apikey=k-24680&q=hello'));
  const text = 'echo: Bearer tok-123456 | tok-123456 | sess-9876 | cookie-5555 | k-24680 | text/html | hello | dark';
  // Every cookie value counts as secret, not only the session's.
  assert.equal(r.redactText(text), `echo: ${REDACTED} | ${REDACTED} | ${REDACTED} | ${REDACTED} | ${REDACTED} | text/html | hello | ${REDACTED}`);
});

test('response set-cookie values are learned, so a capture of one is redacted, but not their attributes', () => {
  const r = new Redactor(none);
  // Several set-cookie headers arrive joined with `, `; an Expires date has a comma of its own.
  r.learnHeaders({ 'set-cookie': 'sid=abcdef123; Max-Age=3600; Expires=Wed, 21 Oct 2026 07:28:00 GMT; Path=/, csrf=zyxw9876; HttpOnly' });
  assert.equal(r.redactText('captures.sid = "abcdef123", csrf zyxw9876'), `captures.sid = "${REDACTED}", csrf ${REDACTED}`);
  assert.equal(r.redactText('took 3600 ms on Wed, 21 Oct 2026 07:28:00 GMT'), 'took 3600 ms on Wed, 21 Oct 2026 07:28:00 GMT');
});

test('redact() copies only what changed and keeps everything else as is', () => {
  const r = new Redactor({ ...none, secrets: ['hunter22'] });
  const clean: RunEvent = { type: 'log', time: 1, level: 'info', message: 'all fine' };
  assert.equal(r.redact(clean), clean);
  const result = {
    worker: 0,
    role: 'w',
    round: 1,
    stepId: 's',
    name: 'login',
    kind: 'request' as const,
    start: 1,
    durationMs: 2,
    outcome: 'failed' as const,
    error: { message: 'body was "hunter22"', code: 'expectation' },
    http: { method: 'GET', url: 'http://h/?token=hunter22', bytes: 3 },
  };
  const event: RunEvent = { type: 'step:end', time: 1, result };
  const out = r.redact(event);
  assert.notEqual(out, event);
  assert.deepEqual(out, {
    ...event,
    result: { ...result, error: { message: `body was "${REDACTED}"`, code: 'expectation' }, http: { method: 'GET', url: `http://h/?token=${REDACTED}`, bytes: 3 } },
  });
  // The original event is untouched: only outputs are redacted.
  assert.equal(result.error.message, 'body was "hunter22"');
  assert.deepEqual(r.redact({ urls: ['a', 'hunter22'], n: 5, nested: { deep: [{ at: 'x hunter22' }] } }), {
    urls: ['a', REDACTED],
    n: 5,
    nested: { deep: [{ at: `x ${REDACTED}` }] },
  });
});

test('redactEvent() gives what redact() gives for step events, and redacts a plan text again once a secret it holds is learned', () => {
  const r = new Redactor({ ...none, secrets: ['hunter22'] });
  const begin: RunEvent = { type: 'step:begin', time: 1, worker: 0, role: 'admin', round: 1, stepId: 's1', name: 'GET /me?token=t0k', kind: 'request' };
  const result = {
    worker: 0,
    role: 'admin',
    round: 1,
    stepId: 's1',
    name: 'GET /me?token=t0k',
    kind: 'request' as const,
    start: 1,
    durationMs: 2,
    outcome: 'failed' as const,
    error: { message: 'body was "hunter22 sess-4242"', code: 'expectation' },
    http: { method: 'GET', url: 'http://h/me?token=t0k', bytes: 3 },
    ws: { url: 'ws://h/sess-4242', sent: 1, received: 0, skipped: 0, dropped: 0, bytes: 4 },
    attachments: [{ name: 'shot', path: 'a/sess-4242.png', contentType: 'image/png' }],
  };
  const end: RunEvent = { type: 'step:end', time: 2, result };
  // A step event with nothing to hide is passed on as is, as redact() does.
  const clean: RunEvent = { ...begin, name: 'home' };
  assert.equal(r.redactEvent(clean), clean);
  for (let i = 0; i < 2; i++) {
    // Twice: the second time the plan texts come from the memory.
    assert.deepEqual(r.redactEvent(begin), r.redact(begin));
    assert.deepEqual(r.redactEvent(end), r.redact(end));
    assert.equal((r.redactEvent(begin) as typeof begin).name, `GET /me?token=${REDACTED}`);
  }
  // Learned after the role and the URL were redacted (and remembered) without it: both change now.
  r.learnHeaders({ cookie: 'sid=sess-4242; who=admin' });
  r.learnHeaders({ authorization: 'Bearer admin-role' });
  r.learnUrl(new URL('http://h/?key=admin'));
  assert.deepEqual(r.redactEvent(begin), { ...begin, role: REDACTED, name: `GET /me?token=${REDACTED}` });
  const out = r.redactEvent(end) as typeof end;
  assert.deepEqual(out, r.redact(end));
  assert.equal(out.result.role, REDACTED);
  assert.equal(out.result.error?.message, `body was "${REDACTED} ${REDACTED}"`);
  assert.equal(out.result.ws?.url, `ws://h/${REDACTED}`);
  assert.equal(out.result.attachments?.[0]?.path, `a/${REDACTED}.png`);
  // Only outputs are redacted: the events themselves are untouched.
  assert.equal(begin.role, 'admin');
  assert.equal(result.ws.url, 'ws://h/sess-4242');
});

test('redactEvent() redacts every field of the step events classed as plan text or free text, and nothing else', () => {
  const r = new Redactor({ ...none, secrets: ['hunter22'] });
  const base = { worker: 0, role: 'w', round: 1, stepId: 's', name: 'n', kind: 'request', start: 1, durationMs: 2, outcome: 'ok' };
  for (const [field, source] of Object.entries(STEP_RESULT_FIELDS)) {
    if (source === 'none') continue;
    // A string in each field (objects are walked, strings redacted alike): the code reads every field by name.
    const result = { ...base, [field]: 'x hunter22' } as unknown as StepResult;
    const out = r.redactEvent({ type: 'step:end', time: 1, result }) as RunEventOf<'step:end'>;
    assert.equal((out.result as unknown as Record<string, unknown>)[field], `x ${REDACTED}`, `result.${field}`);
    assert.deepEqual(out.result, { ...result, [field]: `x ${REDACTED}` });
  }
  for (const [field, source] of Object.entries(STEP_BEGIN_FIELDS)) {
    if (source === 'none') continue;
    const event = { type: 'step:begin', time: 1, worker: 0, role: 'w', round: 1, stepId: 's', name: 'n', kind: 'request', [field]: 'x hunter22' } as unknown as RunEvent;
    assert.deepEqual(r.redactEvent(event), { ...event, [field]: `x ${REDACTED}` }, `step:begin ${field}`);
  }
});
