// The page's only script: the canvas coordination timeline and the crawl
// search box. Plain ES5-ish JavaScript kept as a string (no bundler, no
// network); it must not contain backticks or dollar-brace sequences.
export const CLIENT_JS = String.raw`(function () {
  'use strict';
  var $ = function (sel, root) { return (root || document).querySelector(sel); };

  // --- crawl: filter broken links by URL, referrer or message -------------
  var search = $('#crawl-search');
  if (search) {
    var items = Array.prototype.slice.call(document.querySelectorAll('#broken-list > li'));
    var count = $('#crawl-count');
    search.addEventListener('input', function () {
      var q = search.value.trim().toLowerCase();
      var shown = 0;
      items.forEach(function (li) {
        var hit = !q || li.getAttribute('data-search').indexOf(q) >= 0;
        li.hidden = !hit;
        if (hit) shown++;
      });
      count.textContent = shown + ' of ' + items.length;
    });
  }

  // --- coordination timeline ----------------------------------------------
  var dataEl = document.getElementById('timeline-data');
  var wrap = document.getElementById('timeline');
  if (!dataEl || !wrap) return;
  var D = JSON.parse(dataEl.textContent);
  var ROW = 18, AXIS = 26, LABEL = 130, S = 6;
  var COLORS = { ok: '#2e9d5b', failed: '#d64541', skipped: '#a3a8ae', wait: '#3b6fd4' };

  // Decode delta-encoded starts once into typed arrays (absolute tenths of ms).
  var lanes = D.lanes.map(function (l, i) {
    var src = D.bars[i], a = new Int32Array(src.length), t = 0;
    for (var k = 0; k < src.length; k += S) {
      t += src[k];
      a[k] = t; a[k + 1] = src[k + 1]; a[k + 2] = src[k + 2]; a[k + 3] = src[k + 3]; a[k + 4] = src[k + 4]; a[k + 5] = src[k + 5];
    }
    return { worker: l[0], role: l[1], bars: a };
  });
  D.bars = null;

  // One row per role header, then one per worker lane.
  var rows = [], lastRole = -1, roleCount = {};
  lanes.forEach(function (l, i) {
    roleCount[l.role] = (roleCount[l.role] || 0) + 1;
    if (l.role !== lastRole) { rows.push({ role: l.role }); lastRole = l.role; }
    rows.push({ lane: i });
  });
  var laneRow = {};
  rows.forEach(function (r, i) { if (r.lane !== undefined) laneRow[r.lane] = i; });

  var canvas = $('canvas', wrap), scroller = $('.tl-scroll', wrap), spacer = $('.tl-spacer', wrap), tip = $('.tl-tip', wrap);
  var ctx = canvas.getContext('2d');
  var zoom = 1, hover = null, viewW = 0, viewH = 0, pending = false;
  var dpr = window.devicePixelRatio || 1;
  var fullH = AXIS + rows.length * ROW;
  wrap.style.height = Math.min(fullH + 18, Math.max(260, Math.round(window.innerHeight * 0.7))) + 'px';

  function plotW() { return Math.max(50, (viewW - LABEL) * zoom); }
  function xOf(t) { return LABEL + t * plotW() / D.end - scroller.scrollLeft; }
  function tOf(x) { return (x - LABEL + scroller.scrollLeft) * D.end / plotW(); }
  // Mirrors formatDuration (src/text/duration.ts): this script runs in the page and cannot import it.
  function fmt(tenths) {
    var ms = tenths / 10;
    if (ms >= 1000) return (ms / 1000).toFixed(ms >= 10000 ? 1 : 2) + ' s';
    return (ms >= 10 ? Math.round(ms) : ms.toFixed(1)) + ' ms';
  }
  function hatch(color) {
    var c = document.createElement('canvas');
    c.width = c.height = 6;
    var g = c.getContext('2d');
    g.fillStyle = color + '30'; g.fillRect(0, 0, 6, 6);
    g.strokeStyle = color; g.lineWidth = 1.4;
    g.beginPath(); g.moveTo(-1, 7); g.lineTo(7, -1); g.moveTo(-1, 1); g.lineTo(1, -1); g.moveTo(5, 7); g.lineTo(7, 5); g.stroke();
    return ctx.createPattern(c, 'repeat');
  }
  var HATCH = [hatch(COLORS.wait), hatch(COLORS.failed), hatch(COLORS.skipped)];
  var FILL = [COLORS.ok, COLORS.failed, COLORS.skipped];
  function isWait(step) { return step[3] >= 0 && (step[1] === 'wait' || step[1] === 'barrier'); }
  // A step that took part in releasing the hovered barrier: its signals, or for a meeting every arrival.
  function releases(step, rel) { return step[3] === rel.index && (step[1] === 'signal' || (rel.barrier.kind === 'meeting' && step[1] === 'barrier')); }

  // When a wait bar is hovered: the barrier, its release time and the round whose signals (or, for a meeting, arrivals) released it.
  function releaseInfo() {
    if (!hover) return null;
    var a = lanes[hover.lane].bars, k = hover.k, step = D.steps[a[k + 2]];
    if (!isWait(step)) return null;
    var b = D.barriers[step[3]];
    var sigRoles = {};
    b.signal.forEach(function (r) { sigRoles[D.roles.indexOf(r)] = true; });
    if (b.kind === 'meeting') sigRoles[lanes[hover.lane].role] = true;
    return { barrier: b, index: step[3], at: a[k] + a[k + 1], round: b.scope === 'previous-round' ? a[k + 3] - 1 : a[k + 3], roles: sigRoles };
  }

  var api = window.planrunTimeline = {
    lanes: lanes.map(function (l) { return { worker: l.worker, role: D.roles[l.role] }; }),
    barriers: D.barriers.map(function (b) { return b.name; }),
    lastPaint: null,
    /** Scrolls a bar into view and returns its centre in page (client) coordinates. */
    locate: function (worker, stepName, round) {
      for (var i = 0; i < lanes.length; i++) {
        if (lanes[i].worker !== worker) continue;
        var a = lanes[i].bars;
        for (var k = 0; k < a.length; k += S) {
          if (D.steps[a[k + 2]][0] !== stepName || a[k + 3] !== round) continue;
          scroller.scrollTop = Math.max(0, laneRow[i] * ROW - viewH / 2);
          var w = Math.max(1, a[k + 1] * plotW() / D.end);
          if (xOf(a[k]) < LABEL || xOf(a[k]) + w > viewW) scroller.scrollLeft = Math.max(0, LABEL + a[k] * plotW() / D.end - LABEL - 40);
          draw();
          wrap.scrollIntoView({ block: 'center' });
          var r = scroller.getBoundingClientRect();
          return { x: r.left + xOf(a[k]) + Math.min(w / 2, Math.max(1, (viewW - xOf(a[k])) / 2)), y: r.top + AXIS + laneRow[i] * ROW - scroller.scrollTop + ROW / 2 };
        }
      }
      return null;
    },
  };

  function draw() {
    pending = false;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, viewW, viewH);
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    var top = scroller.scrollTop;
    var first = Math.max(0, Math.floor(top / ROW));
    var last = Math.min(rows.length, Math.ceil((top + viewH - AXIS) / ROW) + 1);
    var tMin = tOf(LABEL), tMax = tOf(viewW), scale = plotW() / D.end;
    var rel = releaseInfo();
    var paint = { lanes: [], roles: [], barriers: {}, bars: 0, outlined: [] };
    for (var r = first; r < last; r++) {
      var y = AXIS + r * ROW - top, row = rows[r];
      if (row.role !== undefined) {
        ctx.fillStyle = '#e8ecf2'; ctx.fillRect(0, y, viewW, ROW);
        ctx.fillStyle = '#1d2733'; ctx.font = 'bold 11px system-ui, sans-serif';
        ctx.fillText(D.roles[row.role] + ' (' + roleCount[row.role] + (roleCount[row.role] === 1 ? ' worker)' : ' workers)'), 6, y + ROW / 2);
        ctx.font = '11px system-ui, sans-serif';
        paint.roles.push(D.roles[row.role]);
        continue;
      }
      var lane = lanes[row.lane], a = lane.bars;
      paint.lanes.push(lane.worker);
      if (r % 2) { ctx.fillStyle = '#f7f8fa'; ctx.fillRect(LABEL, y, viewW - LABEL, ROW); }
      ctx.save();
      ctx.beginPath(); ctx.rect(LABEL, AXIS, viewW - LABEL, viewH - AXIS); ctx.clip();
      for (var k = 0; k < a.length; k += S) {
        var s = a[k], d = a[k + 1];
        if (s > tMax) break;
        if (s + d < tMin) continue;
        var step = D.steps[a[k + 2]], out = a[k + 4];
        var x = LABEL + s * scale - scroller.scrollLeft, w = Math.max(1, d * scale);
        paint.bars++;
        if (isWait(step)) {
          var name = D.barriers[step[3]].name;
          ctx.fillStyle = HATCH[out]; ctx.fillRect(x, y + 2, w, ROW - 4);
          ctx.strokeStyle = out === 1 ? COLORS.failed : COLORS.wait; ctx.lineWidth = 1;
          ctx.strokeRect(x + 0.5, y + 2.5, Math.max(0, w - 1), ROW - 5);
          paint.barriers[name] = true;
          var tw = ctx.measureText(name).width;
          if (w > tw + 8) { ctx.fillStyle = '#102a5c'; ctx.fillText(name, x + 4, y + ROW / 2); }
        } else {
          ctx.fillStyle = FILL[out]; ctx.fillRect(x, y + 3, w, ROW - 6);
          if (w > 40) {
            var label = step[0];
            if (ctx.measureText(label).width < w - 6) { ctx.fillStyle = '#fff'; ctx.fillText(label, x + 3, y + ROW / 2); }
          }
        }
        if (rel && releases(step, rel) && rel.roles[lane.role] && a[k + 3] === rel.round) {
          ctx.strokeStyle = '#111'; ctx.lineWidth = 2; ctx.strokeRect(x - 1, y + 1, w + 2, ROW - 2);
          paint.outlined.push([lane.worker, step[0], a[k + 3]]);
        }
        if (hover && hover.lane === row.lane && hover.k === k) {
          ctx.strokeStyle = '#000'; ctx.lineWidth = 2; ctx.strokeRect(x - 1, y + 1, w + 2, ROW - 2);
        }
      }
      ctx.restore();
      ctx.fillStyle = '#fff'; ctx.fillRect(0, y, LABEL, ROW);
      ctx.fillStyle = '#333'; ctx.fillText('worker ' + lane.worker, 14, y + ROW / 2);
    }
    if (rel) {
      var rx = xOf(rel.at);
      ctx.save(); ctx.setLineDash([4, 3]); ctx.strokeStyle = '#111'; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(rx + 0.5, AXIS); ctx.lineTo(rx + 0.5, viewH); ctx.stroke(); ctx.restore();
    }
    // Time axis, drawn last so it stays on top.
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, viewW, AXIS);
    ctx.strokeStyle = '#c9ced6'; ctx.beginPath(); ctx.moveTo(0, AXIS - 0.5); ctx.lineTo(viewW, AXIS - 0.5); ctx.stroke();
    var span = Math.max(1, tMax - tMin), raw = span / Math.max(2, (viewW - LABEL) / 110), p = Math.pow(10, Math.floor(Math.log10(raw)));
    var stepT = [1, 2, 5, 10].map(function (m) { return m * p; }).filter(function (v) { return v >= raw; })[0] || 10 * p;
    ctx.fillStyle = '#555';
    for (var t = Math.ceil(Math.max(0, tMin) / stepT) * stepT; t <= tMax; t += stepT) {
      var tx = xOf(t);
      ctx.fillRect(tx, AXIS - 6, 1, 6);
      ctx.fillText(fmt(t), tx + 3, AXIS / 2);
    }
    ctx.fillStyle = '#fff'; ctx.fillRect(0, 0, LABEL, AXIS);
    ctx.fillStyle = '#555'; ctx.fillText('time since start', 6, AXIS / 2);
    paint.barriers = Object.keys(paint.barriers);
    api.lastPaint = paint;
  }
  function schedule() { if (!pending) { pending = true; requestAnimationFrame(draw); } }

  function resize() {
    viewW = scroller.clientWidth; viewH = scroller.clientHeight;
    canvas.width = Math.round(viewW * dpr); canvas.height = Math.round(viewH * dpr);
    canvas.style.width = viewW + 'px'; canvas.style.height = viewH + 'px';
    spacer.style.width = (LABEL + plotW()) + 'px';
    spacer.style.height = fullH + 'px';
    draw();
  }

  function describe(laneIdx, k) {
    var lane = lanes[laneIdx], a = lane.bars, step = D.steps[a[k + 2]], out = a[k + 4];
    var lines = ['worker ' + lane.worker + ' · ' + D.roles[lane.role] + ' · round ' + a[k + 3], step[0] + ' (' + step[1] + ')',
      'at +' + fmt(a[k]) + ', took ' + fmt(a[k + 1]) + ' · ' + ['ok', 'failed', 'skipped'][out]];
    if (isWait(step)) {
      var b = D.barriers[step[3]];
      var who = b.kind === 'meeting' ? 'all parties (' + b.signal.concat(b.wait).join(', ') + ')' : (b.signal.join(', ') || 'signalers');
      lines.push('waited ' + fmt(a[k + 1]) + ' at barrier "' + b.name + '" (' + b.kind + ', scope ' + b.scope + ') for ' + who +
        '; released at +' + fmt(a[k] + a[k + 1]));
    }
    if (a[k + 5] >= 0) lines.push('error: ' + D.errors[a[k + 5]]);
    return lines.join('\n');
  }

  scroller.addEventListener('scroll', schedule, { passive: true });
  scroller.addEventListener('mousemove', function (e) {
    var rect = scroller.getBoundingClientRect(), x = e.clientX - rect.left, y = e.clientY - rect.top, found = null;
    if (x > LABEL && y > AXIS) {
      var row = rows[Math.floor((y - AXIS + scroller.scrollTop) / ROW)];
      if (row && row.lane !== undefined) {
        var a = lanes[row.lane].bars, t = tOf(x), tol = 3 * D.end / plotW(), best = Infinity;
        for (var k = 0; k < a.length; k += S) {
          if (a[k] - tol > t) break;
          var dist = t < a[k] ? a[k] - t : t > a[k] + a[k + 1] ? t - a[k] - a[k + 1] : 0;
          if (dist <= tol && dist <= best) { best = dist; found = { lane: row.lane, k: k }; }
        }
      }
    }
    if ((found && hover && found.lane === hover.lane && found.k === hover.k) || (!found && !hover)) {
      if (found) placeTip(x, y, rect);
      return;
    }
    hover = found;
    if (found) { tip.textContent = describe(found.lane, found.k); tip.hidden = false; placeTip(x, y, rect); } else tip.hidden = true;
    schedule();
  });
  scroller.addEventListener('mouseleave', function () { hover = null; tip.hidden = true; schedule(); });
  function placeTip(x, y, rect) {
    tip.style.left = Math.min(x + 14, rect.width - tip.offsetWidth - 4) + 'px';
    tip.style.top = (y + 16 + tip.offsetHeight > rect.height ? y - tip.offsetHeight - 8 : y + 16) + 'px';
  }
  function setZoom(z) {
    var centre = tOf(LABEL + (viewW - LABEL) / 2);
    zoom = Math.min(4096, Math.max(1, z));
    spacer.style.width = (LABEL + plotW()) + 'px';
    scroller.scrollLeft = Math.max(0, centre * plotW() / D.end - (viewW - LABEL) / 2);
    $('#tl-zoom').textContent = zoom + '×';
    draw();
  }
  $('#tl-in').addEventListener('click', function () { setZoom(zoom * 2); });
  $('#tl-out').addEventListener('click', function () { setZoom(zoom / 2); });
  $('#tl-fit').addEventListener('click', function () { setZoom(1); });
  window.addEventListener('resize', resize);
  resize();
})();`;
