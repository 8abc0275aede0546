"""Trend charts drawn as SVG on the server.

The site must work with no internet and no JavaScript bundle to vendor: an inline SVG
is one HTTP response, prints, and can be tested by reading its text. Every label is
escaped; numbers come from SQL sums (None means no data and is skipped).
"""
from __future__ import annotations

from html import escape

PALETTE = ["#1f77b4", "#2ca02c", "#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"]
W, H, PAD_L, PAD_R, PAD_T, PAD_B = 720, 300, 70, 20, 20, 60


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1
    mag = 10 ** (len(str(int(v))) - 1)
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * mag:
            return m * mag
    return 10 * mag


def _fmt(v: float) -> str:
    return f"{v / 10000:g}万" if v >= 10000 else f"{v:g}"


def _axes(ymax: float, xs: list, title: str, unit: str = "") -> list[str]:
    out = [f'<text x="{PAD_L}" y="14" font-size="13" font-weight="bold">{escape(title)}</text>']
    ph = H - PAD_T - PAD_B
    for i in range(5):
        v = ymax * i / 4
        y = PAD_T + ph - ph * i / 4
        out.append(f'<line x1="{PAD_L}" x2="{W - PAD_R}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{PAD_L - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{_fmt(v)}{escape(unit)}</text>')
    step = (W - PAD_L - PAD_R) / max(1, len(xs))
    for i, x in enumerate(xs):
        out.append(f'<text x="{PAD_L + step * (i + 0.5):.1f}" y="{H - PAD_B + 16}" font-size="11" '
                   f'text-anchor="middle">{escape(str(x))}</text>')
    return out


def _legend(names: list[str]) -> list[str]:
    out, x = [], PAD_L
    for i, n in enumerate(names):
        out.append(f'<rect x="{x}" y="{H - 22}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>')
        out.append(f'<text x="{x + 14}" y="{H - 13}" font-size="11">{escape(n)}</text>')
        x += 22 + 12 * len(n)
    return out


def _svg(parts: list[str], label: str, height: int = H) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {height}" width="{W}" height="{height}" '
            f'role="img" aria-label="{escape(label)}" class="nianbao-chart">' + "".join(parts) + "</svg>")


def lines(title: str, xs: list, series: dict[str, list[float | None]], unit: str = "") -> str:
    """One line per series over the x values (years)."""
    ymax = _nice_max(max((v for vs in series.values() for v in vs if v is not None), default=0))
    parts = _axes(ymax, xs, title, unit)
    step = (W - PAD_L - PAD_R) / max(1, len(xs))
    ph = H - PAD_T - PAD_B
    for i, (name, vs) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        pts = [(PAD_L + step * (j + 0.5), PAD_T + ph - ph * v / ymax) for j, v in enumerate(vs) if v is not None]
        if pts:
            d = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{d}"/>')
            for (x, y), v in zip(pts, [v for v in vs if v is not None]):
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"><title>{escape(name)}：{v:g}</title></circle>')
    return _svg(parts + _legend(list(series)), title)


def stacked(title: str, xs: list, series: dict[str, list[float | None]], percent: bool = False) -> str:
    """Stacked bars per x; with `percent`, each bar shows shares of its own total."""
    totals = [sum((vs[j] or 0) for vs in series.values()) for j in range(len(xs))]
    ymax = 100 if percent else _nice_max(max(totals, default=0))
    parts = _axes(ymax, xs, title, "%" if percent else "")
    step = (W - PAD_L - PAD_R) / max(1, len(xs))
    ph = H - PAD_T - PAD_B
    for j in range(len(xs)):
        base = 0.0
        for i, (name, vs) in enumerate(series.items()):
            v = vs[j] or 0
            if percent:
                v = 100 * v / totals[j] if totals[j] else 0
            h = ph * v / ymax
            y = PAD_T + ph - ph * base / ymax - h
            parts.append(f'<rect x="{PAD_L + step * j + step * 0.15:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" '
                         f'height="{h:.1f}" fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(str(xs[j]))} '
                         f'{escape(name)}：{v:.1f}{"%" if percent else ""}</title></rect>')
            base += v
    return _svg(parts + _legend(list(series)), title)


def bars(title: str, items: list[tuple[str, float | None]]) -> str:
    """Horizontal bars, one per labelled value (e.g. refusal reasons)."""
    row_h, left = 24, 230
    height = PAD_T + 10 + row_h * len(items) + 10
    vmax = _nice_max(max((v or 0 for _, v in items), default=0))
    parts = [f'<text x="4" y="14" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i, (label, v) in enumerate(items):
        y = PAD_T + 10 + i * row_h
        w = (W - left - 80) * (v or 0) / vmax
        parts.append(f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="11">{"—" if v is None else f"{v:g}"}</text>')
    return _svg(parts, title, height)
