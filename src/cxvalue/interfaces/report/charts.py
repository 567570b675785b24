"""Small inline-SVG charts for the self-contained report (no JavaScript, no CDN).

Each function returns an ``<svg>`` string. Values are drawn as given; callers pass
tidy data already aggregated in the engine.
"""
from __future__ import annotations

from html import escape

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")


def _fmt(v: float) -> str:
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.1f}B"
    if a >= 1e6:
        return f"{v / 1e6:.1f}M"
    if a >= 1e4:
        return f"{v / 1e3:.0f}k"
    if a >= 100 or v == int(v):
        return f"{v:.0f}"
    return f"{v:.2f}"


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    import math
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values (steps of 1, 2, 2.5 or 5 × 10^k) covering [lo, hi], the
    first at or below ``lo`` and the last at or above ``hi``; 0 is a tick when the range holds it."""
    import math
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0, 1.0]
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        lo, hi = (lo - 1, hi + 1) if lo == 0 else (lo - abs(lo) * 0.1, hi + abs(hi) * 0.1)
    raw = (hi - lo) / max(n - 1, 1)
    e = 10 ** math.floor(math.log10(raw))
    for step in (m * e * k for k in (0.1, 1, 10) for m in (1, 2, 2.5, 5)):
        start, end = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
        if end - start <= n:            # at most n + 1 ticks
            break
    ticks = [round(k * step, 12) for k in range(start, end + 1)]
    return [0.0 if abs(t) < step * 1e-9 else t for t in ticks]


def _tick_text(v: float, step: float) -> str:
    """A tick label with the decimals its step needs (0.25 → 2 decimals, 50 → none)."""
    if abs(v) >= 1e4:
        return _fmt(v)
    dec = 0
    while dec < 4 and abs(round(step, dec) - step) > 1e-9:
        dec += 1
    return f"{v:.{dec}f}"


def _grid_at(left: float, w: float, py, ticks: list[float], fmt=None) -> str:
    """Horizontal grid lines with labels at ``ticks``; a darker line at 0 when 0 is inside."""
    step = (ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    parts = []
    for v in ticks:
        zero = v == 0 and ticks[0] < 0 < ticks[-1]
        label = fmt(v) if fmt else _tick_text(v, step)
        cls = ' class="zero-line"' if zero else ""
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{py(v):.1f}" y2="{py(v):.1f}" '
                     f'stroke="{"#6b7280" if zero else "#e5e7eb"}"{cls}/>'
                     f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="11">{escape(label)}</text>')
    return "".join(parts)


def _x_labels(labels: list, px, y: float, w: float, size: int = 11) -> str:
    """Category labels under an axis, every k-th one so that none overlaps the next (width
    estimated from the text: CJK characters count double)."""
    n = len(labels)
    if not n:
        return ""
    width = max(sum(2 if ord(ch) > 0x2e80 else 1 for ch in str(x)) for x in labels) * size * 0.6 + 8
    room = w / max(n - 1, 1) if n > 1 else w
    step = max(1, int(-(-width // room)))
    return "".join(f'<text x="{px(i):.1f}" y="{y}" text-anchor="middle" font-size="{size}" class="x-tick">'
                   f'{escape(str(labels[i]))}</text>' for i in range(0, n, step))


def _value_axis(px, ticks: list[float], *, top: float, bottom: float, fmt=None) -> str:
    """Vertical grid lines of a horizontal-bar chart at ``ticks`` with labels below ``bottom``."""
    step = (ticks[1] - ticks[0]) if len(ticks) > 1 else 1.0
    parts = []
    for v in ticks:
        label = fmt(v) if fmt else _tick_text(v, step)
        parts.append(f'<line x1="{px(v):.1f}" x2="{px(v):.1f}" y1="{top}" y2="{bottom}" stroke="#f3f4f6"/>'
                     f'<text x="{px(v):.1f}" y="{bottom + 14}" text-anchor="middle" font-size="10" fill="#4b5563" '
                     f'class="value-tick">{escape(label)}</text>')
    return "".join(parts)


def _y_grid(left: float, w: float, py, lo: float, span: float, ticks: int = 4) -> str:
    """Horizontal grid lines with value labels at ``lo + span·k/ticks`` (k = 0..ticks)."""
    return _grid_at(left, w, py, [lo + span * k / ticks for k in range(ticks + 1)], fmt=_fmt)


def _axis_titles(x_label: str, y_label: str, *, left: float, w: float, top: float, h: float, x_y: float,
                 y_x: float = 12, size: int = 11) -> str:
    """SVG titles of the x axis (centred below the plot, at height ``x_y``) and the y axis
    (rotated, centred beside it at ``y_x``); empty labels are left out."""
    out = ""
    if x_label:
        out += (f'<text x="{left + w / 2}" y="{x_y}" font-size="{size}" text-anchor="middle" class="axis-title">'
                f'{escape(x_label)}</text>')
    if y_label:
        out += (f'<text x="{y_x}" y="{top + h / 2}" font-size="{size}" transform="rotate(-90 {y_x} {top + h / 2})" '
                f'text-anchor="middle" class="axis-title">{escape(y_label)}</text>')
    return out


def line_chart(x: list, series: dict[str, list[float]], *, title: str = "", width: int = 720, height: int = 270,
               bands: dict[str, tuple[list[float], list[float]]] | None = None, y_label: str = "",
               x_label: str = "", tick_fmt=None) -> str:
    """Lines (one per series) over categorical x labels, with optional shaded intervals; the
    value axis at round numbers with a line at 0 when the values cross it; x labels thinned so
    that they do not collide."""
    if not x:
        return ""
    rows = -(-len(series) // 4)                     # legend rows of 4 series
    left, right, top, bottom = 56, 16, 14 + 16 * rows, 48 if x_label else 34
    w, h = width - left - right, height - top - bottom
    vals = [v for s in series.values() for v in s if v is not None and v == v]
    for lo, hi in (bands or {}).values():
        vals += [v for v in list(lo) + list(hi) if v is not None and v == v]
    lo_v, hi_v = min(vals or [0.0]), max(vals or [1.0])
    if 0 < lo_v < 0.5 * hi_v:                       # positive values near 0: start the axis at 0
        lo_v = 0.0
    ticks = nice_ticks(lo_v, hi_v)
    ymin, ymax = ticks[0], ticks[-1]
    span = (ymax - ymin) or 1.0
    n = len(x)
    px = lambda i: left + (w * i / (n - 1) if n > 1 else w / 2)
    py = lambda v: top + h - (v - ymin) / span * h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>']
    out.append(_grid_at(left, w, py, ticks, tick_fmt))
    out.append(_x_labels([str(v) for v in x], px, top + h + 16, w))
    for j, (name, ys) in enumerate(series.items()):
        color = PALETTE[j % len(PALETTE)]
        if bands and name in bands:
            lo, hi = bands[name]
            pts = [f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(hi) if v is not None] + \
                  [f"{px(i):.1f},{py(v):.1f}" for i, v in reversed(list(enumerate(lo))) if v is not None]
            out.append(f'<polygon points="{" ".join(pts)}" fill="{color}" fill-opacity="0.15" stroke="none"/>')
        pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(ys) if v is not None and v == v)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{left + 8 + 160 * (j % 4)}" y="{14 + 16 * (j // 4)}" font-size="12" '
                   f'fill="{color}">■ {escape(name)}</text>')
    out.append(_axis_titles(x_label, y_label, left=left, w=w, top=top, h=h, x_y=height - 6))
    out.append("</svg>")
    return "".join(out)


def bar_chart(labels: list[str], values: list[float], *, title: str = "", width: int = 720, bar_height: int = 22,
              color: str = PALETTE[0], value_fmt=None, x_label: str = "", ns: list | None = None) -> str:
    """Horizontal bars, one per label (negative values drawn to the left of zero), each with
    its value (and ``ns``: its number of observations), over a value axis titled ``x_label``."""
    if not labels:
        return ""
    fmt = value_fmt or _fmt
    longest = max(sum(2 if ord(ch) > 0x2e80 else 1 for ch in str(lab)) for lab in labels)
    left, right, top = min(max(120, 7 * longest + 16), 360), 110 if ns else 70, 10
    plot_h = bar_height * len(labels)
    height = top + plot_h + (40 if x_label else 24)
    w = width - left - right
    ticks = nice_ticks(min(0.0, min(values)), max(0.0, max(values)))
    lo, hi = ticks[0], ticks[-1]
    span = (hi - lo) or 1.0
    px = lambda v: left + (v - lo) / span * w  # noqa: E731
    zero = px(0.0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>', _value_axis(px, ticks, top=top, bottom=top + plot_h, fmt=value_fmt)]
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = top + i * bar_height
        x0, x1 = sorted((zero, px(v)))
        fill = color if v >= 0 else PALETTE[1]
        n_txt = f"  n={int(ns[i]):,}" if ns and ns[i] is not None else ""
        out.append(f'<text x="{left - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" font-size="12">{escape(str(lab))}</text>'
                   f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 0.5):.1f}" height="{bar_height - 6}" fill="{fill}"/>'
                   f'<text x="{max(x1, zero) + 4:.1f}" y="{y + bar_height * 0.7:.1f}" font-size="11" class="value-label">'
                   f'{escape(fmt(v))}<tspan fill="#6b7280">{escape(n_txt)}</tspan></text>')
    out.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#9ca3af"/>')
    out.append(_axis_titles(x_label, "", left=left, w=w, top=top, h=plot_h, x_y=height - 6))
    out.append("</svg>")
    return "".join(out)


def stacked_bar_chart(labels: list[str], series: dict[str, list[float]], *, title: str = "", width: int = 720,
                      height: int = 280, line: dict[str, list[float]] | None = None, x_label: str = "",
                      y_label: str = "") -> str:
    """Vertical stacked bars (one stack per label, one segment per series) with an optional
    line series drawn on the same axis (e.g. cost per customer)."""
    if not labels:
        return ""
    left, right, top, bottom = 64, 16, 40, 36
    w, h = width - left - right, height - top - bottom
    totals = [sum(max(s[i], 0) for s in series.values()) for i in range(len(labels))]
    peak = max(totals + [v for vals in (line or {}).values() for v in vals] + [1e-9])
    ymax = _nice_max(peak)
    slot = w / len(labels)
    bw = slot * 0.6
    py = lambda v: top + h - v / ymax * h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>']
    out.append(_y_grid(left, w, py, 0.0, ymax))
    for i, lab in enumerate(labels):
        x = left + slot * i + (slot - bw) / 2
        base = 0.0
        for j, vals in enumerate(series.values()):
            v = max(vals[i], 0.0)
            out.append(f'<rect x="{x:.1f}" y="{py(base + v):.1f}" width="{bw:.1f}" height="{py(base) - py(base + v):.1f}" '
                       f'fill="{PALETTE[j % len(PALETTE)]}"/>')
            base += v
        out.append(f'<text x="{x + bw / 2:.1f}" y="{top + h + 16}" text-anchor="middle" font-size="11">{escape(str(lab))}</text>')
    for j, vals in enumerate((line or {}).values()):
        color = PALETTE[(len(series) + j) % len(PALETTE)]
        pts = " ".join(f"{left + slot * i + slot / 2:.1f},{py(v):.1f}" for i, v in enumerate(vals))
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2" stroke-dasharray="5,3"/>')
    names = list(series) + list(line or {})
    for j, name in enumerate(names):
        out.append(f'<text x="{left + 8 + 120 * (j % 5)}" y="{12 + 14 * (j // 5)}" font-size="11" '
                   f'fill="{PALETTE[j % len(PALETTE)]}">■ {escape(name)}</text>')
    out.append(_axis_titles(x_label, y_label, left=left, w=w, top=top, h=h, x_y=height - 4))
    out.append("</svg>")
    return "".join(out)


def histogram(values, *, bins: int = 20, title: str = "", width: int = 720, height: int = 240, label_fmt=None) -> str:
    """Histogram of ``values`` (numpy-binned) as vertical bars."""
    import numpy as np
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return ""
    counts, edges = np.histogram(v, bins=bins)
    fmt = label_fmt or _fmt
    labels = [fmt(edges[i]) for i in range(len(counts))]
    return stacked_bar_chart(labels, {title or "count": counts.astype(float).tolist()}, title=title, width=width,
                             height=height)


# ---------------------------------------------------------------------------------------------
# voice / perception / loyalty charts (issue 4)
def interval_bar_chart(labels: list[str], values: list[float], lows: list[float] | None = None,
                       highs: list[float] | None = None, *, title: str = "", width: int = 720, bar_height: int = 24,
                       color: str = PALETTE[0], value_fmt=None, marks: list[bool] | None = None,
                       x_label: str = "", ns: list | None = None) -> str:
    """Horizontal bars with interval whiskers (e.g. 95% CIs) over a value axis at round numbers
    titled ``x_label``; each bar's value and (``ns``) its number of observations at its end;
    ``marks`` adds a * to a label (small samples). Negative values are drawn to the left of zero."""
    if not labels:
        return ""
    fmt = value_fmt or _fmt
    lows = list(lows) if lows is not None else [None] * len(values)
    highs = list(highs) if highs is not None else [None] * len(values)
    ok = lambda v: v is not None and v == v  # noqa: E731  (not NaN)
    allv = [v for v in list(values) + lows + highs if ok(v)]
    ticks = nice_ticks(min([0.0] + allv), max([0.0] + allv))
    lo, hi = ticks[0], ticks[-1]
    span = (hi - lo) or 1.0
    left, right, top = 190, 120 if ns else 80, 10
    plot_h = bar_height * len(labels)
    height = top + plot_h + (40 if x_label else 24)
    w = width - left - right
    px = lambda v: left + (v - lo) / span * w  # noqa: E731
    zero = px(0.0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>', _value_axis(px, ticks, top=top, bottom=top + plot_h, fmt=value_fmt)]
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = top + i * bar_height
        star = "*" if marks and marks[i] else ""
        out.append(f'<text x="{left - 8}" y="{y + bar_height * 0.68:.1f}" text-anchor="end" font-size="12">'
                   f'{escape(str(lab))}{star}</text>')
        if not ok(v):
            continue
        x0, x1 = sorted((zero, px(v)))
        fill = color if v >= 0 else PALETTE[1]
        out.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 0.5):.1f}" height="{bar_height - 8}" '
                   f'fill="{fill}" fill-opacity="0.8"/>')
        a, b = lows[i], highs[i]
        if ok(a) and ok(b):
            ym = y + bar_height / 2
            out.append(f'<line x1="{px(a):.1f}" x2="{px(b):.1f}" y1="{ym:.1f}" y2="{ym:.1f}" stroke="#111827"/>'
                       f'<line x1="{px(a):.1f}" x2="{px(a):.1f}" y1="{ym - 5:.1f}" y2="{ym + 5:.1f}" stroke="#111827"/>'
                       f'<line x1="{px(b):.1f}" x2="{px(b):.1f}" y1="{ym - 5:.1f}" y2="{ym + 5:.1f}" stroke="#111827"/>')
        tx = max(px(v) if v >= 0 else zero, px(b) if ok(b) else zero) + 6
        n_txt = f"  n={int(ns[i]):,}" if ns and ns[i] is not None else ""
        out.append(f'<text x="{tx:.1f}" y="{y + bar_height * 0.68:.1f}" font-size="11" class="value-label">'
                   f'{escape(fmt(v))}<tspan fill="#6b7280">{escape(n_txt)}</tspan></text>')
    out.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#9ca3af"/>')
    out.append(_axis_titles(x_label, "", left=left, w=w, top=top, h=plot_h, x_y=height - 6))
    out.append("</svg>")
    return "".join(out)


def quadrant_chart(labels: list[str], x: list[float], y: list[float], *, x_cut: float, y_cut: float,
                   quadrant_names: dict[str, str] | None = None, title: str = "", x_label: str = "",
                   y_label: str = "", width: int = 720, height: int = 420, x_range=None, y_range=None,
                   highlight: str | None = "top_left") -> str:
    """Scatter of labelled points split into four quadrants at ``x_cut`` / ``y_cut``
    (importance–performance analysis). ``quadrant_names`` keys: ``top_left``,
    ``top_right``, ``bottom_left``, ``bottom_right``."""
    if not labels:
        return ""
    left, right, top, bottom = 60, 20, 30, 46
    w, h = width - left - right, height - top - bottom
    xs, ys = list(x) + [x_cut], list(y) + [y_cut]
    xmin, xmax = min(xs), max(xs)
    ymin, ymax = min(0.0, min(ys)), max(ys)
    pad_x, pad_y = (xmax - xmin) * 0.08 or 0.5, (ymax - ymin) * 0.08 or 0.05
    xt = nice_ticks(*(x_range or (xmin - pad_x, xmax + pad_x)))
    yt = nice_ticks(*(y_range or (ymin, ymax + pad_y)))
    xmin, xmax, ymin, ymax = xt[0], xt[-1], yt[0], yt[-1]
    px = lambda v: left + (v - xmin) / ((xmax - xmin) or 1.0) * w  # noqa: E731
    py = lambda v: top + h - (v - ymin) / ((ymax - ymin) or 1.0) * h  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>',
           f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#d1d5db"/>',
           (f'<rect x="{left}" y="{top}" width="{px(x_cut) - left:.1f}" height="{py(y_cut) - top:.1f}" '
            f'fill="{PALETTE[1]}" fill-opacity="0.06"/>' if highlight == "top_left" else ""),
           f'<line x1="{px(x_cut):.1f}" x2="{px(x_cut):.1f}" y1="{top}" y2="{top + h}" stroke="#9ca3af" stroke-dasharray="4 3"/>',
           f'<line x1="{left}" x2="{left + w}" y1="{py(y_cut):.1f}" y2="{py(y_cut):.1f}" stroke="#9ca3af" stroke-dasharray="4 3"/>']
    names = quadrant_names or {}
    corners = {"top_left": (left + 6, top + 14, "start"), "top_right": (left + w - 6, top + 14, "end"),
               "bottom_left": (left + 6, top + h - 6, "start"), "bottom_right": (left + w - 6, top + h - 6, "end")}
    for key, (cx, cy, anchor) in corners.items():
        if key in names:
            out.append(f'<text x="{cx}" y="{cy}" text-anchor="{anchor}" font-size="12" fill="#6b7280">'
                       f'{escape(names[key])}</text>')
    for xv in xt:
        out.append(f'<text x="{px(xv):.1f}" y="{top + h + 16}" text-anchor="middle" font-size="11">'
                   f'{_tick_text(xv, xt[1] - xt[0])}</text>')
    for yv in yt:
        out.append(f'<text x="{left - 6}" y="{py(yv) + 4:.1f}" text-anchor="end" font-size="11">'
                   f'{_tick_text(yv, yt[1] - yt[0])}</text>')
    for lab, a, b in zip(labels, x, y):
        color = PALETTE[1] if (highlight == "top_left" and a < x_cut and b >= y_cut) else PALETTE[0]
        flip = px(a) > left + 0.8 * w       # label to the left near the right edge
        out.append(f'<circle cx="{px(a):.1f}" cy="{py(b):.1f}" r="5" fill="{color}"/>'
                   f'<text x="{px(a) + (-8 if flip else 8):.1f}" y="{py(b) + 4:.1f}" font-size="11" '
                   f'text-anchor="{"end" if flip else "start"}">{escape(str(lab))}</text>')
    out.append(_axis_titles(x_label, y_label, left=left, w=w, top=top, h=h, x_y=height - 8, y_x=14, size=12))
    out.append("</svg>")
    return "".join(out)


def path_diagram(nodes: list[tuple[str, str, str]], edges: list[tuple[str, str, float]], *, title: str = "",
                 width: int = 760, node_w: int = 150, node_h: int = 46) -> str:
    """A path model: ``nodes`` are (id, label, note) — the note (e.g. "R² 0.52 · index 71")
    goes under the label; ``edges`` are (from, to, coefficient). Nodes are laid out in
    columns by their depth in the (acyclic) model; arrow width follows |coefficient|."""
    if not nodes:
        return ""
    ids = [n[0] for n in nodes]
    preds = {i: [a for a, b, _ in edges if b == i and a in ids] for i in ids}
    depth: dict[str, int] = {}

    def d(i, seen=()):
        if i in depth:
            return depth[i]
        if i in seen:
            return 0
        depth[i] = 0 if not preds[i] else 1 + max(d(p, seen + (i,)) for p in preds[i])
        return depth[i]

    for i in ids:
        d(i)
    cols = max(depth.values()) + 1
    by_col: dict[int, list[str]] = {}
    for i in ids:
        by_col.setdefault(depth[i], []).append(i)
    rows = max(len(v) for v in by_col.values())
    gap_y = 28
    width = max(width, 40 + cols * 175)
    node_w = min(node_w, int((width - 20) / cols * 0.8))
    arcs = _arc_sides([(a, b, c) for a, b, c in edges if a in depth and b in depth and depth[b] - depth[a] > 1], depth)
    lift = lambda level: 14 + 26 * level            # noqa: E731  apex height of an arc above/below the row
    above = max([lift(lv) + 20 for sd, lv in arcs.values() if sd < 0] + [0])
    below = max([lift(lv) + 20 for sd, lv in arcs.values() if sd > 0] + [0])
    height = above + 30 + rows * (node_h + gap_y) + below
    step = (width - node_w - 20) / max(cols - 1, 1)
    pos = {}
    for c, members in by_col.items():
        total = len(members) * node_h + (len(members) - 1) * gap_y
        y0 = above + 10 + (rows * (node_h + gap_y) - gap_y - total) / 2
        for k, i in enumerate(members):
            pos[i] = (10 + c * step, y0 + k * (node_h + gap_y))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height:.0f}" class="chart diagram" role="img">',
           f'<title>{escape(title)}</title>',
           '<defs><marker id="cxarrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#374151"/></marker></defs>']
    cmax = max([abs(c) for _, _, c in edges if c == c] + [1e-9])
    labels = []
    for a, b, c in edges:
        if a not in pos or b not in pos:
            continue
        (xa, ya), (xb, yb) = pos[a], pos[b]
        sw = 1 + 3 * abs(c) / cmax if c == c else 1
        color = "#374151" if not (c == c and c < 0) else PALETTE[1]
        style = f'fill="none" stroke="{color}" stroke-width="{sw:.1f}" marker-end="url(#cxarrow)" class="edge"'
        if (a, b, c) in arcs:   # past the nodes in between: an arc above (or below) the row, its label at the apex
            side, level = arcs[(a, b, c)]
            x1, x2 = xa + node_w * 0.75, xb + node_w * 0.25
            y1, y2 = (ya, yb) if side < 0 else (ya + node_h, yb + node_h)
            apex = (min(y1, y2) - lift(level)) if side < 0 else (max(y1, y2) + lift(level))
            cy = 2 * apex - (y1 + y2) / 2                          # the curve reaches the apex at t = 0.5
            out.append(f'<path d="M {x1:.1f} {y1:.1f} Q {(x1 + x2) / 2:.1f} {cy:.1f} {x2:.1f} {y2:.1f}" {style}/>')
            labels.append(((x1 + x2) / 2, apex - 4 if side < 0 else apex + 13, c))
            continue
        x1, y1 = xa + node_w, ya + node_h / 2
        x2, y2 = xb, yb + node_h / 2
        if xb <= xa:  # same column: connect bottom to top
            x1, y1, x2, y2 = xa + node_w / 2, ya + node_h, xb + node_w / 2, yb
        out.append(f'<path d="M {x1:.1f} {y1:.1f} L {x2:.1f} {y2:.1f}" {style}/>')
        mx, my = x1 + (x2 - x1) * 0.5, y1 + (y2 - y1) * 0.5
        # beside the line, not on it: above a horizontal-ish line, to the right of a steep one
        labels.append((mx + 16, my + 4, c) if abs(x2 - x1) < abs(y2 - y1) else (mx, my - 8, c))
    for mx, my, c in labels:
        out.append(f'<text x="{mx:.1f}" y="{my:.1f}" text-anchor="middle" font-size="11" class="edge-label" '
                   f'paint-order="stroke" stroke="#ffffff" stroke-width="4">{(f"{c:.2f}" if c == c else "–").replace("-0.00", "0.00")}</text>')
    for i, lab, note in nodes:
        x, y = pos[i]
        out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{node_w}" height="{node_h}" rx="22" fill="#eff6ff" '
                   f'stroke="{PALETTE[0]}"/>'
                   f'<text x="{x + node_w / 2:.1f}" y="{y + 19:.1f}" text-anchor="middle" font-size="12" '
                   f'font-weight="bold">{escape(str(lab))}</text>')
        if note:
            out.append(f'<text x="{x + node_w / 2:.1f}" y="{y + 35:.1f}" text-anchor="middle" font-size="10" '
                       f'fill="#4b5563">{escape(str(note))}</text>')
    out.append("</svg>")
    return "".join(out)


def _arc_sides(skips, depth) -> dict:
    """Edge → (side, level) for the edges that skip columns: each goes above (−1) or below (+1)
    the row, whichever crosses fewer arcs already placed (longest first), and its level is one
    more than that of the arcs nested inside it on its side, so that nested arcs do not touch."""
    span = lambda e: (depth[e[0]], depth[e[1]])     # noqa: E731
    crosses = lambda e, f: (span(e)[0] < span(f)[0] < span(e)[1] < span(f)[1]     # noqa: E731
                            or span(f)[0] < span(e)[0] < span(f)[1] < span(e)[1])
    side = {}
    for e in sorted(skips, key=lambda e: span(e)[0] - span(e)[1]):
        n = {sd: sum(crosses(e, f) for f, s_ in side.items() if s_ == sd) for sd in (-1, 1)}
        side[e] = -1 if n[-1] <= n[1] else 1
    level = {}
    for e in sorted(skips, key=lambda e: span(e)[1] - span(e)[0]):
        inner = [level[f] for f in level if side[f] == side[e] and span(e)[0] <= span(f)[0] and span(f)[1] <= span(e)[1]]
        level[e] = 1 + max(inner, default=0)
    return {e: (side[e], level[e]) for e in skips}


def step_chart(curves: dict[str, tuple[list[float], list[float]]], *, title: str = "", width: int = 720,
               height: int = 280, bands: dict[str, tuple[list[float], list[float]]] | None = None,
               x_label: str = "", y_label: str = "", y_max: float = 1.0, marks: list[float] | None = None) -> str:
    """Right-continuous step curves on a numeric x axis (survival curves: Kaplan–Meier).

    ``curves`` maps a name to (x, y) with x increasing; ``bands`` maps the same names to
    (lower, upper) drawn as shaded steps; ``marks`` adds dotted vertical lines at those x."""
    if not curves:
        return ""
    left, right, top, bottom = 56, 16, 28, 44
    w, h = width - left - right, height - top - bottom
    xmax = max((max(xs) for xs, _ in curves.values() if len(xs)), default=1.0) or 1.0
    px = lambda v: left + w * v / xmax
    py = lambda v: top + h - v / y_max * h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>']
    out.append(_y_grid(left, w, py, 0.0, y_max))
    step = next((s_ * 10 ** e for e in range(-3, 12) for s_ in (1, 2, 3, 5, 6) if s_ * 10 ** e >= xmax / 7), xmax)
    for k in range(int(xmax // step) + 1):
        v = k * step
        out.append(f'<text x="{px(v):.1f}" y="{top + h + 16}" text-anchor="middle" font-size="11">{_fmt(v)}</text>')
    for m in marks or ():
        if 0 <= m <= xmax:
            out.append(f'<line x1="{px(m):.1f}" x2="{px(m):.1f}" y1="{top}" y2="{top + h}" stroke="#9ca3af" '
                       f'stroke-dasharray="3,3"/>')

    def steps(xs, ys):
        pts, prev = [], None
        for x, y in zip(xs, ys):
            if y is None or y != y:
                continue
            if prev is not None:
                pts.append(f"{px(x):.1f},{py(prev):.1f}")
            pts.append(f"{px(x):.1f},{py(y):.1f}")
            prev = y
        return pts

    for j, (name, (xs, ys)) in enumerate(curves.items()):
        color = PALETTE[j % len(PALETTE)]
        if bands and name in bands:
            lo, hi = bands[name]
            up, down = steps(xs, hi), steps(xs, lo)
            if up and down:
                out.append(f'<polygon points="{" ".join(up + down[::-1])}" fill="{color}" fill-opacity="0.12" '
                           f'stroke="none"/>')
        pts = steps(xs, ys)
        out.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{left + 8 + 150 * j}" y="{top - 10}" font-size="12" fill="{color}">■ {escape(name)}</text>')
    out.append(_axis_titles(x_label, y_label, left=left, w=w, top=top, h=h, x_y=height - 6))
    out.append("</svg>")
    return "".join(out)


def stacked_area_chart(x: list, series: dict[str, list[float]], *, title: str = "", width: int = 720,
                       height: int = 260, share: bool = False, x_label: str = "", y_label: str = "") -> str:
    """Stacked areas (one per series, bottom first) over categorical x labels; ``share=True``
    stacks shares of the column total (0–1) instead of counts."""
    if not x or not series:
        return ""
    left, right, top, bottom = 56, 16, 28, 40
    w, h = width - left - right, height - top - bottom
    names = list(series)
    vals = [[float(v or 0) for v in series[k]] for k in names]
    totals = [sum(col) for col in zip(*vals)]
    if share:
        vals = [[v / t if t else 0.0 for v, t in zip(row, totals)] for row in vals]
    ymax = 1.0 if share else _nice_max(max(totals) if totals else 1.0)
    n = len(x)
    px = lambda i: left + (w * i / (n - 1) if n > 1 else w / 2)
    py = lambda v: top + h - v / ymax * h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>']
    out.append(_y_grid(left, w, py, 0.0, ymax))
    out.append(_x_labels([str(v) for v in x], px, top + h + 16, w))
    base = [0.0] * n
    for j, (name, row) in enumerate(zip(names, vals)):
        color = PALETTE[j % len(PALETTE)]
        upper = [b + v for b, v in zip(base, row)]
        pts = [f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(upper)] + \
              [f"{px(i):.1f},{py(v):.1f}" for i, v in reversed(list(enumerate(base)))]
        out.append(f'<polygon points="{" ".join(pts)}" fill="{color}" fill-opacity="0.75" stroke="{color}"/>')
        out.append(f'<text x="{left + 8 + 130 * j}" y="{top - 10}" font-size="12" fill="{color}">■ {escape(name)}</text>')
        base = upper
    out.append(_axis_titles(x_label, y_label, left=left, w=w, top=top, h=h, x_y=height - 4))
    out.append("</svg>")
    return "".join(out)
