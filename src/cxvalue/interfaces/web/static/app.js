/* cxvalue web UI behaviours: ECharts rendering of server chart specs, htmx glue and small
 * form helpers. Plain ES2017, no build step, no inline handlers (CSP script-src 'self').
 *
 * Markup contract (server-rendered):
 *   <div class="chart">
 *     <script type="application/json" class="chart-spec">{"chart": "...", "title": "...",
 *        "value_format": "...", "data": {...}, "links": [...] | null}</script>
 *     <div class="chart-canvas"></div>
 *     <div class="chart-fallback"><svg>…</svg></div>
 *   </div>
 * The SVG fallback stays visible unless the chart rendered; then div.chart gets data-ready="1".
 * Tooltips use CSS classes only (no inline style attributes), so they also work under a strict
 * style-src policy.
 */
(function () {
  'use strict';

  var PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];
  var BLUE = PALETTE[0];
  var RED = PALETTE[1];
  var GREY = '#9ca3af';
  var INK = '#111827';
  var FONT = '"Noto Sans CJK SC", "Noto Sans SC", "PingFang SC", "Microsoft YaHei", system-ui, sans-serif';

  /** div.chart -> {chart, canvas} for every live ECharts instance. */
  var live = new Map();

  // ------------------------------------------------------------------ helpers
  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function arr(v) { return Array.isArray(v) ? v : []; }
  function obj(v) { return v && typeof v === 'object' && !Array.isArray(v) ? v : {}; }
  function numOrNull(v) { return isNum(v) ? v : null; }
  function isZh() { return (document.documentElement.lang || '').toLowerCase().indexOf('zh') === 0; }
  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  var nfCache = {};
  function nf(v, min, max, group) {
    var key = min + ':' + max + ':' + (group !== false);
    if (!nfCache[key]) {
      nfCache[key] = new Intl.NumberFormat('en-US', {
        minimumFractionDigits: min, maximumFractionDigits: max, useGrouping: group !== false
      });
    }
    return nfCache[key].format(v);
  }

  /** A value as people read it; mirrors cxvalue.interfaces.views.fmt. */
  function fmt(v, f) {
    if (v === null || v === undefined || (typeof v === 'number' && !isFinite(v))) return '–';
    if (f === 'date') return String(v).slice(0, 10);
    if (f === 'text' || typeof v === 'string' || typeof v === 'boolean') return String(v);
    v = Number(v);
    switch (f) {
      case 'int': case 'money': return nf(v, 0, 0);
      case 'float1': return nf(v, 1, 1);
      case 'float2': return nf(v, 2, 2);
      case 'float3': return v.toFixed(3);
      case 'pct': return (v * 100).toFixed(0) + '%';
      case 'pct1': return (v * 100).toFixed(1) + '%';
      case 'points': return v.toFixed(1);
      case 'signed': return (v >= 0 ? '+' : '') + v.toFixed(1);
      case 'pp': return (v >= 0 ? '+' : '') + (v * 100).toFixed(1) + ' pp';
      case 'p': return v >= 1e-3 ? v.toFixed(3) : '< 0.001';
      default:
        if (Math.abs(v) >= 1000) return nf(v, 0, 0);
        return v === Math.round(v) ? v.toFixed(0) : String(Number(v.toPrecision(4)));
    }
  }

  /** Short numbers for axes and bin labels: 950, 1.2k, 3.4M, 1.1B. */
  function compact(v) {
    if (!isNum(v)) return '';
    var a = Math.abs(v);
    var trim = function (x) { return String(Number(x.toFixed(1))); };
    if (a >= 1e9) return trim(v / 1e9) + 'B';
    if (a >= 1e6) return trim(v / 1e6) + 'M';
    if (a >= 1e3) return trim(v / 1e3) + 'k';
    if (v === Math.round(v)) return String(v);
    return String(Number(v.toFixed(a < 1 ? 3 : 2)));
  }

  /** Axis tick labels in the chart's value format (compact where the full form is long). */
  function axisFmt(f) {
    return function (v) {
      if (!isNum(v)) return String(v);
      if (f === 'pct' || f === 'pct1') {
        var p = v * 100;
        return (Math.abs(p - Math.round(p)) < 1e-9 ? p.toFixed(0) : String(Number(p.toFixed(1)))) + '%';
      }
      if (f === 'signed') return (v > 0 ? '+' : '') + compact(v);
      if (f === 'pp') return (v > 0 ? '+' : '') + String(Number((v * 100).toFixed(1))) + ' pp';
      if (f === 'p' || f === 'float3') return String(Number(v.toFixed(3)));
      return compact(v);
    };
  }

  // Tooltip HTML uses classes only (see app.css .cx-tip*): no inline style attributes.
  function tipTitle(s) { return '<div class="cx-tip-title">' + esc(s) + '</div>'; }
  function tipRow(color, name, value) {
    var c = PALETTE.indexOf(color);
    var dot = '<i class="cx-dot cx-c' + (c < 0 ? 7 : c) + '"></i>';
    return '<div class="cx-tip-row">' + dot + (name === '' ? '' : '<span>' + esc(name) + '</span>') +
      '<b>' + esc(value) + '</b></div>';
  }
  function tipNote(s) { return '<div class="cx-tip-note">' + esc(s) + '</div>'; }

  function baseOption(spec, opts) {
    opts = opts || {};
    return {
      animation: false,
      color: PALETTE,
      textStyle: { fontFamily: FONT, color: '#374151' },
      aria: { enabled: true, label: { description: spec.title ? String(spec.title) : '' } },
      tooltip: {
        trigger: opts.trigger || 'axis', confine: true, appendToBody: false,
        axisPointer: { type: opts.pointer || 'line' },
        className: 'cx-tip', backgroundColor: '#ffffff', borderColor: '#e5e7eb', borderWidth: 1,
        padding: [6, 10], textStyle: { fontFamily: FONT, fontSize: 12, color: INK },
        extraCssText: 'box-shadow: 0 2px 8px rgba(0,0,0,.12);'
      },
      grid: {
        containLabel: true, left: 8, right: opts.right || 16,
        top: (opts.legend ? 34 : 14) + (opts.yName ? 20 : 0), bottom: opts.xName ? 30 : 8
      },
      legend: opts.legend ? {
        show: true, type: 'scroll', top: 0, left: 'center', data: opts.legend,
        textStyle: { fontFamily: FONT, fontSize: 12 }, itemWidth: 14, itemHeight: 10
      } : { show: false }
    };
  }

  function valueAxis(f, extra) {
    return Object.assign({
      type: 'value', axisLabel: { formatter: axisFmt(f), fontSize: 11 },
      splitLine: { lineStyle: { color: '#eef0f3' } }
    }, extra || {});
  }
  function categoryAxis(labels, extra) {
    return Object.assign({
      type: 'category', data: labels.map(String), triggerEvent: true,
      axisLabel: { fontSize: 11, hideOverlap: true }, axisTick: { alignWithLabel: true },
      axisLine: { lineStyle: { color: '#d1d5db' } }
    }, extra || {});
  }
  function axisName(name, loc) {
    if (!name) return {};
    return loc === 'middle'
      ? { name: String(name), nameLocation: 'middle', nameGap: 26, nameTextStyle: { fontSize: 12, color: '#4b5563' } }
      : { name: String(name), nameLocation: 'end', nameTextStyle: { fontSize: 12, color: '#4b5563', align: 'left' } };
  }

  /** A "nice" tick step (1, 2, 2.5, 5 × 10^k) for a span cut into about n parts. */
  function niceStep(span, n) {
    var raw = (span || 1) / (n || 5);
    var e = Math.pow(10, Math.floor(Math.log10(raw)));
    var m = [1, 2, 2.5, 5, 10].find(function (k) { return raw <= k * e; }) || 10;
    return m * e;
  }

  // ------------------------------------------------------------------ chart kinds
  // Each builder returns {option, height?, category?: 'x'|'y', labels?} from (spec, data, f).
  var BUILD = {};

  BUILD.line = function (spec, d, f) {
    var x = arr(d.x).map(String);
    var series = obj(d.series);
    var bands = obj(d.bands);
    var names = Object.keys(series);
    var out = [];
    names.forEach(function (name, j) {
      var color = PALETTE[j % PALETTE.length];
      var ys = arr(series[name]).map(numOrNull);
      out.push({
        type: 'line', id: 'main-' + j, name: name, data: ys, color: color, z: 3,
        symbol: 'circle', symbolSize: 6, showSymbol: x.length <= 60, connectNulls: false,
        lineStyle: { width: 2 }, emphasis: { focus: 'none' }
      });
      var b = arr(bands[name]);
      var lo = arr(b[0]), hi = arr(b[1]);
      if (lo.length && hi.length) {
        out.push({
          type: 'line', id: 'band-lo-' + j, name: name, data: lo.map(numOrNull), stack: 'band' + j,
          stackStrategy: 'all', color: color, symbol: 'none', lineStyle: { opacity: 0 }, silent: true, z: 1
        });
        out.push({
          type: 'line', id: 'band-hi-' + j, name: name, stack: 'band' + j, stackStrategy: 'all', color: color,
          data: hi.map(function (h, i) { return isNum(h) && isNum(lo[i]) ? h - lo[i] : null; }),
          symbol: 'none', lineStyle: { opacity: 0 }, areaStyle: { color: color, opacity: 0.15 }, silent: true, z: 1
        });
      }
    });
    var o = baseOption(spec, { legend: names.length > 1 ? names : null, yName: d.y_label, right: 30 });
    o.xAxis = categoryAxis(x, { boundaryGap: false });
    o.yAxis = valueAxis(f, axisName(d.y_label));
    o.series = out;
    o.tooltip.formatter = function (ps) {
      var i = ps[0].dataIndex;
      var html = tipTitle(x[i]);
      names.forEach(function (name, j) {
        var v = arr(series[name])[i];
        var b = arr(bands[name]);
        var extra = b.length ? ' (' + fmt(arr(b[0])[i], f) + ' – ' + fmt(arr(b[1])[i], f) + ')' : '';
        html += tipRow(PALETTE[j % PALETTE.length], name, fmt(v, f) + extra);
      });
      return html;
    };
    return { option: o, category: 'x', labels: x };
  };

  BUILD.bar = function (spec, d, f) {
    var labels = arr(d.labels).map(String);
    var values = arr(d.values).map(numOrNull);
    var o = baseOption(spec, { pointer: 'shadow', right: 64 });
    o.yAxis = categoryAxis(labels, { inverse: true, axisTick: { show: false } });
    o.xAxis = valueAxis(f, { boundaryGap: values.some(function (v) { return v < 0; }) ? ['6%', '6%'] : [0, 0] });
    o.series = [{
      type: 'bar', name: spec.title || '', barMaxWidth: 22, barCategoryGap: '30%',
      data: values.map(function (v) {
        return {
          value: v, itemStyle: { color: v < 0 ? RED : BLUE },
          label: { show: v !== null, position: v < 0 ? 'left' : 'right', formatter: function () { return fmt(v, f); } }
        };
      }),
      label: { fontSize: 11, color: '#374151' }
    }];
    o.tooltip.formatter = function (ps) {
      var i = ps[0].dataIndex;
      return tipTitle(labels[i]) + tipRow(values[i] < 0 ? RED : BLUE, '', fmt(values[i], f));
    };
    return { option: o, height: barHeight(labels.length), category: 'y', labels: labels };
  };

  BUILD.stacked_bar = function (spec, d, f) {
    var labels = arr(d.labels).map(String);
    var series = obj(d.series), line = obj(d.line);
    var names = Object.keys(series), lines = Object.keys(line);
    var all = names.concat(lines);
    var o = baseOption(spec, { pointer: 'shadow', legend: all.length > 1 ? all : null });
    o.xAxis = categoryAxis(labels);
    o.yAxis = valueAxis(f);
    o.series = names.map(function (name, j) {
      return {
        type: 'bar', name: name, stack: 'total', barMaxWidth: 56, color: PALETTE[j % PALETTE.length],
        data: arr(series[name]).map(numOrNull)
      };
    }).concat(lines.map(function (name, j) {
      return {
        type: 'line', name: name, color: PALETTE[(names.length + j) % PALETTE.length], z: 5,
        data: arr(line[name]).map(numOrNull), symbol: 'circle', symbolSize: 6,
        lineStyle: { type: 'dashed', width: 2 }
      };
    }));
    o.tooltip.formatter = function (ps) {
      var i = ps[0].dataIndex;
      var html = tipTitle(labels[i]);
      var total = 0, any = false;
      names.forEach(function (name, j) {
        var v = arr(series[name])[i];
        if (isNum(v)) { total += v; any = true; }
        html += tipRow(PALETTE[j % PALETTE.length], name, fmt(v, f));
      });
      if (names.length > 1 && any) html += tipNote((isZh() ? '合计 ' : 'Total ') + fmt(total, f));
      lines.forEach(function (name, j) {
        html += tipRow(PALETTE[(names.length + j) % PALETTE.length], name, fmt(arr(line[name])[i], f));
      });
      return html;
    };
    return { option: o, category: 'x', labels: labels };
  };

  BUILD.histogram = function (spec, d, f) {
    var edges = arr(d.edges), counts = arr(d.counts).map(numOrNull);
    var labels = counts.map(function (_, i) { return compact(edges[i]); });
    var o = baseOption(spec, { pointer: 'shadow' });
    o.xAxis = categoryAxis(labels, { axisTick: { alignWithLabel: false } });
    o.yAxis = valueAxis('int', { minInterval: 1 });
    o.series = [{ type: 'bar', name: spec.title || '', data: counts, color: BLUE, barCategoryGap: '6%' }];
    o.tooltip.formatter = function (ps) {
      var i = ps[0].dataIndex;
      return tipTitle(fmt(edges[i], f) + ' – ' + fmt(edges[i + 1], f)) +
        tipRow(BLUE, isZh() ? '数量' : 'Count', fmt(counts[i], 'int'));
    };
    return { option: o, category: 'x', labels: labels };
  };

  BUILD.interval_bar = function (spec, d, f) {
    var labels = arr(d.labels).map(String);
    var values = arr(d.values).map(numOrNull);
    var lows = arr(d.lows).map(numOrNull), highs = arr(d.highs).map(numOrNull);
    var ns = arr(d.ns).map(numOrNull);
    var marks = arr(d.marks);
    // marks: a list of booleans (one per bar: small sample -> "*" and a lighter bar) or a list
    // of {"value", "label"} reference lines; any other shape is ignored.
    var flags = marks.length && marks.every(function (m) { return typeof m === 'boolean' || m === null; }) ? marks : [];
    var refs = marks.filter(function (m) { return m && typeof m === 'object' && isNum(m.value); });
    var shown = labels.map(function (l, i) { return flags[i] ? l + ' *' : l; });
    var hasNeg = values.concat(lows).some(function (v) { return v < 0; });
    var o = baseOption(spec, { pointer: 'shadow', right: 64 });
    o.yAxis = categoryAxis(shown, { inverse: true, axisTick: { show: false } });
    o.xAxis = valueAxis(f, { boundaryGap: hasNeg ? ['6%', '6%'] : [0, 0] });
    var bar = {
      type: 'bar', name: spec.title || '', barMaxWidth: 20, barCategoryGap: '35%',
      data: values.map(function (v, i) {
        return { value: v, itemStyle: { color: v < 0 ? RED : BLUE, opacity: flags[i] ? 0.45 : 0.85 } };
      })
    };
    if (refs.length) {
      bar.markLine = {
        silent: true, symbol: 'none', animation: false,
        lineStyle: { color: '#6b7280', type: 'dashed', width: 1 },
        label: { formatter: function (p) { return p.name || fmt(p.value, f); }, fontSize: 11, color: '#4b5563' },
        data: refs.map(function (m) { return { xAxis: m.value, name: m.label ? String(m.label) : '' }; })
      };
    }
    var whisker = {
      type: 'custom', name: 'interval', silent: true, z: 4,
      encode: { x: [1, 2, 3], y: 0 },
      data: values.map(function (v, i) { return [i, lows[i], highs[i], v]; }),
      renderItem: function (params, api) {
        var i = api.value(0), lo = api.value(1), hi = api.value(2), v = api.value(3);
        var kids = [];
        var style = { stroke: INK, lineWidth: 1.2 };
        var hh = Math.max(3, Math.min(6, api.size([0, 1])[1] * 0.22));
        if (isNum(lo) && isNum(hi)) {
          var a = api.coord([lo, i]), b = api.coord([hi, i]);
          kids.push({ type: 'line', shape: { x1: a[0], y1: a[1], x2: b[0], y2: b[1] }, style: style });
          kids.push({ type: 'line', shape: { x1: a[0], y1: a[1] - hh, x2: a[0], y2: a[1] + hh }, style: style });
          kids.push({ type: 'line', shape: { x1: b[0], y1: b[1] - hh, x2: b[0], y2: b[1] + hh }, style: style });
        }
        if (isNum(v)) {
          var neg = v < 0;
          var end = neg ? Math.min(v, isNum(lo) ? lo : v) : Math.max(v, isNum(hi) ? hi : v);
          var p = api.coord([end, i]);
          var nTxt = isNum(ns[i]) ? '  n=' + nf(ns[i], 0, 0) : '';   // each bar's number of observations
          kids.push({
            type: 'text', x: p[0] + (neg ? -6 : 6), y: p[1],
            style: { text: fmt(v, f) + nTxt, fill: '#374151', font: '11px ' + FONT, align: neg ? 'right' : 'left', verticalAlign: 'middle' }
          });
        }
        return { type: 'group', children: kids };
      }
    };
    o.series = [bar, whisker];
    o.tooltip.formatter = function (ps) {
      var i = ps[0].dataIndex;
      var v = values[i];
      var html = tipTitle(labels[i]) + tipRow(v < 0 ? RED : BLUE, '', fmt(v, f));
      if (isNum(lows[i]) && isNum(highs[i])) html += tipNote('[' + fmt(lows[i], f) + ', ' + fmt(highs[i], f) + ']');
      if (isNum(ns[i])) html += tipNote('n = ' + nf(ns[i], 0, 0));
      if (flags[i]) html += tipNote(isZh() ? '* 样本量小' : '* small sample');
      return html;
    };
    if (d.x_label) o.xAxis = valueAxis(f, Object.assign({ boundaryGap: hasNeg ? ['6%', '6%'] : [0, 0] }, axisName(d.x_label, 'middle')));
    return { option: o, height: barHeight(labels.length), category: 'y', labels: labels };
  };

  /** quadrant_names: {"top_left", "top_right", "bottom_left", "bottom_right"} or a list in the
   * order top-right, top-left, bottom-left, bottom-right. */
  function quadrantNames(q) {
    var keys = ['top_right', 'top_left', 'bottom_left', 'bottom_right'];
    var out = {};
    if (Array.isArray(q)) keys.forEach(function (k, i) { if (q[i] != null) out[k] = String(q[i]); });
    else if (q && typeof q === 'object') keys.forEach(function (k) { if (q[k] != null) out[k] = String(q[k]); });
    return out;
  }

  BUILD.quadrant = function (spec, d, f) {
    var labels = arr(d.labels).map(String);
    var xs = arr(d.x).map(numOrNull), ys = arr(d.y).map(numOrNull);
    var xc = isNum(d.x_cut) ? d.x_cut : null, yc = isNum(d.y_cut) ? d.y_cut : null;
    var fx = d.x_format || f, fy = d.y_format || f;
    function range(vals, cut, fromZero) {
      var v = vals.filter(isNum).concat(cut === null ? [] : [cut]);
      if (!v.length) return [0, 1, 0.2];
      var lo = Math.min.apply(null, v), hi = Math.max.apply(null, v);
      if (fromZero) lo = Math.min(0, lo);
      var pad = (hi - lo) * 0.08 || Math.abs(hi) * 0.1 || 0.5;
      var st = niceStep(hi - lo + 2 * pad, 5);
      lo = fromZero && lo >= 0 ? Math.max(0, Math.floor((lo - pad) / st) * st) : Math.floor((lo - pad) / st) * st;
      return [lo, Math.ceil((hi + pad) / st) * st, st];
    }
    var rx = range(xs, xc, false), ry = range(ys, yc, true);
    // a fixed scale (e.g. Kano's Better / Worse coefficients on 0-1) instead of the data's
    if (Array.isArray(d.x_range)) rx = [d.x_range[0], d.x_range[1], niceStep(d.x_range[1] - d.x_range[0], 5)];
    if (Array.isArray(d.y_range)) ry = [d.y_range[0], d.y_range[1], niceStep(d.y_range[1] - d.y_range[0], 5)];
    var highlight = d.highlight === undefined ? 'top_left' : d.highlight;   // IPA: "concentrate here"; none for Kano
    var names = quadrantNames(d.quadrant_names);
    var o = baseOption(spec, { trigger: 'item', xName: d.x_label, yName: d.y_label });
    o.xAxis = valueAxis(fx, Object.assign({ min: rx[0], max: rx[1], interval: rx[2] }, axisName(d.x_label, 'middle')));
    o.yAxis = valueAxis(fy, Object.assign({ min: ry[0], max: ry[1], interval: ry[2] }, axisName(d.y_label)));
    var pts = labels.map(function (l, i) {
      var hot = highlight === 'top_left' && xc !== null && yc !== null && xs[i] < xc && ys[i] >= yc;
      var nearRight = isNum(xs[i]) && (xs[i] - rx[0]) / ((rx[1] - rx[0]) || 1) > 0.8;
      return {
        name: l, idx: i, value: [xs[i], ys[i]], itemStyle: { color: hot ? RED : BLUE },
        label: { position: nearRight ? 'left' : 'right' }
      };
    }).filter(function (p) { return isNum(p.value[0]) && isNum(p.value[1]); });
    var areas = [];
    var lab = function (k, pos) {
      return { name: names[k] || '', label: { position: pos, color: '#6b7280', fontSize: 12 } };
    };
    if (xc !== null && yc !== null) {
      var tl = lab('top_left', 'insideTopLeft'), tr = lab('top_right', 'insideTopRight');
      var bl = lab('bottom_left', 'insideBottomLeft'), br = lab('bottom_right', 'insideBottomRight');
      if (highlight === 'top_left') tl.itemStyle = { color: RED, opacity: 0.05 };
      areas = [
        [Object.assign(tl, { coord: [rx[0], ry[1]] }), { coord: [xc, yc] }],
        [Object.assign(tr, { coord: [xc, ry[1]] }), { coord: [rx[1], yc] }],
        [Object.assign(bl, { coord: [rx[0], yc] }), { coord: [xc, ry[0]] }],
        [Object.assign(br, { coord: [xc, yc] }), { coord: [rx[1], ry[0]] }]
      ];
    }
    o.series = [{
      type: 'scatter', name: spec.title || '', data: pts, symbolSize: 10, z: 3,
      label: { show: true, formatter: '{b}', fontSize: 11, color: '#374151', distance: 6 },
      labelLayout: { hideOverlap: false, moveOverlap: 'shiftY' },
      markLine: xc === null || yc === null ? undefined : {
        silent: true, symbol: 'none', lineStyle: { color: GREY, type: 'dashed', width: 1 }, label: { show: false },
        data: [{ xAxis: xc }, { yAxis: yc }]
      },
      markArea: areas.length ? { silent: true, itemStyle: { color: 'rgba(0,0,0,0)' }, data: areas } : undefined
    }];
    o.tooltip.formatter = function (p) {
      if (p.componentType !== 'series' || !Array.isArray(p.value)) return '';
      return tipTitle(p.name) +
        tipRow(p.color, d.x_label ? String(d.x_label) : 'x', fmt(p.value[0], fx)) +
        tipRow(p.color, d.y_label ? String(d.y_label) : 'y', fmt(p.value[1], fy));
    };
    return { option: o, height: 420, pointLinks: true };
  };

  /** nodes: [id, label, note] (laid out in columns by depth in the path model) or
   * [id, label, x, y] with x, y in 0..1; edges: [from, to, coefficient]. The layout is made
   * for the canvas width: left to right, staggered in two rows when the columns do not fit,
   * top to bottom on narrow screens. */
  BUILD.path = function (spec, d, f, ctx) {
    var nodes = arr(d.nodes).filter(function (n) { return Array.isArray(n) && n.length && n[0] != null; });
    var ids = nodes.map(function (n) { return String(n[0]); });
    var edges = arr(d.edges).filter(function (e) {
      return Array.isArray(e) && e.length >= 2 && ids.indexOf(String(e[0])) >= 0 && ids.indexOf(String(e[1])) >= 0;
    });
    var width = Math.max(240, (ctx && ctx.width) || 720);
    var given = nodes.length > 0 && nodes.every(function (n) { return isNum(n[2]) && isNum(n[3]); });
    var W = 150, H = 46, GAP = 30, PAD = 12;
    var PADY = given ? PAD : 48;   // room for bent edges above and below the rows
    var pos = {}, depth = {}, height, mode = 'given';
    if (given) {
      height = 340;
      nodes.forEach(function (n) {
        pos[String(n[0])] = [PAD + W / 2 + n[2] * (width - W - 2 * PAD), PAD + H / 2 + n[3] * (height - H - 2 * PAD)];
      });
    } else {
      var preds = {};
      ids.forEach(function (i) { preds[i] = []; });
      edges.forEach(function (e) { preds[String(e[1])].push(String(e[0])); });
      var dep = function (i, seen) {
        if (depth[i] !== undefined) return depth[i];
        if (seen.indexOf(i) >= 0) return 0;
        var ps = preds[i];
        var v = ps.length ? 1 + Math.max.apply(null, ps.map(function (q) { return dep(q, seen.concat([i])); })) : 0;
        depth[i] = v;
        return v;
      };
      ids.forEach(function (i) { dep(i, []); });
      var byCol = [];
      ids.forEach(function (i) { (byCol[depth[i]] = byCol[depth[i]] || []).push(i); });
      byCol = byCol.filter(Boolean);
      byCol.forEach(function (m, c) { m.forEach(function (i) { depth[i] = c; }); });
      var cols = byCol.length;
      var rows = Math.max.apply(null, byCol.map(function (m) { return m.length; }));
      var avail = width - 2 * PAD;
      var k = Math.max(cols - 1, 1);
      if (cols * (W + 40) <= avail || cols === 1) {
        mode = 'flat';
      } else {
        W = Math.min(150, (2 * avail / k - 18) / (1 + 2 / k));
        mode = W >= 96 ? 'stagger' : 'vertical';
      }
      if (mode === 'vertical') {
        // one level per row, zig-zagged so that the edges (and their labels) are not vertical
        W = Math.max(60, Math.min(150, (avail - 40 - (rows - 1) * 16) / rows));
        var zig = rows === 1 ? Math.max(0, Math.min(70, (avail - 40 - W) / 2)) : 0;
        GAP = 50;
        height = cols * (H + GAP) - GAP + 2 * PAD;
        byCol.forEach(function (m, c) {
          var stepX = (avail - 40 - 2 * zig) / m.length;
          m.forEach(function (i, r) {
            pos[i] = [PAD + zig + stepX * (r + 0.5) + (c % 2 ? zig : -zig), PAD + H / 2 + c * (H + GAP)];
          });
        });
      } else {
        var slots = mode === 'stagger' ? 2 * rows : rows;
        if (mode === 'stagger') GAP = rows > 1 ? 20 : 56;
        height = slots * (H + GAP) - GAP + 2 * PADY;
        var stepX = cols > 1 ? (avail - W) / (cols - 1) : 0;
        byCol.forEach(function (m, c) {
          var used = mode === 'stagger' ? 2 * m.length - 1 : m.length;
          var first = (slots - used) / 2 + (mode === 'stagger' ? (c % 2 ? 0.5 : -0.5) : 0);
          first = Math.max(0, Math.min(slots - used, first));
          m.forEach(function (i, r) {
            var slot = first + (mode === 'stagger' ? 2 * r : r);
            pos[i] = [PAD + W / 2 + (cols > 1 ? c * stepX : avail / 2 - W / 2), PADY + H / 2 + slot * (H + GAP)];
          });
        });
      }
    }
    var cmax = Math.max.apply(null, edges.map(function (e) { return isNum(e[2]) ? Math.abs(e[2]) : 0; }).concat([1e-9]));
    var ef = f && f !== 'number' ? f : 'float2';
    var data = nodes.map(function (n) {
      var id = String(n[0]);
      var name = n[1] != null ? String(n[1]) : id;
      var note = !given && n[2] != null && n[2] !== '' ? String(n[2]) : '';
      return {
        id: id, idx: arr(d.nodes).indexOf(n), name: name, note: note, x: pos[id][0], y: pos[id][1], fixed: true,
        symbol: 'roundRect', symbolSize: [W, H],
        itemStyle: { color: '#eff6ff', borderColor: BLUE, borderWidth: 1.2 },
        label: {
          show: true, position: 'inside', width: W - 10, overflow: 'truncate',
          formatter: note ? '{b|' + name.replace(/[{}|]/g, ' ') + '}\n{n|' + note.replace(/[{}|]/g, ' ') + '}'
            : '{b|' + name.replace(/[{}|]/g, ' ') + '}',
          rich: {
            b: { fontWeight: 'bold', fontSize: 12, color: INK, lineHeight: 17, width: W - 10, align: 'center' },
            n: { fontSize: 10, color: '#4b5563', lineHeight: 14, width: W - 10, align: 'center' }
          }
        }
      };
    });
    var links = edges.map(function (e) {
      var c = e[2], a = String(e[0]), t = String(e[1]);
      // edges that skip a column would run through the nodes in between: bend them outwards
      // (up in the upper half, down in the lower half) by about 40 px at the peak; in the
      // staggered layout an edge from one row to the other over 3+ columns bends out of its
      // source's row by about 80 px. ECharts: control point offset = curveness × length.
      var span = Math.abs(depth[a] - depth[t]);
      var far = mode !== 'given' && span > 1;
      var pa = pos[a], pt = pos[t];
      var dist = Math.sqrt(Math.pow(pt[0] - pa[0], 2) + Math.pow(pt[1] - pa[1], 2)) || 1;
      var crossing = mode === 'stagger' && span % 2 === 1;
      var bend = Math.min(crossing ? 0.8 : 0.5, (crossing ? 160 : 84) / dist);
      if (mode !== 'vertical') {
        var up = (crossing ? pa[1] : (pa[1] + pt[1]) / 2) <= height / 2 + 1;
        bend *= (pt[0] >= pa[0] ? 1 : -1) * (up ? 1 : -1);
      }
      return {
        source: a, target: t, value: isNum(c) ? c : null,
        lineStyle: {
          width: isNum(c) ? 1 + 3 * Math.abs(c) / cmax : 1, color: isNum(c) && c < 0 ? RED : '#4b5563',
          curveness: far ? bend : 0, opacity: 0.9
        },
        label: {
          show: isNum(c) || typeof c === 'string', formatter: isNum(c) ? fmt(c, ef) : String(c),
          fontSize: 11, color: INK, backgroundColor: '#ffffff', padding: [1, 4], borderRadius: 3
        }
      };
    });
    var o = baseOption(spec, { trigger: 'item' });
    delete o.grid;
    var box = [];
    ids.forEach(function (i) { box.push(pos[i]); });
    var minX = Math.min.apply(null, box.map(function (q) { return q[0]; }));
    var maxX = Math.max.apply(null, box.map(function (q) { return q[0]; }));
    var minY = Math.min.apply(null, box.map(function (q) { return q[1]; }));
    var maxY = Math.max.apply(null, box.map(function (q) { return q[1]; }));
    // place the layout box exactly where the coordinates say, so that 1 unit = 1 px
    o.series = [{
      type: 'graph', layout: 'none', roam: false, draggable: false, nodeScaleRatio: 0,
      left: minX, top: minY, width: Math.max(maxX - minX, 1), height: Math.max(maxY - minY, 1),
      edgeSymbol: ['none', 'arrow'], edgeSymbolSize: [0, 9], data: data, links: links,
      emphasis: { focus: 'adjacency', lineStyle: { width: 3 } }
    }];
    o.tooltip.formatter = function (p) {
      if (p.dataType === 'edge') {
        var s = data[ids.indexOf(p.data.source)], t = data[ids.indexOf(p.data.target)];
        return tipTitle((s ? s.name : p.data.source) + ' → ' + (t ? t.name : p.data.target)) +
          tipRow(p.data.value < 0 ? RED : BLUE, '', isNum(p.data.value) ? fmt(p.data.value, ef) : '–');
      }
      return tipTitle(p.name) + (p.data && p.data.note ? tipNote(p.data.note) : '');
    };
    return { option: o, height: Math.max(160, Math.ceil(height)), pointLinks: true, relayout: true };
  };

  /** A shaded step band (custom series): one polygon drawn from the whole curve. */
  function stepBand(name, j, xs, lo, hi, color) {
    return {
      type: 'custom', id: 'band-' + j, name: name, silent: true, z: 1, clip: true,
      encode: { x: 0, y: [1, 2] }, tooltip: { show: false },
      data: xs.map(function (x, i) { return [numOrNull(x), numOrNull(lo[i]), numOrNull(hi[i])]; }),
      renderItem: function (params, api) {
        if (params.dataIndex !== 0) return null;
        var up = [], down = [], pu = null, pd = null;
        xs.forEach(function (x, i) {
          if (!isNum(x) || !isNum(lo[i]) || !isNum(hi[i])) return;
          if (pu !== null) { up.push(api.coord([x, pu])); down.push(api.coord([x, pd])); }
          up.push(api.coord([x, hi[i]])); down.push(api.coord([x, lo[i]]));
          pu = hi[i]; pd = lo[i];
        });
        if (up.length < 2) return null;
        return {
          type: 'polygon', shape: { points: up.concat(down.reverse()) },
          style: { fill: color, opacity: 0.12 }
        };
      }
    };
  }

  BUILD.step = function (spec, d, f) {
    var curves = obj(d.curves), bands = obj(d.bands);
    var names = Object.keys(curves);
    var marks = arr(d.marks);
    var out = [];
    var allY = [];
    names.forEach(function (name, j) {
      var color = PALETTE[j % PALETTE.length];
      var c = arr(curves[name]);
      var xs = arr(c[0]), ys = arr(c[1]);
      ys.forEach(function (v) { if (isNum(v)) allY.push(v); });
      out.push({
        type: 'line', id: 'main-' + j, name: name, step: 'end', color: color, z: 3, showSymbol: false,
        symbol: 'circle', symbolSize: 5, lineStyle: { width: 2 }, connectNulls: true,
        data: xs.map(function (x, i) { return [numOrNull(x), numOrNull(ys[i])]; })
      });
      var b = arr(bands[name]);
      if (arr(b[0]).length && arr(b[1]).length) out.push(stepBand(name, j, xs, arr(b[0]), arr(b[1]), color));
    });
    if (out.length) {
      var lines = marks.map(function (m) {
        if (isNum(m)) return { xAxis: m, name: '' };
        if (m && typeof m === 'object' && isNum(m.value)) return { xAxis: m.value, name: m.label ? String(m.label) : '' };
        return null;
      }).filter(Boolean);
      if (lines.length) {
        out[0].markLine = {
          silent: true, symbol: 'none', lineStyle: { color: GREY, type: 'dotted', width: 1 },
          label: { formatter: function (p) { return p.name || ''; }, fontSize: 11, color: '#4b5563' }, data: lines
        };
      }
    }
    var ymax = isNum(d.y_max) ? Math.max(d.y_max, Math.max.apply(null, allY.concat([0]))) : undefined;
    var o = baseOption(spec, { legend: names.length > 1 ? names : null, xName: d.x_label, yName: d.y_label });
    o.xAxis = valueAxis('number', Object.assign({ min: 0, max: 'dataMax', splitLine: { show: false } }, axisName(d.x_label, 'middle')));
    o.yAxis = valueAxis(f, Object.assign({ min: 0, max: ymax }, axisName(d.y_label)));
    o.series = out;
    o.tooltip.formatter = function (ps) {
      var html = '';
      var xv = null;
      ps.forEach(function (p) {
        var m = /^main-(\d+)$/.exec(p.seriesId || '');
        if (!m) return;
        var j = Number(m[1]), name = names[j];
        var b = arr(bands[name]);
        if (xv === null) xv = p.value[0];
        var extra = b.length ? ' (' + fmt(arr(b[0])[p.dataIndex], f) + ' – ' + fmt(arr(b[1])[p.dataIndex], f) + ')' : '';
        html += tipRow(PALETTE[j % PALETTE.length], name, fmt(p.value[1], f) + extra);
      });
      return (xv === null ? '' : tipTitle((d.x_label ? d.x_label + ' ' : '') + fmt(xv, 'number'))) + html;
    };
    return { option: o };
  };

  BUILD.stacked_area = function (spec, d, f) {
    var x = arr(d.x).map(String);
    var series = obj(d.series);
    var names = Object.keys(series);
    var share = d.share === true;
    var vals = names.map(function (n) { return arr(series[n]).map(function (v) { return isNum(v) ? v : 0; }); });
    var totals = x.map(function (_, i) { return vals.reduce(function (s, r) { return s + (r[i] || 0); }, 0); });
    if (share) vals = vals.map(function (r) { return r.map(function (v, i) { return totals[i] ? v / totals[i] : 0; }); });
    var vf = share ? 'pct1' : f;
    var o = baseOption(spec, { legend: names.length > 1 ? names : null, right: 30 });
    o.xAxis = categoryAxis(x, { boundaryGap: false });
    o.yAxis = valueAxis(share ? 'pct' : f, share ? { max: 1 } : {});
    o.series = names.map(function (name, j) {
      return {
        type: 'line', name: name, stack: 'total', data: vals[j], color: PALETTE[j % PALETTE.length],
        symbol: 'none', lineStyle: { width: 1 }, areaStyle: { opacity: 0.7 }
      };
    });
    o.tooltip.formatter = function (ps) {
      var i = ps[0].dataIndex;
      var html = tipTitle(x[i]);
      for (var j = names.length - 1; j >= 0; j--) html += tipRow(PALETTE[j % PALETTE.length], names[j], fmt(vals[j][i], vf));
      if (!share && names.length > 1) html += tipNote((isZh() ? '合计 ' : 'Total ') + fmt(totals[i], f));
      return html;
    };
    return { option: o, category: 'x', labels: x };
  };

  function barHeight(n) { return Math.max(180, Math.min(1400, 56 + 28 * n)); }

  // ------------------------------------------------------------------ click-through
  function safeUrl(u) {
    // relative URLs only: "/x" yes; "//host", "/\host", "https://…", "javascript:…" no
    return typeof u === 'string' && u.charAt(0) === '/' && u.charAt(1) !== '/' && u.charAt(1) !== '\\' ? u : null;
  }

  function wireLinks(chart, built, links) {
    if (!Array.isArray(links) || !links.some(safeUrl)) return;
    var go = function (i) {
      var u = isNum(i) ? safeUrl(links[i]) : null;
      if (u) window.location.assign(u);
    };
    var zr = chart.getZr();
    if (built.category) {
      // a click anywhere in a category's column/row (bar, point, or the gap around it)
      var idxAt = function (e) {
        var pt = [e.offsetX, e.offsetY];
        if (!chart.containPixel({ gridIndex: 0 }, pt)) return null;
        var v = chart.convertFromPixel({ gridIndex: 0 }, pt);
        var i = Math.round(built.category === 'y' ? v[1] : v[0]);
        return i >= 0 && i < built.labels.length ? i : null;
      };
      zr.on('click', function (e) { go(idxAt(e)); });
      zr.on('mousemove', function (e) {
        var i = idxAt(e);
        zr.setCursorStyle(i !== null && safeUrl(links[i]) ? 'pointer' : 'default');
      });
      chart.on('click', function (p) {   // category axis labels
        if (p.componentType === 'xAxis' || p.componentType === 'yAxis') {
          var i = isNum(p.dataIndex) ? p.dataIndex : built.labels.indexOf(String(p.value).replace(/ \*$/, ''));
          go(i);
        }
      });
    } else if (built.pointLinks) {
      chart.on('click', function (p) {
        // idx: the point's index in the spec (invalid points are not drawn)
        if (p.componentType === 'series' && p.dataType !== 'edge') go(p.data && isNum(p.data.idx) ? p.data.idx : p.dataIndex);
      });
    }
  }

  // ------------------------------------------------------------------ lifecycle
  function child(el, cls) {
    for (var i = 0; i < el.children.length; i++) {
      if (el.children[i].classList.contains(cls)) return el.children[i];
    }
    return null;
  }

  function render(div) {
    if (live.has(div) || div.dataset.chartFailed === '1') return;
    var specEl = child(div, 'chart-spec');
    if (!specEl || specEl.tagName !== 'SCRIPT') return;
    if (typeof window.echarts === 'undefined') { console.warn('cxvalue: echarts is not loaded'); return; }
    var canvas = child(div, 'chart-canvas');
    if (!canvas) {
      canvas = document.createElement('div');
      canvas.className = 'chart-canvas';
      div.insertBefore(canvas, child(div, 'chart-fallback'));
    }
    var fallback = child(div, 'chart-fallback');
    var chart = null;
    try {
      var spec = JSON.parse(specEl.textContent || '{}');
      var build = BUILD[spec.chart];
      if (!build) throw new Error('unknown chart kind ' + JSON.stringify(spec.chart));
      div.classList.add('chart-js');
      if (!canvas.clientWidth) {        // hidden (closed <details>, inactive tab): try again later
        div.classList.remove('chart-js');
        return;
      }
      var built = build(spec, obj(spec.data), spec.value_format || 'number', { width: canvas.clientWidth });
      if (built.height) canvas.style.height = built.height + 'px';
      // content restored from htmx's history cache carries a dead chart's DOM: start clean
      canvas.removeAttribute('_echarts_instance_');
      canvas.textContent = '';
      chart = window.echarts.init(canvas, null, { locale: isZh() ? 'ZH' : 'EN', renderer: 'canvas' });
      chart.setOption(built.option);
      wireLinks(chart, built, spec.links);
      if (Array.isArray(spec.links) && spec.links.some(safeUrl)) canvas.classList.add('linked');
      live.set(div, { chart: chart, canvas: canvas, spec: spec, relayout: !!built.relayout, width: canvas.clientWidth });
      if (fallback) fallback.classList.add('hidden');
      div.dataset.ready = '1';
    } catch (err) {
      console.warn('cxvalue: chart not rendered, keeping the fallback', err);
      if (chart) { try { chart.dispose(); } catch (e) { /* ignore */ } }
      div.classList.remove('chart-js');
      div.dataset.chartFailed = '1';
      delete div.dataset.ready;
      if (fallback) fallback.classList.remove('hidden');
    }
  }

  function dispose(div) {
    var entry = live.get(div);
    if (!entry) return;
    live.delete(div);
    try { entry.chart.dispose(); } catch (e) { /* already gone */ }
  }

  /** Dispose the charts whose element left the DOM (or is inside ``root``, about to leave). */
  function sweep(root) {
    live.forEach(function (entry, div) {
      if (!div.isConnected || (root && root !== div && root.contains && root.contains(div)) || root === div) dispose(div);
    });
  }

  function scan() {
    sweep();
    var divs = document.querySelectorAll('div.chart');
    for (var i = 0; i < divs.length; i++) render(divs[i]);
  }

  var resizeTimer = null;
  function resizeAll() {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      live.forEach(function (entry) {
        var w = entry.canvas.clientWidth;
        if (entry.relayout && w && w !== entry.width) {   // layouts made for a width (path diagrams)
          try {
            var spec = entry.spec;
            var built = BUILD[spec.chart](spec, obj(spec.data), spec.value_format || 'number', { width: w });
            if (built.height) entry.canvas.style.height = built.height + 'px';
            entry.chart.resize();
            entry.chart.setOption(built.option, true);
            entry.width = w;
          } catch (err) { console.warn('cxvalue: chart relayout failed', err); }
        } else {
          entry.chart.resize();
        }
      });
      scan();   // charts that were hidden at load may have a size now
    }, 120);
  }

  /** htmx snapshots the page (innerHTML) for its history cache right after
   * htmx:beforeHistorySave. Take the live chart DOM out for that moment so the snapshot holds
   * the server's markup (no ECharts DOM, no style attributes that a strict CSP would refuse on
   * restore, no stale data-ready), and put it back before the browser paints. */
  function parkChartsForSnapshot() {
    var parked = [];
    live.forEach(function (entry, div) {
      var c = entry.canvas;
      var kids = document.createDocumentFragment();
      while (c.firstChild) kids.appendChild(c.firstChild);
      var fb = child(div, 'chart-fallback');
      // getAttribute first: Chromium syncs a CSSOM-edited style attribute lazily and would
      // otherwise serialise style="" after removeAttribute
      var css = c.getAttribute('style') || '';
      parked.push({ div: div, canvas: c, kids: kids, css: css, inst: c.getAttribute('_echarts_instance_'), fb: fb });
      c.removeAttribute('style');
      c.removeAttribute('_echarts_instance_');
      div.classList.remove('chart-js');
      delete div.dataset.ready;
      if (fb) fb.classList.remove('hidden');
    });
    Promise.resolve().then(function () {
      parked.forEach(function (p) {
        p.canvas.appendChild(p.kids);
        p.canvas.style.cssText = p.css;          // CSSOM: allowed under style-src 'self'
        if (p.inst) p.canvas.setAttribute('_echarts_instance_', p.inst);
        p.div.classList.add('chart-js');
        p.div.dataset.ready = '1';
        if (p.fb) p.fb.classList.add('hidden');
      });
    });
  }

  // ------------------------------------------------------------------ forms and buttons
  function onChange(e) {
    var el = e.target;
    if (!el || !el.matches || !el.matches('select[data-autosubmit], input[data-autosubmit]')) return;
    var form = el.form || el.closest('form');
    if (!form) return;
    if (typeof form.requestSubmit === 'function') form.requestSubmit();
    else form.submit();
  }

  function onSubmit(e) {
    var form = e.target;
    if (!form || form.tagName !== 'FORM') return;
    var sub = e.submitter || null;
    var msg = null;
    if (sub && sub.dataset && sub.dataset.confirm) msg = sub.dataset.confirm;
    else if (form.dataset.confirm) msg = form.dataset.confirm;
    else {
      // a [data-confirm] that is not a (different) submit button: e.g. a hidden input or fieldset
      var els = form.querySelectorAll('[data-confirm]');
      for (var i = 0; i < els.length && !msg; i++) {
        var el = els[i];
        var isButton = el.matches('button, input[type=submit], input[type=image]');
        if (!isButton || !sub) msg = el.dataset.confirm;
      }
    }
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
      e.stopImmediatePropagation();   // htmx-handled forms too
    }
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    return new Promise(function (resolve, reject) {
      var ta = document.createElement('textarea');
      ta.value = text;
      ta.setAttribute('readonly', '');
      ta.className = 'cx-offscreen';
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
      document.body.removeChild(ta);
      if (ok) resolve(); else reject(new Error('copy failed'));
    });
  }

  function onClick(e) {
    var btn = e.target && e.target.closest ? e.target.closest('button[data-copy]') : null;
    if (!btn) return;
    e.preventDefault();
    var src = document.getElementById(btn.dataset.copy);
    if (!src) return;
    var text = 'value' in src && typeof src.value === 'string' ? src.value : src.textContent;
    copyText((text || '').trim()).then(function () {
      btn.classList.add('copied');
      setTimeout(function () { btn.classList.remove('copied'); }, 1500);
    }, function (err) { console.warn('cxvalue: copy failed', err); });
  }

  // ------------------------------------------------------------------ htmx
  function csrfToken() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute('content') : null;
  }

  function init() {
    var body = document.body;
    body.addEventListener('htmx:configRequest', function (e) {
      var t = csrfToken();
      if (t && e.detail && e.detail.headers) e.detail.headers['X-CSRF-Token'] = t;
    });
    body.addEventListener('htmx:beforeSwap', function () { sweep(); });
    body.addEventListener('htmx:beforeCleanupElement', function (e) {
      if (e.target && e.target.classList && e.target.classList.contains('chart')) dispose(e.target);
    });
    body.addEventListener('htmx:afterSwap', scan);
    body.addEventListener('htmx:load', scan);
    body.addEventListener('htmx:historyRestore', scan);
    body.addEventListener('htmx:beforeHistorySave', parkChartsForSnapshot);
    document.addEventListener('toggle', function () { setTimeout(scan, 0); }, true);  // <details> opened
    document.addEventListener('change', onChange);
    document.addEventListener('submit', onSubmit, true);
    document.addEventListener('click', onClick);
    window.addEventListener('resize', resizeAll);
    scan();
  }

  // exposed for debugging and tests
  window.cxvalue = { fmt: fmt, compact: compact, scan: scan, charts: live };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
