// A small site for browser-engine tests and benches, plus a helper that runs a plan
// text through the real runtime and collects its events.
import { createServer, type Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePlan } from '../../src/plan/load.js';
import type { RunEvent, StepResult } from '../../src/contract/events.js';
import { runPlan, type RunResult } from '../../src/runtime/run.js';

const page = (title: string, body: string) => `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

export const PAGES: Record<string, string> = {
  '/': page(
    'Home',
    `<h1>Welcome</h1>
     <input id="name" placeholder="name"> <button id="go">Greet</button> <p id="out"></p>
     <select id="color"><option value="r">Red</option><option value="g">Green</option><option value="b">Blue</option></select>
     <p id="picked"></p>
     <input id="keys-in"> <p id="keys"></p>
     <ul><li class="item">one</li><li class="item">two</li><li class="item">three</li></ul>
     <p id="secret" style="display:none">hidden text</p>
     <a id="next" href="/next?from=home" data-kind="nav">next page</a>
     <button id="later">Show later</button>
     <script>
       go.onclick = () => { out.textContent = 'Hello ' + document.getElementById('name').value; };
       color.onchange = () => { picked.textContent = 'picked ' + color.value; };
       document.getElementById('keys-in').addEventListener('keydown', (e) => { keys.textContent += '[' + e.key + ']'; });
       later.onclick = () => setTimeout(() => {
         const p = document.createElement('p'); p.id = 'appeared'; p.textContent = 'appeared late'; document.body.append(p);
         secret.style.display = 'block';
       }, 400);
     </script>`,
  ),
  '/next': page('Next page', `<h1>Next</h1><p id="where"></p><script>where.textContent = location.search;</script>`),
  // Like Etherpad: an outer iframe holding an inner one whose body is the editor.
  '/frames': page('Frames', `<iframe name="ace_outer" src="/outer" width="600" height="300"></iframe>`),
  '/outer': page('outer', `<iframe src="/inner" width="560" height="260"></iframe>`),
  '/inner': `<!doctype html><html><body id="innerdocbody" contenteditable="true" style="min-height:200px"><div>first line</div></body></html>`,
  '/spa': page('SPA', `<button id="nav">go</button><script>nav.onclick = () => setTimeout(() => history.pushState({}, '', '/spa/done'), 300);</script>`),
};

export interface Site {
  origin: string;
  hits: string[];
  close(): Promise<void>;
}

export async function startSite(pages: Record<string, string> = PAGES): Promise<Site> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    hits.push(path);
    const body = pages[path];
    if (body === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface PlanRun {
  result: RunResult;
  events: RunEvent[];
  steps: StepResult[];
  reportDir: string;
}

export async function runPlanText(
  text: string,
  o: { reportDir?: string; signal?: AbortSignal; onEvent?: (e: RunEvent) => void; env?: Record<string, string | undefined> } = {},
): Promise<PlanRun> {
  const plan = parsePlan(text, join(process.cwd(), 'test', 'browser-plan.yml'), { env: o.env ?? process.env });
  const reportDir = o.reportDir ?? (await mkdtemp(join(tmpdir(), 'planrun-browser-')));
  const events: RunEvent[] = [];
  const result = await runPlan(plan, {
    reportDir,
    emit: (e) => {
      events.push(e);
      o.onEvent?.(e);
    },
    ...(o.signal ? { signal: o.signal } : {}),
  });
  const steps = events.flatMap((e) => (e.type === 'step:end' ? [e.result] : []));
  return { result, events, steps, reportDir };
}
