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


def _y_grid(left: float, w: float, py, lo: float, span: float, ticks: int = 4) -> str:
    """Horizontal grid lines with value labels at ``lo + span·k/ticks`` (k = 0..ticks)."""
    parts = []
    for k in range(ticks + 1):
        v = lo + span * k / ticks
        parts.append(f'<line x1="{left}" x2="{left + w}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="11">{_fmt(v)}</text>')
    return "".join(parts)


def _axis_titles(x_label: str, y_label: str, *, left: float, w: float, top: float, h: float, x_y: float,
                 y_x: float = 12, size: int = 11) -> str:
    """SVG titles of the x axis (centred below the plot, at height ``x_y``) and the y axis
    (rotated, centred beside it at ``y_x``); empty labels are left out."""
    out = ""
    if x_label:
        out += f'<text x="{left + w / 2}" y="{x_y}" font-size="{size}" text-anchor="middle">{escape(x_label)}</text>'
    if y_label:
        out += (f'<text x="{y_x}" y="{top + h / 2}" font-size="{size}" transform="rotate(-90 {y_x} {top + h / 2})" '
                f'text-anchor="middle">{escape(y_label)}</text>')
    return out


def line_chart(x: list, series: dict[str, list[float]], *, title: str = "", width: int = 720, height: int = 260,
               bands: dict[str, tuple[list[float], list[float]]] | None = None, y_label: str = "") -> str:
    """Lines (one per series) over categorical x labels, with optional shaded intervals."""
    if not x:
        return ""
    left, right, top, bottom = 56, 16, 28, 40
    w, h = width - left - right, height - top - bottom
    vals = [v for s in series.values() for v in s if v is not None]
    for lo, hi in (bands or {}).values():
        vals += [v for v in lo + hi if v is not None]
    ymin = min(0.0, min(vals)) if vals else 0.0
    ymax = _nice_max(max(vals)) if vals else 1.0
    span = (ymax - ymin) or 1.0
    n = len(x)
    px = lambda i: left + (w * i / (n - 1) if n > 1 else w / 2)
    py = lambda v: top + h - (v - ymin) / span * h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>']
    out.append(_y_grid(left, w, py, ymin, span))
    step = max(1, n // 12)
    for i in range(0, n, step):
        out.append(f'<text x="{px(i):.1f}" y="{top + h + 16}" text-anchor="middle" font-size="11">{escape(str(x[i]))}</text>')
    for j, (name, ys) in enumerate(series.items()):
        color = PALETTE[j % len(PALETTE)]
        if bands and name in bands:
            lo, hi = bands[name]
            pts = [f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(hi)] + \
                  [f"{px(i):.1f},{py(v):.1f}" for i, v in reversed(list(enumerate(lo)))]
            out.append(f'<polygon points="{" ".join(pts)}" fill="{color}" fill-opacity="0.15" stroke="none"/>')
        pts = " ".join(f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(ys) if v is not None)
        out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="2"/>')
        out.append(f'<text x="{left + 8 + 140 * j}" y="{top - 10}" font-size="12" fill="{color}">■ {escape(name)}</text>')
    out.append(_axis_titles("", y_label, left=left, w=w, top=top, h=h, x_y=height - 6))
    out.append("</svg>")
    return "".join(out)


def bar_chart(labels: list[str], values: list[float], *, title: str = "", width: int = 720, bar_height: int = 22,
              color: str = PALETTE[0], value_fmt=None) -> str:
    """Horizontal bars, one per label (negative values drawn to the left of zero)."""
    if not labels:
        return ""
    fmt = value_fmt or _fmt
    longest = max(sum(2 if ord(ch) > 0x2e80 else 1 for ch in str(lab)) for lab in labels)
    left, right, top = min(max(120, 7 * longest + 16), 360), 70, 10
    height = top * 2 + bar_height * len(labels)
    w = width - left - right
    lo, hi = min(0.0, min(values)), max(0.0, max(values))
    span = (hi - lo) or 1.0
    zero = left + (-lo) / span * w
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>']
    for i, (lab, v) in enumerate(zip(labels, values)):
        y = top + i * bar_height
        x0 = zero if v >= 0 else zero - abs(v) / span * w
        bw = abs(v) / span * w
        fill = color if v >= 0 else PALETTE[1]
        out.append(f'<text x="{left - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" font-size="12">{escape(str(lab))}</text>'
                   f'<rect x="{x0:.1f}" y="{y + 3}" width="{max(bw, 0.5):.1f}" height="{bar_height - 6}" fill="{fill}"/>'
                   f'<text x="{(x0 + bw + 4) if v >= 0 else (x0 - 4):.1f}" y="{y + bar_height * 0.7:.1f}" font-size="11" '
                   f'text-anchor="{"start" if v >= 0 else "end"}">{escape(fmt(v))}</text>')
    out.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{height - top}" stroke="#9ca3af"/></svg>')
    return "".join(out)


def stacked_bar_chart(labels: list[str], series: dict[str, list[float]], *, title: str = "", width: int = 720,
                      height: int = 280, line: dict[str, list[float]] | None = None) -> str:
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
                       color: str = PALETTE[0], value_fmt=None, marks: list[bool] | None = None) -> str:
    """Horizontal bars with interval whiskers (e.g. 95% CIs); ``marks`` adds a * to a label
    (small samples). Negative values are drawn to the left of zero."""
    if not labels:
        return ""
    fmt = value_fmt or _fmt
    lows = list(lows) if lows is not None else [None] * len(values)
    highs = list(highs) if highs is not None else [None] * len(values)
    ok = lambda v: v is not None and v == v  # noqa: E731  (not NaN)
    allv = [v for v in list(values) + lows + highs if ok(v)]
    lo, hi = min([0.0] + allv), max([0.0] + allv)
    span = (hi - lo) or 1.0
    left, right, top = 190, 80, 10
    height = top * 2 + bar_height * len(labels)
    w = width - left - right
    px = lambda v: left + (v - lo) / span * w  # noqa: E731
    zero = px(0.0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>']
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
        out.append(f'<text x="{tx:.1f}" y="{y + bar_height * 0.68:.1f}" font-size="11">{escape(fmt(v))}</text>')
    out.append(f'<line x1="{zero:.1f}" x2="{zero:.1f}" y1="{top}" y2="{height - top}" stroke="#9ca3af"/></svg>')
    return "".join(out)


def quadrant_chart(labels: list[str], x: list[float], y: list[float], *, x_cut: float, y_cut: float,
                   quadrant_names: dict[str, str] | None = None, title: str = "", x_label: str = "",
                   y_label: str = "", width: int = 720, height: int = 420) -> str:
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
    xmin, xmax, ymax = xmin - pad_x, xmax + pad_x, ymax + pad_y
    px = lambda v: left + (v - xmin) / ((xmax - xmin) or 1.0) * w  # noqa: E731
    py = lambda v: top + h - (v - ymin) / ((ymax - ymin) or 1.0) * h  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>',
           f'<rect x="{left}" y="{top}" width="{w}" height="{h}" fill="none" stroke="#d1d5db"/>',
           f'<rect x="{left}" y="{top}" width="{px(x_cut) - left:.1f}" height="{py(y_cut) - top:.1f}" '
           f'fill="{PALETTE[1]}" fill-opacity="0.06"/>',
           f'<line x1="{px(x_cut):.1f}" x2="{px(x_cut):.1f}" y1="{top}" y2="{top + h}" stroke="#9ca3af" stroke-dasharray="4 3"/>',
           f'<line x1="{left}" x2="{left + w}" y1="{py(y_cut):.1f}" y2="{py(y_cut):.1f}" stroke="#9ca3af" stroke-dasharray="4 3"/>']
    names = quadrant_names or {}
    corners = {"top_left": (left + 6, top + 14, "start"), "top_right": (left + w - 6, top + 14, "end"),
               "bottom_left": (left + 6, top + h - 6, "start"), "bottom_right": (left + w - 6, top + h - 6, "end")}
    for key, (cx, cy, anchor) in corners.items():
        if key in names:
            out.append(f'<text x="{cx}" y="{cy}" text-anchor="{anchor}" font-size="12" fill="#6b7280">'
                       f'{escape(names[key])}</text>')
    for k in range(5):
        xv = xmin + (xmax - xmin) * k / 4
        yv = ymin + (ymax - ymin) * k / 4
        out.append(f'<text x="{px(xv):.1f}" y="{top + h + 16}" text-anchor="middle" font-size="11">{_fmt(xv)}</text>'
                   f'<text x="{left - 6}" y="{py(yv) + 4:.1f}" text-anchor="end" font-size="11">{_fmt(yv)}</text>')
    for lab, a, b in zip(labels, x, y):
        color = PALETTE[1] if (a < x_cut and b >= y_cut) else PALETTE[0]
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
    height = 40 + rows * (node_h + gap_y)
    step = (width - node_w - 20) / max(cols - 1, 1)
    pos = {}
    for c, members in by_col.items():
        total = len(members) * node_h + (len(members) - 1) * gap_y
        y0 = (height - total) / 2
        for k, i in enumerate(members):
            pos[i] = (10 + c * step, y0 + k * (node_h + gap_y))
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" class="chart" role="img">',
           f'<title>{escape(title)}</title>',
           '<defs><marker id="cxarrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#374151"/></marker></defs>']
    cmax = max([abs(c) for _, _, c in edges if c == c] + [1e-9])
    for a, b, c in edges:
        if a not in pos or b not in pos:
            continue
        (xa, ya), (xb, yb) = pos[a], pos[b]
        x1, y1 = xa + node_w, ya + node_h / 2
        x2, y2 = xb, yb + node_h / 2
        if xb <= xa:  # same column: connect bottom to top
            x1, y1, x2, y2 = xa + node_w / 2, ya + node_h, xb + node_w / 2, yb
        sw = 1 + 3 * abs(c) / cmax if c == c else 1
        color = "#374151" if not (c == c and c < 0) else PALETTE[1]
        out.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" '
                   f'stroke-width="{sw:.1f}" marker-end="url(#cxarrow)"/>')
        mx, my = x1 + (x2 - x1) * 0.5, y1 + (y2 - y1) * 0.5
        out.append(f'<rect x="{mx - 20:.1f}" y="{my - 9:.1f}" width="40" height="16" rx="3" fill="#ffffff"/>'
                   f'<text x="{mx:.1f}" y="{my + 4:.1f}" text-anchor="middle" font-size="11">{c:.2f}</text>')
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
                       height: int = 260, share: bool = False) -> str:
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
    step = max(1, n // 12)
    for i in range(0, n, step):
        out.append(f'<text x="{px(i):.1f}" y="{top + h + 16}" text-anchor="middle" font-size="11">{escape(str(x[i]))}</text>')
    base = [0.0] * n
    for j, (name, row) in enumerate(zip(names, vals)):
        color = PALETTE[j % len(PALETTE)]
        upper = [b + v for b, v in zip(base, row)]
        pts = [f"{px(i):.1f},{py(v):.1f}" for i, v in enumerate(upper)] + \
              [f"{px(i):.1f},{py(v):.1f}" for i, v in reversed(list(enumerate(base)))]
        out.append(f'<polygon points="{" ".join(pts)}" fill="{color}" fill-opacity="0.75" stroke="{color}"/>')
        out.append(f'<text x="{left + 8 + 130 * j}" y="{top - 10}" font-size="12" fill="{color}">■ {escape(name)}</text>')
        base = upper
    out.append("</svg>")
    return "".join(out)
