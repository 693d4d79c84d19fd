// Issue 11 end to end: a run through the real CLI that sends a secret var in a
// URL query and a header, echoes it back in a body its expectation quotes,
// captures a session token and a set-cookie and fails on both. Every reporter
// (live through a pseudo-terminal, plain, json, junit, html, markdown) must show
// [redacted] where the secrets were, and the secrets nowhere.
import { CLI_NODE_ARGS } from '../helpers/cli-entry.js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { RunReport } from '../../src/contract/report.js';

// Secrets the plan never names: the server hands them out, planrun learns them when it sends them on.
const SESSION = 'sess-Jd93kQpw7Lr';
const COOKIE = 'ck-Hh27fPq01Zx';

const dir = mkdtempSync(join(tmpdir(), 'planrun-redact-'));
let server: http.Server;
let origin: string;
/** What the server received: the request itself is never redacted. */
const received: string[] = [];

before(async () => {
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    received.push(`${req.url} ${req.headers.authorization ?? ''} ${req.headers['x-api-key'] ?? ''}`);
    if (url.pathname === '/login') {
      res.writeHead(200, { 'content-type': 'application/json', 'set-cookie': `sid=${COOKIE}; Path=/; HttpOnly` });
      res.end(JSON.stringify({ session: SESSION }));
      return;
    }
    // Echoes the credentials, like a debugging endpoint or an error page would.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`you sent authorization=${req.headers.authorization} x-api-key=${req.headers['x-api-key']}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

const plan = () => `
name: secrets stay secret
target: ${origin}
onError: continue
vars:
  token: { env: PLANRUN_E2E_TOKEN, secret: true }
scenario:
  - name: login
    request:
      url: /login?token={{ vars.token }}
      capture:
        session: { json: session }
        cookie: { header: set-cookie }
  - name: echo
    request:
      url: /echo?api_key={{ vars.token }}
      headers: { authorization: "Bearer {{ captures.session }}", x-api-key: "{{ vars.token }}" }
      expect: { body: all good }
  - name: cookie
    expect: { value: "{{ captures.cookie }}", is: sid=expected }
  - name: session
    expect: { value: "{{ captures.session }}", is: nope }
`;

interface Ran {
  code: number | null;
  output: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  const child = spawn(command, args, { env });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

/** Every file the run wrote, as text. */
function readTree(root: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const name of readdirSync(root, { recursive: true }) as string[]) {
    const path = join(root, name);
    if (statSync(path).isFile()) files.set(name, readFileSync(path, 'utf8'));
  }
  return files;
}

function assertNoSecret(secrets: string[], where: string, text: string): void {
  for (const s of secrets) assert.ok(!text.includes(s), `${where} shows the secret ${s}:\n${text.slice(Math.max(0, text.indexOf(s) - 200), text.indexOf(s) + 200)}`);
}

const cases = [
  // live needs a terminal: `script` gives the CLI a pseudo-terminal; the token comes from the environment.
  { reporter: 'live', token: 'tok-Zq8rV2xLm4Tn', viaVar: false },
  // plain as in CI; the token comes from --var, which must be just as secret.
  { reporter: 'plain', token: 'tok-Wk5bN1yCe8Ps', viaVar: true },
];

for (const c of cases) {
  test(`${c.reporter}: secrets sent in a query, a header, echoed in a body and captured appear in no output`, async () => {
    const out = join(dir, c.reporter);
    const file = join(dir, `${c.reporter}.yml`);
    writeFileSync(file, plan());
    const args = [...CLI_NODE_ARGS, 'run', file, '--out', out, '--reporter', `${c.reporter},json,junit,html,markdown`, ...(c.viaVar ? ['--var', `token=${c.token}`] : [])];
    const { CI: _ci, NO_COLOR: _nc, PLANRUN_E2E_TOKEN: _t, ...base } = process.env;
    const env = { ...base, ...(c.viaVar ? { CI: 'true', NO_COLOR: '1' } : { PLANRUN_E2E_TOKEN: c.token, TERM: 'xterm-256color' }) };
    const cli = [process.execPath, ...args];
    const ran = c.reporter === 'live' ? await run('script', ['-qec', cli.map(shellQuote).join(' '), '/dev/null'], env) : await run(cli[0]!, cli.slice(1), env);
    // Only outputs are redacted: the server got the real values.
    assert.deepEqual(received.splice(0), [`/login?token=${c.token}  `, `/echo?api_key=${c.token} Bearer ${SESSION} ${c.token}`]);
    // The live view drew on the terminal (cursor moves), it did not fall back to plain lines.
    if (c.reporter === 'live') assert.match(ran.output, /\u001b\[\d*[AK]/);

    assert.equal(ran.code, 1, ran.output);
    const secrets = [c.token, SESSION, COOKIE];
    assertNoSecret(secrets, 'the terminal output', ran.output);
    const files = readTree(out);
    assert.deepEqual([...files.keys()].filter((f) => !f.endsWith('.log')).sort(), ['junit.xml', 'metrics.ndjson', 'report.html', 'report.json', 'summary.md']);
    for (const [name, text] of files) assertNoSecret(secrets, name, text);

    // The failures are all there, with [redacted] where the secrets were.
    const report = JSON.parse(files.get('report.json')!) as RunReport;
    assert.deepEqual(
      report.timeline.map((r) => [r.name, r.outcome, r.http?.url ?? null]),
      [
        ['login', 'ok', `${origin}/login?token=[redacted]`],
        ['echo', 'failed', `${origin}/echo?api_key=[redacted]`],
        ['cookie', 'failed', null],
        ['session', 'failed', null],
      ],
    );
    assert.deepEqual(
      report.timeline.filter((r) => r.error).map((r) => r.error!.message),
      [
        `GET ${origin}/echo?api_key=[redacted] body: expected a value containing "all good", got "you sent authorization=[redacted] x-api-key=[redacted]"`,
        // The whole set-cookie value was learned when it arrived.
        'expected "sid=expected", got "[redacted]"',
        'expected "nope", got "[redacted]"',
      ],
    );
    // Markdown escapes the brackets.
    const marks: Record<string, string> = { 'junit.xml': '[redacted]', 'report.html': '[redacted]', 'summary.md': '\\[redacted\\]' };
    for (const [name, mark] of Object.entries(marks)) assert.ok(files.get(name)!.includes(mark), `${name} shows the redacted failures`);
    assert.ok(ran.output.includes('[redacted]'), `the ${c.reporter} output shows the redacted failures:\n${ran.output}`);
  });
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
