// The report page's stylesheet (inlined; the page loads nothing).
export const CSS = `
:root { --ok:#2e9d5b; --bad:#d64541; --skip:#a3a8ae; --wait:#3b6fd4; --fg:#1d2733; --muted:#6b7380; --line:#dde1e7; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: #f4f6f9; }
header { padding: 18px 28px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { margin: 0 0 4px; font-size: 20px; }
main { padding: 8px 28px 40px; max-width: 1500px; }
section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 14px 18px; margin: 16px 0; }
h2 { font-size: 16px; margin: 0 0 10px; }
.muted { color: var(--muted); }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 12px; color: #fff; font-weight: 600; }
.verdict.passed { background: var(--ok); } .verdict.failed { background: var(--bad); } .verdict.aborted { background: #c7a414; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 10px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 110px; background: #fafbfc; }
.card b { display: block; font-size: 18px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: #f7f8fa; font-weight: 600; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.bad td { background: #fdf1f0; }
.pass { color: var(--ok); font-weight: 600; } .fail { color: var(--bad); font-weight: 600; }
code, .url { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px; word-break: break-all; }
.chart { width: 100%; max-width: 900px; height: auto; font-size: 11px; fill: var(--muted); }
.chart .grid { stroke: #eceff3; } .chart .axis { stroke: #999; }
.ts-tools { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-bottom: 4px; }
.ts-tools input[type=range] { vertical-align: middle; width: 220px; }
.ts-tools button { font: inherit; padding: 1px 9px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
.ts-chart h3 { font-size: 14px; margin: 12px 0 2px; }
.ts-plot { cursor: crosshair; user-select: none; }
.ts-plot .ts-sel { fill: rgba(59,111,212,.15); stroke: var(--wait); }
.key i.dash { background: repeating-linear-gradient(90deg, #111 0 5px, transparent 5px 8px) !important; height: 2px; vertical-align: 3px; }
.hist { font-size: 12px; fill: var(--fg); }
.legend { font-size: 12px; margin-top: 4px; }
.key { margin-right: 14px; white-space: nowrap; } .key i { display: inline-block; width: 12px; height: 10px; margin-right: 4px; vertical-align: -1px; }
.key i.hatch { background: repeating-linear-gradient(135deg, var(--wait) 0 2px, #dfe7f8 2px 5px); border: 1px solid var(--wait); }
#timeline { position: relative; border: 1px solid var(--line); border-radius: 4px; overflow: hidden; background: #fff; }
#timeline canvas { position: absolute; left: 0; top: 0; }
#timeline .tl-scroll { position: absolute; inset: 0; overflow: auto; }
#timeline .tl-spacer { pointer-events: none; }
.tl-tip { position: absolute; z-index: 2; pointer-events: none; background: #1d2733; color: #fff; font-size: 12px; padding: 6px 9px; border-radius: 4px; white-space: pre-line; max-width: 460px; box-shadow: 0 2px 8px rgba(0,0,0,.25); }
.tl-tools { display: flex; gap: 6px; align-items: center; margin: 0 0 8px; flex-wrap: wrap; }
.tl-tools button { font: inherit; padding: 1px 9px; border: 1px solid var(--line); background: #fff; border-radius: 4px; cursor: pointer; }
.errors .group { border-top: 1px solid var(--line); padding: 8px 0; }
.errors .msg { font-family: ui-monospace, monospace; font-size: 12.5px; white-space: pre-wrap; word-break: break-word; }
.shot { display: block; max-width: 480px; max-height: 320px; border: 1px solid var(--line); margin: 6px 0; image-rendering: auto; }
#broken-list { list-style: none; padding: 0; margin: 8px 0; }
#broken-list li { border-top: 1px solid var(--line); padding: 6px 0; }
#broken-list ul { margin: 4px 0 0 18px; padding: 0; font-size: 12.5px; }
#crawl-search { font: inherit; padding: 4px 8px; width: min(420px, 100%); border: 1px solid #c9ced6; border-radius: 4px; }
.badge { display: inline-block; padding: 0 6px; border-radius: 3px; font-size: 11.5px; color: #fff; background: #6b7a8f; margin-right: 6px; }
.badge.s4 { background: #e07b24; } .badge.s5, .badge.net { background: var(--bad); } .badge.s3 { background: var(--wait); }
.cols { display: flex; gap: 28px; flex-wrap: wrap; }
`;
