// The page's script for the "Over time" charts: draws each chart of the
// series data (series-data.ts) as inline SVG, and redraws them all for the time
// range the user picks (drag across any chart, or the two range inputs), with a
// reset. Buckets beyond the chart's room are merged into columns, so an hour of
// 1 s buckets draws as fast as a minute. Plain ES5-ish JavaScript kept as a
// string (no bundler, no network); it must not contain backticks or
// dollar-brace sequences.
export const SERIES_JS = `(function () {
  'use strict';
  var dataEl = document.getElementById('series-data');
  var root = document.getElementById('ts-charts');
  if (!dataEl || !root) return;
  var D = JSON.parse(dataEl.textContent);
  var W = 760, H = 190, L = 64, R = 12, T = 10, B = 24, PW = W - L - R, PH = H - T - B, MAXCOLS = 380;
  var N = D.n, from = 0, to = N - 1;
  var fromIn = document.getElementById('ts-from'), toIn = document.getElementById('ts-to');
  var label = document.getElementById('ts-range'), resetBtn = document.getElementById('ts-reset');
  var api = window.planrunCharts = { n: N, range: [0, N - 1], lastPaint: {}, zoom: zoom, reset: function () { zoom(0, N - 1); } };

  function esc(s) { return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'); }
  // Mirrors formatDuration (src/text/duration.ts): this script runs in the page and cannot import it.
  function fmtMs(ms) {
    if (ms >= 10000) return (ms / 1000).toFixed(1) + ' s';
    if (ms >= 1000) return (ms / 1000).toFixed(2) + ' s';
    if (ms >= 10) return Math.round(ms) + ' ms';
    return ms.toFixed(1) + ' ms';
  }
  /** Time since the run's start of bucket b (fractional): 42 s, 3m05s, or ms for short buckets. */
  function fmtT(b) {
    var ms = b * D.bucketMs, s = Math.round(ms / 1000);
    if (s >= 60) return '+' + Math.floor(s / 60) + 'm' + (s % 60 < 10 ? '0' : '') + (s % 60) + 's';
    return '+' + (ms % 1000 === 0 ? s + ' s' : fmtMs(ms));
  }
  function fmtY(v, unit) {
    if (unit === 'ms') return fmtMs(v);
    var t = v >= 100 ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
    return unit === 'rate' ? t + '/s' : t;
  }

  /** The y axis top: the smallest of 1, 2, 2.5, 5 × 10^k at or above the highest value, so its quarters read well. */
  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    return [1, 2, 2.5, 5, 10].map(function (m) { return m * p; }).filter(function (m) { return m >= v; })[0];
  }
  /** A line's values merged per column (per buckets each), from the first bucket in view. */
  function columns(line, per, cols) {
    var out = [];
    for (var c = 0; c < cols; c++) {
      var sum = 0, n = 0, mx = null, end = Math.min(to, from + (c + 1) * per - 1);
      for (var k = from + c * per; k <= end; k++) {
        var v = line.values[k];
        if (v === null) continue;
        sum += v; n++;
        if (mx === null || v > mx) mx = v;
      }
      out.push(n === 0 ? null : line.agg === 'max' ? mx : sum / n);
    }
    return out;
  }

  var views = D.charts.map(function (chart) {
    var box = document.createElement('div');
    box.className = 'ts-chart';
    box.id = 'chart-' + chart.id;
    var h = document.createElement('h3');
    h.textContent = chart.title;
    var plot = document.createElement('div');
    plot.className = 'ts-plot';
    var legend = document.createElement('div');
    legend.className = 'legend';
    chart.lines.forEach(function (l) {
      var key = document.createElement('span'), i = document.createElement('i');
      key.className = 'key';
      i.style.background = l.color;
      if (l.dash) i.className = 'dash';
      key.appendChild(i);
      key.appendChild(document.createTextNode(l.name));
      legend.appendChild(key);
    });
    box.appendChild(h); box.appendChild(plot); box.appendChild(legend);
    root.appendChild(box);
    var view = { chart: chart, plot: plot };
    plot.addEventListener('mousedown', function (e) { startDrag(view, e); });
    return view;
  });

  function draw(view) {
    var chart = view.chart, span = to - from + 1, per = Math.ceil(span / MAXCOLS), cols = Math.ceil(span / per);
    var data = chart.lines.map(function (l) { return columns(l, per, cols); });
    var maxY = 0;
    data.forEach(function (d) { d.forEach(function (v) { if (v !== null && v > maxY) maxY = v; }); });
    maxY = niceMax(maxY);
    var x = function (c) { return L + ((Math.min(span, c * per + per / 2)) / span) * PW; };
    var y = function (v) { return T + (1 - v / maxY) * PH; };
    var parts = [], xLabels = [], paint = { from: from, to: to, columns: cols, maxY: maxY, xLabels: xLabels, lines: {} };
    for (var g = 0; g <= 4; g++) {
      var gv = (maxY / 4) * g, gy = y(gv).toFixed(1);
      parts.push('<line x1="' + L + '" x2="' + (W - R) + '" y1="' + gy + '" y2="' + gy + '" class="grid"/><text x="' + (L - 6) + '" y="' + (+gy + 4) + '" text-anchor="end">' + esc(fmtY(gv, chart.unit)) + '</text>');
      var lx = L + (g / 4) * PW, lt = fmtT(from + (g / 4) * span);
      xLabels.push(lt);
      parts.push('<text x="' + lx.toFixed(1) + '" y="' + (H - 6) + '" text-anchor="' + (g === 0 ? 'start' : g === 4 ? 'end' : 'middle') + '">' + esc(lt) + '</text>');
    }
    chart.lines.forEach(function (l, i) {
      var d = data[i], path = '', pen = false, first = -1, last = -1, points = 0, top = null;
      for (var c = 0; c < d.length; c++) {
        var v = d[c];
        if (v === null) { pen = false; continue; }
        if (first < 0) first = c;
        last = c; points++;
        if (top === null || v > top) top = v;
        path += (pen ? 'L' : 'M') + x(c).toFixed(1) + ' ' + y(v).toFixed(1);
        // A value between two gaps is a dot: a path of one point does not show.
        if ((c === 0 || d[c - 1] === null) && (c === d.length - 1 || d[c + 1] === null))
          parts.push('<circle cx="' + x(c).toFixed(1) + '" cy="' + y(v).toFixed(1) + '" r="2.5" fill="' + l.color + '"/>');
        pen = true;
      }
      if (path) parts.push('<path d="' + path + '" fill="none" stroke="' + l.color + '" stroke-width="1.6"' + (l.dash ? ' stroke-dasharray="5 4"' : '') + '><title>' + esc(l.name) + '</title></path>');
      paint.lines[l.name] = { points: points, first: first, last: last, max: top };
    });
    parts.push('<line x1="' + L + '" x2="' + (W - R) + '" y1="' + (H - B) + '" y2="' + (H - B) + '" class="axis"/>');
    parts.push('<rect class="ts-sel" x="0" y="' + T + '" width="0" height="' + PH + '"/>');
    view.plot.innerHTML = '<svg class="chart" viewBox="0 0 ' + W + ' ' + H + '" role="img" aria-label="' + esc(chart.title) + '">' + parts.join('') + '</svg>';
    api.lastPaint[chart.id] = paint;
  }

  /** The bucket under a page x coordinate on a chart. */
  function bucketAt(view, clientX) {
    var r = view.plot.firstChild.getBoundingClientRect();
    var vx = ((clientX - r.left) / r.width) * W;
    var f = Math.max(0, Math.min(1, (vx - L) / PW));
    return Math.min(to, from + Math.floor(f * (to - from + 1)));
  }
  function startDrag(view, e) {
    if (e.button !== 0) return;
    e.preventDefault();
    var a = bucketAt(view, e.clientX), b = a;
    var sel = view.plot.querySelector('.ts-sel');
    function show() {
      var lo = Math.min(a, b), hi = Math.max(a, b), span = to - from + 1;
      sel.setAttribute('x', (L + ((lo - from) / span) * PW).toFixed(1));
      sel.setAttribute('width', (((hi - lo + 1) / span) * PW).toFixed(1));
    }
    function move(ev) { b = bucketAt(view, ev.clientX); show(); }
    function up(ev) {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
      b = bucketAt(view, ev.clientX);
      if (a !== b) zoom(Math.min(a, b), Math.max(a, b));
      else sel.setAttribute('width', '0');
    }
    show();
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  }

  function zoom(a, b) {
    a = Math.max(0, Math.min(N - 1, Math.round(a)));
    b = Math.max(0, Math.min(N - 1, Math.round(b)));
    from = Math.min(a, b); to = Math.max(a, b);
    api.range = [from, to];
    fromIn.value = String(from); toIn.value = String(to);
    label.textContent = fmtT(from) + ' – ' + fmtT(to + 1) + ' (' + (to - from + 1) + ' of ' + N + ' buckets of ' + fmtMs(D.bucketMs) + ')';
    resetBtn.disabled = from === 0 && to === N - 1;
    views.forEach(draw);
  }

  fromIn.max = toIn.max = String(N - 1);
  // A range input cannot pass the other one: the view keeps at least one bucket.
  fromIn.addEventListener('input', function () { zoom(Math.min(+fromIn.value, to), to); });
  toIn.addEventListener('input', function () { zoom(from, Math.max(+toIn.value, from)); });
  resetBtn.addEventListener('click', api.reset);
  zoom(0, N - 1);
})();`;
