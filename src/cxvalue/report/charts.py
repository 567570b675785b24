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
    for k in range(5):
        v = ymin + span * k / 4
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#e5e7eb"/>'
                   f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="11">{_fmt(v)}</text>')
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
    if y_label:
        out.append(f'<text x="12" y="{top + h / 2}" font-size="11" transform="rotate(-90 12 {top + h / 2})" '
                   f'text-anchor="middle">{escape(y_label)}</text>')
    out.append("</svg>")
    return "".join(out)


def bar_chart(labels: list[str], values: list[float], *, title: str = "", width: int = 720, bar_height: int = 22,
              color: str = PALETTE[0], value_fmt=None) -> str:
    """Horizontal bars, one per label (negative values drawn to the left of zero)."""
    if not labels:
        return ""
    fmt = value_fmt or _fmt
    left, right, top = 180, 70, 10
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
    for k in range(5):
        v = ymax * k / 4
        out.append(f'<line x1="{left}" x2="{left + w}" y1="{py(v):.1f}" y2="{py(v):.1f}" stroke="#e5e7eb"/>'
                   f'<text x="{left - 6}" y="{py(v) + 4:.1f}" text-anchor="end" font-size="11">{_fmt(v)}</text>')
    for i, lab in enumerate(labels):
        x = left + slot * i + (slot - bw) / 2
        base = 0.0
        for j, vals in enumerate(series.values()):
            v = max(vals[i], 0.0)
            out.append(f'<rect x="{x:.1f}" y="{py(base + v):.1f}" width="{bw:.1f}" height="{py(base) - py(base + v):.1f}" '
                       f'fill="{PALETTE[j % len(PALETTE)]}"/>')
            base += v
        out.append(f'<text x="{x + bw / 2:.1f}" y="{top + h + 16}" text-anchor="middle" font-size="11">{escape(str(lab))}</text>')
    for j, (name, vals) in enumerate((line or {}).items()):
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
