// The single-file HTML report: summary and verdict, thresholds, the run over
// time (zoomable charts of its series), steps with percentiles, barriers,
// errors with inline screenshots, the coordination timeline and the crawl.
// Everything is inline (CSS, JS, SVG, images as data: URIs) and a CSP forbids
// any fetch, so it opens offline.
import { readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { writeFileAtomic } from '../../../io/atomic-file.js';
import type { Attachment } from '../../../contract/events.js';
import type { CrawlUrlResult, RunReport } from '../../../contract/report.js';
import type { Reporter } from '../../../contract/reporter.js';
import { latencyChart, statusHistogram } from './charts.js';
import { CLIENT_JS } from './client.js';
import { SERIES_JS } from './series-client.js';
import { buildSeriesCharts } from './series-data.js';
import { esc } from './escape.js';
import { CSS } from './style.js';
import { buildTimelineData, scriptJson } from './timeline-data.js';
import { formatSize } from '../../../text/bytes.js';
import { formatDuration } from '../../../text/duration.js';
import { plural } from '../../../text/plural.js';
import { formatThresholdAbort } from '../../metrics/evaluate-thresholds.js';

export interface HtmlOptions {
  /** Where attachment paths (screenshots) are read from; defaults to the report's reportDir. */
  reportDir?: string;
  /** Total bytes of images embedded inline; past it, screenshots are linked by relative path. Default 8 MiB. */
  maxEmbeddedBytes?: number;
}

const MAX_REDIRECT_ROWS = 500;
const MAX_BROKEN_ROWS = 5000;

/** Reads screenshots once each and embeds them until the byte budget is spent. */
class Images {
  private used = 0;
  private readonly cache = new Map<string, string | null>();
  constructor(
    private readonly dir: string,
    private readonly budget: number,
  ) {}

  html(a: Attachment): string {
    if (!a.contentType.startsWith('image/')) return `<div><code>${esc(a.path)}</code></div>`;
    let uri = this.cache.get(a.path);
    if (uri === undefined) {
      uri = null;
      try {
        const file = isAbsolute(a.path) ? a.path : resolve(this.dir, a.path);
        const size = statSync(file).size;
        if (this.used + size <= this.budget) {
          uri = `data:${a.contentType};base64,${readFileSync(file).toString('base64')}`;
          this.used += size;
        }
      } catch {
        uri = null;
      }
      this.cache.set(a.path, uri);
    }
    const alt = esc(`${a.name}: ${a.path}`);
    return uri
      ? `<img class="shot" alt="${alt}" title="${alt}" src="${uri}">`
      : `<div class="muted">${esc(a.name)}: <code>${esc(a.path)}</code> (not embedded: missing or over the size budget)</div>`;
  }
}

export function renderHtml(report: RunReport, o: HtmlOptions = {}): string {
  const r = report;
  const images = new Images(o.reportDir ?? r.run.reportDir, o.maxEmbeddedBytes ?? 8 << 20);
  const body = [header(r), thresholds(r), overTime(r), steps(r), timeline(r), barriers(r), errors(r, images), services(r), r.crawl ? crawl(r.crawl) : '', '</main>'].join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">
<title>${esc(`${r.outcome === 'passed' ? '✓' : '✗'} ${r.run.planName} — planrun report`)}</title>
<style>${CSS}</style>
</head>
<body>
${body}
<script>${CLIENT_JS}</script>
<script>${SERIES_JS}</script>
</body>
</html>
`;
}

function header(r: RunReport): string {
  const totals = r.steps.reduce((a, s) => ({ count: a.count + s.count, failed: a.failed + s.failed }), { count: 0, failed: 0 });
  const failedWorkers = r.workers.filter((w) => w.outcome !== 'done').length;
  const card = (label: string, value: string) => `<div class="card"><span class="muted">${esc(label)}</span><b>${esc(value)}</b></div>`;
  return `<header>
<h1>${esc(r.run.planName)} <span class="verdict ${r.outcome}">${esc(r.outcome)}</span></h1>
<div class="muted"><code>${esc(r.run.planFile)}</code> · run <code>${esc(r.run.runId)}</code> · ${esc(r.startedAt)} → ${esc(r.endedAt)}${r.run.target ? ` · target <code>${esc(r.run.target)}</code>` : ''}</div>
${r.run.description ? `<p>${esc(r.run.description)}</p>` : ''}
${r.reason ? `<p id="reason"><b>${esc(r.reason)}</b></p>` : ''}
<div class="cards">${[
    card('duration', formatDuration(r.durationMs)),
    card('workers', `${r.run.workers}${failedWorkers ? ` (${failedWorkers} not done)` : ''}`),
    card('rounds', r.run.rounds !== undefined ? String(r.run.rounds) : '–'),
    card('step runs', String(totals.count)),
    card('failed', String(totals.failed)),
    card('thresholds', `${r.thresholds.filter((t) => t.passed).length}/${r.thresholds.length} pass`),
    card('exit code', String(r.exitCode)),
  ].join('')}</div>
</header>
<main>`;
}

function thresholds(r: RunReport): string {
  if (r.thresholds.length === 0) return '';
  const rows = r.thresholds
    .map(
      (t) =>
        `<tr class="${t.passed ? '' : 'bad'}"><td class="${t.passed ? 'pass' : 'fail'}">${t.passed ? 'pass' : 'FAIL'}</td><td>${esc(t.selector)}</td><td><code>${esc(t.condition)}</code>${t.aborted ? ` — ${esc(formatThresholdAbort(t)!)}` : ''}</td><td class="n">${t.actual === null ? 'nothing measured' : esc(Math.round(t.actual * 1000) / 1000)}</td></tr>`,
    )
    .join('');
  return `<section id="thresholds"><h2>Thresholds</h2><table><thead><tr><th></th><th>selector</th><th>condition</th><th class="n">measured</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function steps(r: RunReport): string {
  if (r.steps.length === 0) return '';
  const rows = r.steps
    .map((s) => {
      const l = s.latency;
      return `<tr class="${s.failed ? 'bad' : ''}"><td>${esc(s.role)}</td><td>${esc(s.name)} <span class="muted">${esc(s.stepId)}</span></td><td>${esc(s.kind)}</td><td class="n">${s.count}</td><td class="n">${s.ok}</td><td class="n">${s.failed}</td><td class="n">${s.skipped}</td>${[l?.min, l?.p50, l?.p90, l?.p95, l?.p99, l?.max].map((v) => `<td class="n">${formatDuration(v)}</td>`).join('')}<td class="n">${s.bytes ? formatSize(s.bytes) : ''}</td></tr>`;
    })
    .join('');
  // With a time series the step latency is one of the "Over time" charts; older reports get it from their timeline.
  const chart = r.series?.buckets.length ? '' : `<h2 style="margin-top:16px">Latency over time</h2>${latencyChart(r)}`;
  return `<section id="steps"><h2>Steps</h2><table><thead><tr><th>role</th><th>step</th><th>kind</th><th class="n">runs</th><th class="n">ok</th><th class="n">failed</th><th class="n">skipped</th><th class="n">min</th><th class="n">p50</th><th class="n">p90</th><th class="n">p95</th><th class="n">p99</th><th class="n">max</th><th class="n">bytes</th></tr></thead><tbody>${rows}</tbody></table>
${chart}</section>`;
}

/** The series' charts (drawn by the page's script from the data embedded here) and the time-range controls. */
function overTime(r: RunReport): string {
  const data = buildSeriesCharts(r);
  if (!data) return '';
  return `<section id="over-time"><h2>Over time</h2>
<div class="ts-tools"><label>from <input id="ts-from" type="range" min="0" max="${data.n - 1}" value="0" aria-label="first bucket shown"></label><label>to <input id="ts-to" type="range" min="0" max="${data.n - 1}" value="${data.n - 1}" aria-label="last bucket shown"></label><button id="ts-reset" type="button" disabled>reset zoom</button> <span id="ts-range" class="muted"></span></div>
<p class="muted">The whole run in buckets of ${esc(formatDuration(r.series!.bucketMs))}. Drag across a chart (or move the sliders) to zoom every chart to that time range. Zoomed out, a point merges several buckets: the mean of rates, the highest percentile and worker count.</p>
<noscript><p>The charts are drawn by the page's script.</p></noscript>
<div id="ts-charts"></div>
<script type="application/json" id="series-data">${scriptJson(data)}</script>
</section>`;
}

function timeline(r: RunReport): string {
  if (r.timeline.length === 0) return '';
  const data = buildTimelineData(r);
  const barrierList = data.barriers
    .map(
      (b) =>
        `<li><b>${esc(b.name)}</b> <span class="muted">${esc(b.kind)}${b.kind === 'event' ? `, scope ${esc(b.scope)}` : ''}</span>: ${b.kind === 'meeting' ? `all of ${esc([...b.signal, ...b.wait].join(', '))} meet` : `${esc(b.signal.join(', ') || '?')} signal → ${esc(b.wait.join(', ') || '?')} wait`}</li>`,
    )
    .join('');
  return `<section id="coordination"><h2>Coordination timeline</h2>
<p class="muted">A lane per worker, grouped by role; a bar per step per round. Hatched bars are barrier waits, labelled with the barrier: hover one to see how long the worker waited and for whom — the signal steps that released it are outlined and a dashed line marks the release. Scroll to move, zoom for detail.</p>
<ul id="barrier-list">${barrierList}</ul>
<div class="tl-tools"><button id="tl-out" type="button" title="zoom out">−</button><span id="tl-zoom">1×</span><button id="tl-in" type="button" title="zoom in">+</button><button id="tl-fit" type="button">fit</button>
<span class="legend"><span class="key"><i style="background:var(--ok)"></i>ok</span><span class="key"><i style="background:var(--bad)"></i>failed</span><span class="key"><i style="background:var(--skip)"></i>skipped</span><span class="key"><i class="hatch"></i>barrier wait</span></span>
${data.truncated ? `<span class="muted">A sample: ${data.truncated} of ${r.timeline.length + data.truncated} step runs were left out of this large run's timeline (the kept ones spread over the whole run; failures and barrier waits are kept up to the cap).</span>` : ''}</div>
<div id="timeline" data-lanes="${data.lanes.length}"><canvas></canvas><div class="tl-scroll"><div class="tl-spacer"></div></div><div class="tl-tip" hidden></div></div>
<script type="application/json" id="timeline-data">${scriptJson(data)}</script>
</section>`;
}

function barriers(r: RunReport): string {
  if (r.barriers.length === 0) return '';
  const rows = r.barriers
    .map(
      (b) =>
        `<tr class="${b.timeouts || b.broken ? 'bad' : ''}"><td>${esc(b.name)}</td><td class="n">${b.waits}</td><td class="n">${b.timeouts}</td><td class="n">${b.broken}</td>${[b.wait?.p50, b.wait?.p95, b.wait?.p99, b.wait?.max].map((v) => `<td class="n">${formatDuration(v)}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<section id="barriers"><h2>Barrier waits</h2><table><thead><tr><th>barrier</th><th class="n">waits</th><th class="n">timeouts</th><th class="n">broken</th><th class="n">p50</th><th class="n">p95</th><th class="n">p99</th><th class="n">max</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function errors(r: RunReport, images: Images): string {
  if (r.errors.length === 0) return '';
  // Screenshots may sit on the timeline entry rather than on the error example.
  const shotsFor = new Map<string, Attachment[]>();
  for (const t of r.timeline) if (t.attachments?.length) shotsFor.set(`${t.worker}:${t.round}:${t.stepId}`, t.attachments);
  const groups = r.errors
    .map((g) => {
      const examples = g.examples
        .map((e) => {
          const atts = e.attachments ?? shotsFor.get(`${e.worker}:${e.round}:${e.stepId}`) ?? [];
          return `<li>${esc(e.name)} <span class="muted">(${esc(e.role)}, worker ${e.worker}, round ${e.round}, ${esc(e.stepId)})</span>${atts.map((a) => images.html(a)).join('')}</li>`;
        })
        .join('');
      return `<div class="group"><b>${g.count}×</b>${g.code ? ` <span class="badge">${esc(g.code)}</span>` : ''} <span class="msg">${esc(g.message)}</span><ul>${examples}</ul></div>`;
    })
    .join('');
  return `<section id="errors" class="errors"><h2>Errors (${r.errors.reduce((n, g) => n + g.count, 0)})</h2>${groups}</section>`;
}

function services(r: RunReport): string {
  if (r.services.length === 0) return '';
  const rows = r.services
    .map(
      (s) =>
        `<tr class="${s.status === 'failed' ? 'bad' : ''}"><td>${esc(s.name)}</td><td>${esc(s.status)}</td><td>${esc(s.message ?? '')}</td><td>${s.logFile ? `<code>${esc(s.logFile)}</code>` : ''}</td></tr>`,
    )
    .join('');
  return `<section id="services"><h2>Services</h2><table><thead><tr><th>service</th><th>status</th><th>message</th><th>log</th></tr></thead><tbody>${rows}</tbody></table></section>`;
}

function statusBadge(u: CrawlUrlResult): string {
  const s = u.status;
  const cls = s === undefined ? 'net' : `s${String(s)[0]}`;
  return `<span class="badge ${cls}">${esc(s ?? u.broken?.kind ?? '?')}</span>`;
}

function crawl(c: NonNullable<RunReport['crawl']>): string {
  const kinds = Object.entries(c.brokenByKind)
    .map(([k, n]) => `${esc(k)}: ${n}`)
    .join(', ');
  const broken = c.brokenUrls.slice(0, MAX_BROKEN_ROWS).map((u) => {
    const n = u.referrerCount ?? u.referrers.length;
    const search = [u.url, u.broken?.message ?? '', ...u.referrers.map((f) => `${f.page} ${f.text ?? ''}`)].join(' ').toLowerCase();
    const refs = u.referrers
      .map((f) => `<li><span class="url">${esc(f.page)}</span> <span class="muted">${esc(f.element)}${f.text ? ` “${esc(f.text)}”` : ''}</span></li>`)
      .join('');
    return `<li data-search="${esc(search)}">${statusBadge(u)}<span class="url">${esc(u.url)}</span> — ${esc(u.broken?.message ?? '')}<div class="muted">linked from ${plural(n, 'place')}</div><ul>${refs}</ul></li>`;
  });
  const redirected = c.urls.filter((u) => u.redirects.length > 0);
  const chains = redirected
    .slice(0, MAX_REDIRECT_ROWS)
    .map(
      (u) =>
        `<tr class="${u.broken ? 'bad' : ''}"><td class="url">${u.redirects.map((h) => `${esc(h.url)} <span class="muted">(${h.status})</span>`).join(' → ')} → ${u.broken ? esc(u.broken.message) : `final ${esc(u.status ?? '?')}`}</td><td class="n">${u.redirects.length}</td></tr>`,
    )
    .join('');
  // Start URLs, then what sitemaps and URL files added (a crawl may start from sitemaps only).
  const seeds = c.seeds
    ? [`${plural(c.seeds.sitemaps, 'sitemap')} (${plural(c.seeds.fromSitemaps, 'URL')})`, ...(c.seeds.fromFiles ? [`${plural(c.seeds.fromFiles, 'URL')} from files`] : [])]
    : [];
  return `<section id="crawl"><h2>Crawl</h2>
<div class="muted">from ${[...c.startUrls.map((s) => `<code>${esc(s)}</code>`), ...seeds].join(', ')} · stopped: ${esc(c.stoppedBy)} · ${formatDuration(c.durationMs)}${c.requests !== undefined ? ` · ${c.requests} requests` : ''}</div>
<div class="cards"><div class="card"><span class="muted">crawled</span><b>${c.crawled}</b></div><div class="card"><span class="muted">checked</span><b>${c.checked}</b></div><div class="card"><span class="muted">broken</span><b>${c.broken}</b></div><div class="card"><span class="muted">skipped</span><b>${c.skipped.byRule + c.skipped.byRobots + c.skipped.byDepth + c.skipped.byScheme + c.skipped.outOfScope}</b></div></div>
<div class="cols"><div><h2 style="margin-top:14px">Status histogram</h2>${statusHistogram(c.statusHistogram)}</div>
<div><h2 style="margin-top:14px">Skipped</h2><table><tbody>${Object.entries(c.skipped)
    .map(([k, n]) => `<tr><td>${esc(k)}</td><td class="n">${n}</td></tr>`)
    .join('')}<tr><td>sampled away</td><td class="n">${c.sampledAway}</td></tr></tbody></table></div></div>
<h2 style="margin-top:14px">Broken links (${c.brokenUrls.length})${kinds ? ` <span class="muted">${kinds}</span>` : ''}</h2>
${c.brokenUrls.length ? `<input id="crawl-search" type="search" placeholder="Filter by URL, referrer or message" aria-label="Filter broken links"> <span id="crawl-count" class="muted">${broken.length} of ${broken.length}</span>` : '<p>No broken links.</p>'}
<ul id="broken-list">${broken.join('')}</ul>
${c.brokenUrls.length > MAX_BROKEN_ROWS ? `<p class="muted">First ${MAX_BROKEN_ROWS} of ${c.brokenUrls.length} shown; junit.xml and report.json list all.</p>` : ''}
${redirected.length ? `<h2>Redirect chains (${redirected.length}${c.urlsTruncated ? ', among the URLs kept' : ''})</h2><table><thead><tr><th>chain</th><th class="n">hops</th></tr></thead><tbody>${chains}</tbody></table>` : ''}
</section>`;
}

/** Writes report.html into the report folder when the run ends. */
export function htmlReporter(o: { reportDir: string }): Reporter {
  return {
    name: 'html',
    async onEnd(report) {
      await writeFileAtomic(join(o.reportDir, 'report.html'), renderHtml(report, { reportDir: o.reportDir }));
    },
  };
}
