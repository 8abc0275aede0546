"""An OFD page drawn as pixels: for OCR of a page whose text is drawn as outlines (no
text object to read), and for the site's page image with a cell's box on it.

No maintained library draws OFD without pulling in an AGPL renderer (PyMuPDF through
easyofd), and what a report page holds is simple: filled and stroked paths (glyph
outlines, ruling lines) and text objects. Paths are drawn with Pillow (a subpath inside
another cuts a hole, as in a glyph's counter: even-odd), text with a CJK system font
(fonts-noto-cjk or WenQuanYi; without one, each character is a grey box in its place).
The page is drawn at twice the size and reduced, so edges are smooth as in a scan.
"""
from __future__ import annotations

import math
import os
import shutil
import subprocess
from functools import lru_cache
from typing import Any

from .ofd import (
    DEFAULT_LINE_WIDTH,
    PT_PER_MM,
    _child,
    _ctm,
    _Document,
    _Drawn,
    _float,
    outline,
    painted,
)

SUPERSAMPLE = 2
SUPERSAMPLE_MAX_PIXELS = 16_000_000  # pages larger than this (an A4 page at 200 dpi: 3.9 M) are not drawn larger
MAX_SHAPES = 100_000  # path objects drawn on one page (a real page of outlined text: a few thousand)
MAX_POINTS = 2_000_000  # points of all paths of one page, curves flattened
CURVE_STEPS = 8  # segments per Bézier curve: a glyph's curve spans a few pixels
FONT_PATHS = ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
              "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
              "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")


def page_size(data: bytes, page_no: int) -> tuple[float, float] | None:
    """Width and height in points of page `page_no` (1-based), None when there is no such page."""
    doc = _Document(data)
    path = _path_of(doc, page_no)
    if path is None:
        return None
    box, _ = doc.page(path)
    return (box[2] - box[0]) * PT_PER_MM, (box[3] - box[1]) * PT_PER_MM


def render(data: bytes, page_no: int, scale: float) -> Any:
    """Page `page_no` of the package as a greyscale PIL image at `scale` pixels per
    point, or None when there is no such page."""
    doc = _Document(data)
    path = _path_of(doc, page_no)
    if path is None:
        return None
    box, contents = doc.page(path)
    return _draw(box, contents, scale)


def paint(box: tuple[float, float, float, float], contents: list[Any], dpi: float) -> Any:
    """A page already parsed (its box in mm and Content elements) as a greyscale numpy
    image at `dpi`, within raster.MAX_PIXELS (what the OCR reads)."""
    import numpy as np

    from .raster import MAX_PIXELS

    w, h = (box[2] - box[0]) * PT_PER_MM, (box[3] - box[1]) * PT_PER_MM
    scale = min(dpi / 72, math.sqrt(MAX_PIXELS / max(1.0, w * h)))
    return np.asarray(_draw(box, contents, scale))


def _path_of(doc: _Document, page_no: int) -> str | None:
    for no, path in doc.pages():
        if no == page_no:
            # A page listed again is drawn as the page it repeats.
            return path or doc.pkg.resolve(doc.base, doc.refs[no - 1].get("BaseLoc", ""))
    return None


def _draw(box: tuple[float, float, float, float], contents: list[Any], scale: float) -> Any:
    from PIL import Image, ImageDraw

    painter = _Painter()
    for content in contents:
        painter.content(content)
    w, h = (box[2] - box[0]) * PT_PER_MM * scale, (box[3] - box[1]) * PT_PER_MM * scale
    k = SUPERSAMPLE if w * h <= SUPERSAMPLE_MAX_PIXELS else 1  # a huge page: drawn at its size
    # The page's own origin: a PhysicalBox need not start at 0 0.
    ox, oy = box[0] * PT_PER_MM, box[1] * PT_PER_MM
    size = (max(1, round(w)), max(1, round(h)))
    img = Image.new("L", (size[0] * k, size[1] * k), 255)
    draw = ImageDraw.Draw(img)
    for shape in painter.shapes:
        _shape(img, draw, shape, scale * k, ox, oy)
    _chars(draw, painter.chars, scale * k, ox, oy)
    return img.resize(size, Image.Resampling.BOX) if k > 1 else img


class _Painter(_Drawn):
    """The page's objects as shapes to draw (the text objects' characters as _Drawn
    places them): (subpaths in points, closed flags, fill grey or None, stroke grey or
    None, line width in points)."""

    def __init__(self) -> None:
        super().__init__()
        self.shapes: list[tuple[list[list[tuple[float, float]]], list[bool], int | None, int | None, float]] = []
        self.points = 0

    def _path(self, obj: Any) -> None:
        if len(self.shapes) >= MAX_SHAPES or self.points >= MAX_POINTS:
            return
        stroke, fill = painted(obj)
        if not stroke and not fill:
            return
        subpaths, closed, _ = outline(obj, CURVE_STEPS, MAX_POINTS - self.points)
        if not subpaths:
            return
        self.points += sum(len(p) for p in subpaths)
        ctm = _ctm(obj)
        scale = math.sqrt(abs(ctm[0] * ctm[3] - ctm[1] * ctm[2])) if ctm else 1.0
        width = _float(obj.get("LineWidth"), DEFAULT_LINE_WIDTH) * scale * PT_PER_MM
        self.shapes.append((subpaths, closed, _grey(obj, "FillColor") if fill else None,
                            _grey(obj, "StrokeColor") if stroke else None, width))


def _grey(obj: Any, name: str) -> int:
    """The object's colour as one grey level (black unless it says otherwise)."""
    el = _child(obj, name)
    vals = [_float(v, 0.0) for v in ((el.get("Value") if el is not None else None) or "0 0 0").split()]
    if len(vals) < 3:
        return int(max(0.0, min(255.0, vals[0]))) if vals else 0
    r, g, b = (max(0.0, min(255.0, v)) for v in vals[:3])
    return int(0.299 * r + 0.587 * g + 0.114 * b)


def _shape(img: Any, draw: Any, shape: tuple, scale: float, ox: float, oy: float) -> None:
    from PIL import Image, ImageChops, ImageDraw

    subpaths, closed, fill, stroke, width = shape
    px = [[((x - ox) * scale, (y - oy) * scale) for x, y in sp] for sp in subpaths]
    rings = [p for p in px if len(p) >= 3]
    if fill is not None and rings:
        if len(rings) == 1:
            draw.polygon(rings[0], fill=fill)
        else:
            # Even-odd: a ring inside another (the counter of 口) is a hole.
            x0 = max(0, int(min(x for r in rings for x, _ in r)))
            y0 = max(0, int(min(y for r in rings for _, y in r)))
            x1 = min(img.width, int(max(x for r in rings for x, _ in r)) + 2)
            y1 = min(img.height, int(max(y for r in rings for _, y in r)) + 2)
            if x1 > x0 and y1 > y0:
                mask = Image.new("1", (x1 - x0, y1 - y0), 0)
                for ring in rings:
                    one = Image.new("1", mask.size, 0)
                    ImageDraw.Draw(one).polygon([(x - x0, y - y0) for x, y in ring], fill=1)
                    mask = ImageChops.logical_xor(mask, one)
                img.paste(fill, (x0, y0, x1, y1), mask)
    if stroke is not None:
        w = max(1, round(width * scale))
        for p, c in zip(px, closed):
            if len(p) >= 2:
                draw.line(p + [p[0]] if c else p, fill=stroke, width=w)


def _chars(draw: Any, chars: list[tuple], scale: float, ox: float, oy: float) -> None:
    path = font_path()
    for ch, x0, top, x1, bottom in chars:
        if not ch.strip():
            continue
        size = (bottom - top) * scale
        if size < 1 or size > 5000:
            continue
        if path is None:
            draw.rectangle([(x0 - ox) * scale, (top - oy) * scale, (x1 - ox) * scale, (bottom - oy) * scale], fill=160)
            continue
        baseline = bottom - (bottom - top) * 0.12  # where ofd._Drawn put the glyph's baseline
        draw.text(((x0 - ox) * scale, (baseline - oy) * scale), ch, fill=0, font=_font(path, round(size)), anchor="ls")


@lru_cache(maxsize=1)
def font_path() -> str | None:
    """A font with the CJK characters: a known system path, else fontconfig's choice."""
    for path in FONT_PATHS:
        if os.path.exists(path):
            return path
    if shutil.which("fc-match"):
        try:
            out = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh-cn"], capture_output=True, text=True, check=False,
                                 timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return None
        return out if out and os.path.exists(out) else None
    return None


@lru_cache(maxsize=64)
def _font(path: str, size: int) -> Any:
    from PIL import ImageFont

    return ImageFont.truetype(path, max(1, size))
