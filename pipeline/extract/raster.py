"""Pages as pixels (scans, photographed pages, images): straighten, find the ruling
lines, read the words, and hand characters and rules to the same `Pages` assembler
as PDF and OFD, so lattices, table interpretation and validation are shared.

Every OCR'd table cell gets `ocr_conf` (the lowest recogniser confidence among its
characters) in its provenance; a cell holding a figure read below `THRESHOLD` gets
`doubt`, which the table interpreter turns into NULL with that reason — a figure the
engine is unsure of is never stored as if it were read.
"""
from __future__ import annotations

import io
import re
from typing import Any

from ..model import Extracted
from . import ocr
from .pdf_layout import ocr_verdict

THRESHOLD = 0.90  # recogniser confidence below which a figure is not trusted
DPI = 200  # scans are rendered/normalised to this resolution before OCR
MAX_PIXELS = 40_000_000  # one page image; larger ones are scaled down first
MAX_SKEW = 3.0  # degrees searched when straightening a page
MAX_FRAMES = 200  # pages of one multi-page TIFF/GIF
PAGE_INCHES = (2.5, 24.0)  # widths an image's stated dpi may give a page: A6 (4.1 in) to A1 (23.4 in), with margin
MIN_SIDE = 24  # pixels: a smaller page holds no readable line
FAINT = 25  # grey levels below a cell's paper that count as faint print where nothing reaches 200
MAX_CELL_READS = 400  # cells read alone per page: a report page has ~200 cells
MAX_ASPECT = 20  # a page is at most 20 times longer than wide (an A4 page: 1.4)
TALL = 2.0  # a frame more than twice as long as wide holds several pages: read in page-long strips
PAGE_RATIO = 2 ** 0.5  # an A4 page's length over its width: how long a strip is meant to be


def straighten(gray: Any) -> tuple[Any, float]:
    """The page rotated so its text lines and rules are level: the angle whose
    row profile of ink is sharpest (projection profile), searched coarse then fine."""
    import cv2
    import numpy as np

    ink = _ink(gray)
    h, w = ink.shape
    f = min(1.0, 900 / max(h, w))
    small = cv2.resize(ink, (max(1, int(w * f)), max(1, int(h * f))), interpolation=cv2.INTER_AREA)

    def sharpness(angle: float) -> float:
        m = cv2.getRotationMatrix2D((small.shape[1] / 2, small.shape[0] / 2), angle, 1.0)
        rot = cv2.warpAffine(small, m, (small.shape[1], small.shape[0]), flags=cv2.INTER_NEAREST)
        prof = rot.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(prof)).sum())

    best = max(np.arange(-MAX_SKEW, MAX_SKEW + 1e-6, 0.25), key=sharpness)
    best = float(max(np.arange(best - 0.25, best + 0.25 + 1e-6, 0.05), key=sharpness))
    out = _rotate(gray, best) if abs(best) >= 0.05 else gray
    # The profile is set by text lines, a few pixels tall at this scale; long ruling
    # lines tell the rest of the angle precisely (a table 2,000 px tall must not drift
    # by a column's rule width from top to bottom).
    rest = _rule_slope(out)
    if abs(rest) >= 0.02:
        cand = _rotate(gray, best + rest)
        if abs(_rule_slope(cand)) > abs(rest):
            cand = _rotate(gray, best - rest)
        if abs(_rule_slope(cand)) < abs(rest):
            out, best = cand, best + rest if cand is not None else best
    return out, best


def page_quad(gray: Any) -> Any | None:
    """The four corners (top-left, top-right, bottom-right, bottom-left; float32 pixels)
    of a page photographed on a darker ground, or None for a page that fills its image
    (a scan). The paper is the largest bright region once print is closed over; it is a
    photographed page when it leaves ground on every side and its outline is four-cornered."""
    import cv2
    import numpy as np

    h, w = gray.shape[:2]
    f = min(1.0, 600 / max(h, w))
    small = cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (5, 5), 0)
    _, paper = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    paper = cv2.morphologyEx(paper, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(paper, connectivity=4)
    if n < 2:
        return None
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, cw, ch, area = stats[k]
    sh, sw = small.shape
    if area < 0.3 * sh * sw or x <= 1 or y <= 1 or x + cw >= sw - 1 or y + ch >= sh - 1:
        return None  # no page-sized paper, or paper to an edge of the image: nothing to take away
    ground = small[labels == 0]
    if ground.size == 0 or float(np.median(small[labels == k])) - float(np.median(ground)) < 40:
        return None
    contours, _ = cv2.findContours((labels == k).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    quad = cv2.approxPolyDP(hull, 0.02 * cv2.arcLength(hull, True), True).reshape(-1, 2).astype(np.float32)
    if len(quad) != 4 or cv2.contourArea(quad) < 0.9 * area:
        return None
    s, d = quad.sum(axis=1), np.diff(quad, axis=1).ravel()
    return np.float32([quad[np.argmin(s)], quad[np.argmin(d)], quad[np.argmax(s)], quad[np.argmax(d)]]) / f


def unwarp(image: Any, quad: Any) -> tuple[Any, Any]:
    """The photographed page (grey or RGB) seen square-on and evenly lit, and the
    3×3 matrix from its pixels back to the photograph's."""
    import cv2
    import numpy as np

    tl, tr, br, bl = quad
    width = round(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = round(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    flat = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    m = cv2.getPerspectiveTransform(np.float32(quad), flat)
    page = cv2.warpPerspective(image, m, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    # Light falls off across a photographed page: divide by the paper's own brightness
    # (print closed over), so a fixed threshold reads the dim side as it reads the bright one.
    grey = page if page.ndim == 2 else page.min(axis=2)
    paper = cv2.morphologyEx(grey, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (41, 41)))
    paper = cv2.GaussianBlur(paper, (0, 0), 15).astype(np.float32)
    scale = 255.0 / np.maximum(paper, 1.0)
    page = np.clip(page * (scale[..., None] if page.ndim == 3 else scale), 0, 255).astype(np.uint8)
    return page, np.linalg.inv(m)


def _rotate(gray: Any, angle: float, border: int = 255) -> Any:
    import cv2

    h, w = gray.shape
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    return cv2.warpAffine(gray, m, (w, h), flags=cv2.INTER_LINEAR, borderValue=border)


def _rule_slope(gray: Any) -> float:
    """Median slope in degrees of the long horizontal rules (0 without any)."""
    import math

    import cv2
    import numpy as np

    ink = _ink(gray)
    w = gray.shape[1]
    mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (max(20, w // 20), 1)))
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (max(6, w // 100), 1)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    angles = []
    for i in range(1, n):
        x, y, cw, ch, _ = stats[i]
        if cw < w // 4:
            continue
        ys, xs = np.nonzero(labels[y:y + ch, x:x + cw] == i)
        vx, vy, _, _ = cv2.fitLine(np.column_stack([xs, ys]).astype(np.float32), cv2.DIST_L2, 0, 0.01, 0.01)
        angles.append(math.degrees(math.atan2(float(vy[0]), float(vx[0]))))
    return float(np.median(angles)) if angles else 0.0


def _speckled(gray: Any) -> bool:
    """Whether the page carries salt-and-pepper noise: dark pixels with no dark
    neighbour, more than print ever has."""
    import cv2
    import numpy as np

    ink = (gray < 128).astype(np.uint8)
    around = cv2.boxFilter(ink, -1, (3, 3), normalize=False)
    lone = int(((ink == 1) & (around == 1)).sum())
    return lone > 0.0002 * ink.size


def _ink(gray: Any) -> Any:
    """Ink as 255 on 0: a local threshold, so light grey borders and uneven scans
    count as ink where they are darker than their surroundings."""
    import cv2

    return cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 12)


def ruling_lines(gray: Any, dpi: float) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """Vertical (x, top, bottom) and horizontal (y, x0, x1) rules in points. Doubled
    lines become one (see _snap); specks and text strokes are shorter than the
    structuring elements and vanish."""
    import cv2

    ink = _ink(gray)
    pt = 72.0 / dpi
    out = []
    # Longer than any stroke of a character (a 10.5 pt glyph is ~0.15 in tall): text
    # never survives the opening. No closing first: it would weld a text line's
    # strokes into a rule; gaps of broken borders are joined by the lattice (JOIN).
    for axis, length in (("v", int(dpi * 0.20)), ("h", int(dpi * 0.30))):
        long_ = (1, length) if axis == "v" else (length, 1)
        mask = cv2.morphologyEx(ink, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, long_))
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        rules = []
        thick = max(2, int(dpi * 0.03))
        for x, y, w, h, _area in stats[1:n]:
            if axis == "v" and h >= length and w <= thick * 3:
                rules.append(((x + w / 2) * pt, y * pt, (y + h) * pt))
            elif axis == "h" and w >= length and h <= thick * 3:
                rules.append(((y + h / 2) * pt, x * pt, (x + w) * pt))
        out.append(_snap(rules))
    return out[0], out[1]


def _snap(rules: list[tuple[float, float, float]], tol: float = 4.0) -> list[tuple[float, float, float]]:
    """Rules whose positions differ by less than `tol` points are one rule (at their
    mean): a pixel position is only as good as the scan, and a border printed 3 pt
    off in another block of the table is still the same column."""
    rules = sorted(rules)
    out: list[tuple[float, float, float]] = []
    group: list[tuple[float, float, float]] = []
    for r in rules + [(float("inf"), 0.0, 0.0)]:
        if group and r[0] - group[0][0] >= tol:
            pos = sum(g[0] for g in group) / len(group)
            out += [(pos, a, b) for _, a, b in group]
            group = []
        group.append(r)
    return out


def without_seals(rgb: Any) -> Any:
    """A colour page in grey with its red ink (seals, signatures, red-letter headers'
    stamps) dropped: a seal over a table draws arcs that look like rules and covers
    figures with strokes; black print under it stays black."""
    import numpy as np

    a = rgb.astype(np.int16)
    gray = (0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]).astype(np.uint8)
    gray[_red(rgb)] = 255
    return gray


def _red(rgb: Any) -> Any:
    import numpy as np

    a = rgb.astype(np.int16)
    return (a[..., 0] - np.maximum(a[..., 1], a[..., 2])) > 60


def add_page(pages: Any, page_no: int, image: Any, dpi: float) -> dict[str, Any]:
    """OCR one page image (grey H×W, or RGB H×W×3) into `pages` (a pdf.Pages).
    Returns what was done, for the document's meta. A cell's `bbox` is on the page as
    read (straightened, a photograph seen square-on); where that differs from the image
    given, `frame_box` is the same cell on the image given, for the site to draw."""
    import cv2
    import numpy as np

    gray = without_seals(image) if image.ndim == 3 else image
    seal = _red(image).astype("uint8") * 255 if image.ndim == 3 else None
    h0, w0 = gray.shape[:2]
    if min(h0, w0) < MIN_SIDE or max(h0, w0) > MAX_ASPECT * min(h0, w0):
        # A sliver or a strip (a rule, a spacer GIF, a banner): scaled to reading size it
        # would be millions of pixels of nothing, and no page of a report has this shape.
        pages.add(page_no, [], [], [], h0 * 72.0 / (dpi or DPI), has_text=False)
        pages.warnings.append(f"page {page_no}: image {w0}×{h0} px is not a page (too small or too narrow to read)")
        return {"page": page_no, "too_small": True}
    gray, dpi, seal = _normalise(gray, dpi, seal)
    quad = page_quad(gray)
    back = None
    if quad is not None:  # a photographed page: seen square-on from here on
        gray, back = unwarp(gray, quad)
        if seal is not None:
            seal = cv2.warpPerspective(seal, np.linalg.inv(back), gray.shape[::-1], flags=cv2.INTER_NEAREST)
    speckled = gray if _speckled(gray) else None
    if speckled is not None:
        # Salt-and-pepper specks (dust, a noisy scanner) make blank cells look inked;
        # a 3×3 median removes them. Not on clean pages: it also thins 1-px strokes,
        # and rules are found on the page before it (below).
        gray = cv2.medianBlur(gray, 3)
    pt = 72.0 / dpi
    if min(gray.shape[:2]) < MIN_SIDE:  # a sliver (a rule, a spacer GIF): no line of text fits in it
        pages.add(page_no, [], [], [], gray.shape[0] * pt, has_text=False)
        pages.warnings.append(f"page {page_no}: image {gray.shape[1]}×{gray.shape[0]} px too small to read")
        return {"page": page_no, "too_small": True}
    if float((gray < 200).mean()) < 0.0005:  # a blank page (faint print is still ink): nothing to read
        pages.add(page_no, [], [], [], gray.shape[0] * pt, has_text=False)
        return {"page": page_no, "blank": True}
    gray, angle = straighten(gray)
    if seal is not None:
        seal = (_rotate(seal, angle, border=0) if angle else seal) > 127
        seal = seal if seal.any() else None
    # A 1-px rule does not survive a 3×3 median (a row lost its border and two rows of
    # figures were read as one): rules come from the page before it, straightened alike.
    # Specks and the holes they punch in a rule are shorter than a rule (ruling_lines).
    lined = gray if speckled is None else _rotate(speckled, angle) if angle else speckled
    v, h = ruling_lines(lined, dpi)
    if seal is not None:
        v, h = _under_seal_joined(v, seal, lined, pt, vertical=True), _under_seal_joined(h, seal, lined, pt, vertical=False)
    words = ocr.read(gray)
    chars = [(c, x0 * pt, t * pt, x1 * pt, b * pt) for w in words for c, x0, t, x1, b in w.chars]
    confs = [(w.conf, [((x0 + x1) / 2 * pt, (t + b) / 2 * pt) for _, x0, t, x1, b in w.chars]) for w in words]
    before = len(pages.tables)
    pages.add(page_no, chars, v, h, gray.shape[0] * pt, has_text=bool(chars))
    doubtful = 0
    budget = [MAX_CELL_READS]
    digit = _digit_height(pages.tables[before:], confs, gray, pt)
    for grid in pages.tables[before:]:
        for row in grid.rows:
            for cell in row:
                if cell.text.strip() in _DASHES and cell.source.get("bbox"):
                    # A lone dash (blank mark) reads as 一 or -: the same mark, when the ink is a
                    # level stroke. A thin 「1」 also reads 「一」 (at 0.6): then the cell is read alone.
                    cell.text = "—" if _mark(_cell_region(cell, gray, pt)) == "—" else ""
                if not cell.text.strip() and cell.source.get("bbox"):
                    doubtful += _missed(cell, gray, pt, budget, digit) or _under_seal(cell, seal, pt)
                elif _stroke_read(cell.text) and cell.source.get("bbox") and _mark(_cell_region(cell, gray, pt)) == "/":
                    if _EDGE_MARK.sub("", cell.text.strip()) in _SLASHES:
                        cell.text = "/"  # 「/.」: a speck beside the blank mark
                    else:
                        _contradicted(cell)
                        doubtful += 1
                elif cell.text.strip() in _ZERO_READ - {"0"} and cell.source.get("bbox"):
                    # 「o」「。」「Q」 where figures stand: a blurred 0 if its ink is one, else unreadable as it is.
                    _zero_by_shape(cell, gray, pt, digit)
                elif _judge(cell, confs):
                    doubtful += not (_second_reading(cell, gray, pt, budget) or _zero_by_shape(cell, gray, pt, digit))
                if _UNSIGNED.fullmatch(cell.text.strip()) and cell.source.get("bbox") and "doubt" not in cell.source \
                        and _sign_unread(_cell_region(cell, gray, pt)):
                    cell.source["doubt"] = (f"OCR read {cell.text.strip()!r} but a short level stroke stands before "
                                            "it, unread: a minus sign? not trusted")
                    doubtful += 1
                if seal is not None and "doubt" not in cell.source and _seal_on_figure(cell, seal, gray, pt):
                    doubtful += 1
    if budget[0] < 0:
        pages.warnings.append(f"page {page_no}: more than {MAX_CELL_READS} cells needed a second reading "
                              "(a noisy scan?): the rest are NULL with a reason, not read")
    if angle or back is not None:
        to_given = _to_given(gray.shape, angle, back)
        for grid in pages.tables[before:]:
            for row in grid.rows:
                for cell in row:
                    if cell.source.get("bbox"):
                        cell.source["frame_box"] = to_given(cell.source["bbox"], pt)
    return {"page": page_no, "skew": round(angle, 2), "photographed": back is not None, "words": len(words),
            "low_confidence_words": sum(1 for w in words if w.conf < THRESHOLD), "doubtful_cells": doubtful}


def _to_given(shape: tuple[int, ...], angle: float, back: Any) -> Any:
    """A function from a box on the page as read (points) to the box around the same
    cell on the image as given: the straightening undone, then the perspective."""
    import cv2
    import numpy as np

    h, w = shape[:2]
    undo = np.vstack([cv2.invertAffineTransform(cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)), [0, 0, 1]])
    if back is not None:
        undo = back @ undo

    def box(b: list[float], pt: float) -> list[float]:
        x0, t, x1, bt = (v / pt for v in b)
        corners = cv2.perspectiveTransform(np.float32([[[x0, t], [x1, t], [x1, bt], [x0, bt]]]), undo)[0]
        return [round(float(v) * pt, 2) for v in (*corners.min(axis=0), *corners.max(axis=0))]

    return box


def _judge(cell: Any, confs: list[tuple[float, list[tuple[float, float]]]]) -> int:
    box = cell.source.get("bbox")
    if not box or not cell.text.strip():
        return 0
    conf = _box_conf(box, confs)
    if conf is None:
        return 0
    cell.source["ocr_conf"] = round(conf, 3)
    if _EDGE_MARK.search(cell.text.strip()) and _figure_like(cell.text):
        # 「.4」「25.」「·12」: a speck or a stroke read as a point at the edge of a figure. Not a
        # label's (「（七）总计：」, a speck after 「…内部事务信息」): doubted as a figure, a label
        # would stand among the figures and push its row a column over.
        cell.source["doubt"] = f"OCR read {cell.text!r}: a mark at the edge of the figure, not trusted"
        return 1
    if conf < THRESHOLD and any(ch.isdigit() for ch in cell.text) and not _NUMBERED_LABEL.fullmatch(cell.text.strip()):
        cell.source["doubt"] = f"OCR read {cell.text!r} with confidence {conf:.2f} (< {THRESHOLD}): not trusted"
        return 1
    return 0


def _box_conf(box: list[float], confs: list[tuple[float, list[tuple[float, float]]]]) -> float | None:
    """The lowest confidence of the words with a character centred in the box (None: none)."""
    x0, t, x1, b = box
    inside = [c for c, centres in confs for (cx, cy) in centres if x0 <= cx <= x1 and t <= cy <= b]
    return min(inside) if inside else None


def _figure_like(text: str) -> bool:
    """Digits and what goes with them, no CJK: what a figure cell holds."""
    return any(ch.isdigit() for ch in text) and not _CJK.search(text)


_CJK = re.compile(r"[\u4e00-\u9fff]")
_EDGE_MARK = re.compile(r"^[.·,，。:：'`]|[.·,，。:：'`]$")
# A label's own numbering (「4.保护第三方合法权益」, 「（2）行政许可」) is no figure: doubted as
# one, the label would stand among the figures and push the row a column over. Any other
# digit in the cell (「行政许可 544」, a lost rule) keeps it a figure to doubt.
_NUMBERED_LABEL = re.compile(r"[(（]?[0-9０-９]{1,2}[)）.．、]\s*[\u4e00-\u9fff]{2}\D*")
_TRAILING = ".·,，。:：'`"
_DASHES = {"一", "-", "_", "－", "—", "–", "─", "一一", "--", "——"}
_SLASHES = {"/", "／"}


def _mark(region: Any) -> str | None:
    """The blank mark a cell holds, told by its shape: "/" for one thin stroke rising to
    the right at 35–80°, "—" for one lying within 10° of level across the middle of the
    cell and not across all of it (a rule's remnant spans the cell). None for anything
    else. The principal axis of the ink and how elongated it is: measured on Noto Sans
    and Serif, sharp and blurred, "/" stands at 73° (「／」 45°) with axes in a ratio of
    7–28, while "1" and "7" stand at 84–88° with a ratio of at most 4.4; at least 5 is
    asked of a slash. The stroke is the largest connected ink: specks and a point may
    stand around it, but a second stroke (「1/」, 「//」, a figure) makes it no mark."""
    import cv2
    import numpy as np

    if region is None or region.size == 0:
        return None
    n, labels, stats, _ = cv2.connectedComponentsWithStats((region < 200).astype(np.uint8), connectivity=8)
    if n < 2:
        return None
    areas = stats[1:, cv2.CC_STAT_AREA]
    big = int(areas.argmax())
    others = np.delete(areas, big)
    others = others[others >= max(3, 0.05 * areas[big])]  # a one-pixel speck weighs nothing
    if others.size and (others.max() > 0.35 * areas[big] or others.sum() > 0.6 * areas[big]):
        return None
    ys, xs = (labels == big + 1).nonzero()
    if len(xs) < 8:
        return None
    cov = np.cov(np.stack([xs, -ys]).astype(float))  # y up, as angles are read
    evals, evecs = np.linalg.eigh(cov)
    if evals[1] <= 0:
        return None
    ratio = evals[1] / max(evals[0], 1e-9)  # the square of the axes' ratio
    dx, dy = evecs[:, 1]
    angle = float(np.degrees(np.arctan2(abs(dy), abs(dx))))
    if dx * dy > 0 and 35 <= angle <= 80 and ratio >= 25:
        return "/"
    h, w = region.shape[:2]
    # No figure lies level, so a short, blurred hyphen (axes 1.7 : 1) is enough.
    if angle <= 10 and ratio >= 3 and xs.max() - xs.min() < 0.8 * w and 0.2 * h <= ys.mean() <= 0.8 * h:
        return "—"
    return None


_UNSIGNED = re.compile(r"[0-9０-９][0-9０-９,，.]*")


def _sign_unread(region: Any) -> bool:
    """A short level stroke stands left of the figure, across the middle of its digits:
    a minus sign (「-4」, 「－4」) the reading left out. The figure read without it has the
    wrong sign, so it is not trusted."""
    import cv2
    import numpy as np

    if region.size == 0:
        return False
    # Ink relative to the figure's own darkness: on a faint, blurred page a thin minus
    # stays lighter than the digits (178 against 159 in a measured cell).
    darkest = int(region.min())
    ink = region < darkest + 0.6 * (255 - darkest)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    x, y, w, h, area = (stats[1:, k] for k in range(5))
    solid = area >= SPECK
    if not solid.any():
        return False
    big = solid & (h >= 0.6 * h[solid].max())  # the digits: a minus is flat, whatever its ink
    left, top, bottom = int(x[big].min()), int(y[big].min()), int((y + h)[big].max())
    band = bottom - top
    mid = y + h / 2
    dash = solid & ~big & (x + w <= left) & (w >= 2 * h) & (h <= 0.35 * band) & \
        (mid >= top + 0.25 * band) & (mid <= bottom - 0.25 * band) & (x + w >= left - band)
    return bool(dash.any())


_ONE_STROKE = {"1", "l", "I", "|", "丨", "7"}  # what the recogniser makes of a lone "/" with confidence


def _stroke_read(text: str) -> bool:
    """A reading that a lone "/" gives: one stroke, perhaps with a speck read as a point."""
    t = text.strip()
    return t in _ONE_STROKE or _EDGE_MARK.sub("", t) in _SLASHES | _ONE_STROKE


def _contradicted(cell: Any, mark: str = "/") -> None:
    cell.source["doubt"] = (f"OCR read {cell.text.strip()!r} but the ink is one stroke shaped as 「{mark}」 "
                            "(a blank): not trusted")


def _under_seal_joined(rules: list[tuple[float, float, float]], seal: Any, gray: Any, pt: float, *,
                       vertical: bool) -> list[tuple[float, float, float]]:
    """Rules with the stretches a seal hid put back: where a seal's ring runs along a rule,
    its red ink, dropped with the seal, took the black rule under it too, and two columns
    became one cell. Two pieces of one rule are joined across their gap when, all along
    it, the rule is either seen (ink on its line) or could not be (the seal's ink there).
    A gap where the paper shows on the line, as beside a merged cell, stays a gap."""
    import numpy as np

    out = list(rules)
    band = 3  # px either side of the rule's line: a rule is 1-3 px, the ring's stroke several
    pieces = sorted(rules)
    for (pos, _, end), (pos2, start, _) in zip(pieces, pieces[1:]):
        if pos2 != pos or start - end <= 0:
            continue
        line, a, b = int(round(pos / pt)), int(end / pt), int(np.ceil(start / pt))
        across = (slice(a, b), slice(max(0, line - band), line + band + 1))
        if not vertical:
            across = across[::-1]
        axis = 1 if vertical else 0
        hidden, seen = seal[across].any(axis=axis), (gray[across] < 160).any(axis=axis)
        if hidden.size and hidden.mean() >= 0.2 and (hidden | seen).mean() >= 0.95:
            out.append((pos, end, start))
    return out


def _seal_on_figure(cell: Any, seal: Any, gray: Any, pt: float) -> bool:
    """A figure part of which the seal may hide: what the red covered went with it when
    the seal was dropped (a star over 「1223.87」 left 「12」, read at 0.998; a ring across
    「2369.81」 took the point). Doubted where the seal's ink covers the figure's line from
    top to bottom, on the figure or a figure's width beside it (a whole 「1」 could be
    under it), or lies low between its first and last glyph (a point could be). A ring
    passing above or below a figure, or beside it, hides nothing of it."""
    text = cell.text.strip()
    if not cell.source.get("bbox") or not any(ch.isdigit() for ch in text) or _NUMBERED_LABEL.fullmatch(text):
        return False
    found = _glyph_box(_cell_region(cell, gray, pt) < 200)
    if found is None:
        return False
    (t, b, x0, x1), _ = found
    inset = 1.5 / pt  # as _cell_region cuts the cell
    top, left = int(cell.source["bbox"][1] / pt + inset) + t, int(cell.source["bbox"][0] / pt + inset)
    h = b - t + 1
    reach = round(0.6 * h)  # a figure's width
    line = seal[top:top + h, max(0, left + x0 - reach):left + x1 + reach + 1]
    low = seal[top + 2 * h // 3:top + h, left + x0:left + x1 + 1]
    if not (line.size and int((line.mean(axis=0) >= 0.7).sum()) >= 2) and int(low.sum()) < 4:
        return False
    cell.source["doubt"] = f"a seal's ink lies on the figure read {text!r}: what it covers may be lost with it"
    return True


def _under_seal(cell: Any, seal: Any, pt: float) -> int:
    """An empty cell a red seal covers: what was printed under it may be gone with
    the seal's ink, so the blank is not trusted."""
    if seal is None:
        return 0
    x0, t, x1, b = (int(v / pt) for v in cell.source["bbox"])
    if b > t and x1 > x0 and seal[max(0, t):b, max(0, x0):x1].mean() > 0.02:
        cell.text = "?"
        cell.source["doubt"] = "a seal covers this cell: what is printed under it cannot be read"
        return 1
    return 0


SPECK = 3  # connected ink of fewer pixels (at 200 dpi) is a speck, never a glyph
EDGE = 4  # pixels at each side of a cell's crop where a border's remnant can lie


def _without_edge_rules(crop: Any) -> Any:
    """The crop with what is left of its borders whitened: a rule drawn a few pixels off
    the lattice line (rows whose borders do not quite align, a thick or doubled line) runs
    along the crop's edge from end to end, and would count as ink that no OCR can read.
    Only full-length lines within EDGE pixels of a side: a glyph never spans the cell."""
    ink = crop < 200
    h, w = ink.shape
    if not h or not w:
        return crop
    cols = [x for x in (*range(min(EDGE, w)), *range(max(0, w - EDGE), w)) if ink[:, x].mean() > 0.9]
    rows = [y for y in (*range(min(EDGE, h)), *range(max(0, h - EDGE), h)) if ink[y, :].mean() > 0.9]
    if not cols and not rows:
        return crop
    out = crop.copy()
    out[:, cols] = 255
    out[rows, :] = 255
    return out


def _cell_region(cell: Any, gray: Any, pt: float) -> Any:
    """The cell's pixels inside its borders, with what is left of them whitened."""
    x0, t, x1, b = (v / pt for v in cell.source["bbox"])
    inset = 1.5 / pt  # 1.5 pt in pixels: keeps the ruling lines out of the crop
    return _without_edge_rules(gray[int(t + inset):int(b - inset), int(x0 + inset):int(x1 - inset)])


def _cell_ink(region: Any) -> Any:
    """A cell's region cut tight around its glyphs and given a white margin (a text line,
    as the recogniser is trained); None when blank."""
    import cv2

    import numpy as np

    if region.size == 0:
        return None
    found = _glyph_box(region < 200)
    if found is None:
        # Print a light copy and a blur left above 200 (a thin 「7」 at 194 at its darkest):
        # what is clearly darker than this cell's paper, when it amounts to a glyph, not dust.
        faint = region < float(np.median(region)) - FAINT
        found = _glyph_box(faint)
        if found is None:
            return None
        (t, b, x0, x1), _ = found
        # A glyph's height at 200 dpi (a 9-pt 「1」 is ~17 px) and its ink, judged by the glyph,
        # not by the cell's size: a thin 「1」 alone in a wide cell has less ink than a
        # four-hundredth of the cell, and was taken for blank. A speck's JPEG halo stays
        # within its 8-px block.
        if b - t + 1 < 12 or int(faint[t:b + 1, x0:x1 + 1].sum()) < 40:
            return None
    (t, b, x0, x1), specks = found
    if specks.any():
        region = region.copy()
        region[specks] = 255
    crop = region[max(0, t - 4):b + 5, max(0, x0 - 4):x1 + 5]
    # A thin margin: the recogniser sizes a glyph against the line's height, and a lone
    # "0" with a wide white border reads as "o" or "。" (confidence 0.3–0.4 with a third of
    # the height as margin, 0.9–0.98 with a tenth).
    pad = max(2, crop.shape[0] // 10)
    return cv2.copyMakeBorder(crop, pad, pad, pad * 2, pad * 2, cv2.BORDER_CONSTANT, value=255)


def _glyph_box(ink: Any) -> tuple[tuple[int, int, int, int], Any] | None:
    """(top, bottom, left, right) of the cell's glyphs without the specks around them,
    and a mask of the specks that trail them; None when the cell holds specks only.

    Cut around every inked pixel, a lone "/" in a speckled cell stays a small mark in a
    wide white field, which the recogniser reads as nothing. The box starts at the
    larger strokes (a quarter of the largest's ink: a "1" beside an "8" is one) and takes
    in whatever touches it or stands near it, half a glyph's height across and a quarter
    up or down (a decimal point, the parts of a CJK character), until nothing more does.

    A speck just after the last glyph reads as a point (「0.」, 「26.」), which makes the
    figure doubtful: small ink wholly to the right of the larger strokes is returned to
    be whitened. A point there changes no figure; one between digits, or before them
    (「.4」), is not touched."""
    import cv2
    import numpy as np

    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    x, y, w, h, area = (stats[1:, k] for k in range(5))
    # Dust and a scanner's noise are specks of one or two pixels at 200 dpi; no glyph
    # is made of them alone (a "1" is ~100 px, a point ~9).
    solid = area >= SPECK
    if int(area[solid].sum()) < max(8, ink.size // 1500):
        return None
    big = area >= 0.25 * area.max()
    trailing = (area < 0.12 * area.max()) & (x > int((x + w)[big].max()) - 1)
    take = big.copy()
    while True:
        t, b = int(y[take].min()), int((y + h)[take].max()) - 1
        x0, x1 = int(x[take].min()), int((x + w)[take].max()) - 1
        dx, dy = (b - t + 1) // 2, (b - t + 1) // 4
        near = solid & (x <= x1 + dx) & (x + w - 1 >= x0 - dx) & (y <= b + dy) & (y + h - 1 >= t - dy)
        if not (near & ~take).any():
            break
        take |= near
    return (t, b, x0, x1), np.isin(labels, np.flatnonzero(trailing) + 1)


def _spend(budget: list[int]) -> bool:
    """One more cell read alone on this page, if the page's budget allows (a cell read
    costs ~30 ms; a speckled page can make every one of 1,500 lattice cells look inked)."""
    budget[0] -= 1
    return budget[0] >= 0


def _missed(cell: Any, gray: Any, pt: float, budget: list[int], digit: float | None = None) -> int:
    """A cell the page reading left empty although it holds ink: a lone glyph the
    detector did not box. Read it alone; unsure → doubt, never a silent blank."""
    region = _cell_region(cell, gray, pt)
    crop = _cell_ink(region)
    if crop is None:
        return 0
    if not _spend(budget):
        cell.text = "?"
        cell.source["doubt"] = f"ink in the cell, not read: the page had more than {MAX_CELL_READS} such cells"
        return 1
    text, conf = ocr.read_line(crop)
    # A point read after the figure is the recogniser's: the crop has no ink there (`_second_reading`).
    read = text.strip().rstrip(_TRAILING) or text.strip()
    cell.source["ocr_second"] = [text, round(conf, 3)]
    mark = _mark(region)
    if mark and (read in _DASHES | _SLASHES or conf < THRESHOLD):
        # A blank mark told by its shape: the recogniser reads a lone, blurred "/" as "",
        # "#", "1" or "/." and a "—" as "1" or "一" at confidence 0.2–0.6; an upright "1"
        # is never either shape.
        cell.text = mark
        return 0
    if read in _DASHES:
        # Named a blank mark, but the ink is no level stroke: a thin 「1」 reads 「一」 too.
        cell.text = "?"
        cell.source["doubt"] = f"OCR read {text!r} (a blank mark?) but the ink is not a level stroke: not trusted"
        return 1
    if mark and read:
        cell.text = read  # a confident figure where the ink is a blank mark's stroke: neither is trusted
        _contradicted(cell, mark)
        return 1
    if read and conf >= THRESHOLD:
        cell.text, cell.source["ocr_conf"] = read, round(conf, 3)
        return 0
    cell.text = text
    if _zero_by_shape(cell, gray, pt, digit):
        return 0
    cell.text = "?"  # unread: the table interpreter must see a figure it cannot read, not a label
    cell.source["doubt"] = f"ink in the cell but OCR read {text!r} with confidence {conf:.2f}: not trusted"
    return 1


def _second_reading(cell: Any, gray: Any, pt: float, budget: list[int]) -> bool:
    """A doubtful figure read again from its cell alone (borders cut off, white margin):
    the page's detector often boxes a lone digit poorly. Trusted only when both
    readings agree and together confident; then the doubt is lifted."""
    crop = _cell_ink(_cell_region(cell, gray, pt))
    if crop is None or not _spend(budget):
        return False
    text, conf = ocr.read_line(crop)
    cell.source["ocr_second"] = [text, round(conf, 3)]
    # Two readings of different crops that agree: the chance both are wrong the same
    # way is taken as the product of their doubts.
    both = 1 - (1 - cell.source["ocr_conf"]) * (1 - conf)
    # The crop read alone has no small ink after its figure (`_glyph_box` whitened it), so
    # a point read there is the recogniser's (a lone 「0」 often reads 「0.」 at 0.9+), and
    # a first reading that only adds a point after the figure agrees.
    first, second = cell.text.strip().rstrip(_TRAILING), text.strip().rstrip(_TRAILING)
    if second == first and both >= THRESHOLD and not _EDGE_MARK.search(second):
        cell.text = second
        cell.source["ocr_conf"] = round(both, 3)
        del cell.source["doubt"]
        return True
    return False


_ZERO_READ = {"0", "o", "O", "〇", "。", "Q", "D"}  # what the recogniser makes of a lone, blurred 「0」


def _zero_by_shape(cell: Any, gray: Any, pt: float, digit: float | None) -> bool:
    """A lone 「0」 the recogniser read unsure (a blurred 150-dpi 「0」 reads 「0」 at 0.5–0.85,
    or 「o」, 「。」): trusted when its ink says the same on its own, as `_ring` measures it.
    Two readers that work differently agree; either alone leaves the cell in doubt."""
    t = cell.text.strip()
    if digit is None or (_EDGE_MARK.sub("", t) or t) not in _ZERO_READ or not cell.source.get("bbox"):
        return False
    if not _ring(_cell_region(cell, gray, pt), digit):
        return False
    cell.text = "0"
    cell.source.pop("doubt", None)
    cell.source["shape"] = f"read {t!r}; the ink is one ring of a figure's height around a centred hole: 0"
    return True


def _ring(region: Any, digit: float) -> bool:
    """Whether the cell's ink is one 「0」: a single glyph of a figure's height (`digit`,
    px) and a figure's width, closed around exactly one hole that is centred and more
    than half the glyph's height. Told apart from 6 and 9 (their hole is off centre and
    under half the height), 8 (two holes), 4 (a small hole high up), 〇 (as wide as
    tall), a point or 「。」 (small), 10 or 0.5 (a second glyph). The letters O, D, Q and a
    square 口 can pass: only a reading of a zero's shape is asked about (`_ZERO_READ`). Ink is taken
    at three levels between the cell's darkest pixel and its paper: blur thins a serif
    0's top and bottom until one level breaks the ring and another closes its hole. A 0
    no level shows as a ring stays in doubt. Measured on Noto and DejaVu, sans, serif and
    mono, 18–44 px, sharp and blurred (tests/test_ocr.py)."""
    import numpy as np

    if region is None or region.size == 0:
        return False
    darkest, paper = float(region.min()), float(np.median(region))
    if paper - darkest < 60:
        return False
    return any(_one_ring(region < darkest + f * (paper - darkest), digit) for f in (0.35, 0.5, 0.65))


def _one_ring(ink: Any, digit: float) -> bool:
    import cv2
    import numpy as np

    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if n < 2:
        return False
    areas = stats[1:, cv2.CC_STAT_AREA]
    k = int(areas.argmax())
    if (np.delete(areas, k) >= max(SPECK + 1, 0.12 * areas[k])).any():
        return False  # a second glyph (10, 0.5), a broken ring, a large blot
    x, y, w, h = (int(v) for v in stats[k + 1, :4])
    if not 0.7 * digit <= h <= 1.4 * digit or not 0.35 <= w / h <= 0.85:
        return False
    paper_inside = (labels[y:y + h, x:x + w] != k + 1).astype(np.uint8)
    m, _, hs, hc = cv2.connectedComponentsWithStats(paper_inside, connectivity=4)
    holes = [i for i in range(1, m) if hs[i, 0] > 0 and hs[i, 1] > 0 and hs[i, 0] + hs[i, 2] < w
             and hs[i, 1] + hs[i, 3] < h and hs[i, cv2.CC_STAT_AREA] >= 4]
    if len(holes) != 1:
        return False
    hw, hh = hs[holes[0], 2], hs[holes[0], 3]
    cx, cy = hc[holes[0]]
    return bool(hh >= 0.55 * h and hw >= 0.3 * w and abs(cy - (h - 1) / 2) <= 0.1 * h and abs(cx - (w - 1) / 2) <= 0.15 * w)


def _digit_height(grids: list[Any], confs: list[tuple[float, list[tuple[float, float]]]], gray: Any,
                  pt: float) -> float | None:
    """How tall (px) the page's figures are: the median ink height of up to 40 cells read
    confidently as digits. None on a page without any (no 「0」 is then told by its shape)."""
    import statistics

    heights = []
    for grid in grids:
        for row in grid.rows:
            for cell in row:
                box = cell.source.get("bbox")
                if len(heights) >= 40 or not box or not cell.text.strip().isdigit():
                    continue
                conf = _box_conf(box, confs)
                if conf is None or conf < THRESHOLD:
                    continue
                found = _glyph_box(_cell_region(cell, gray, pt) < 200)
                if found is not None:
                    heights.append(found[0][1] - found[0][0] + 1)
    return float(statistics.median(heights)) if heights else None


def _normalise(gray: Any, dpi: float, mask: Any = None) -> tuple[Any, float, Any]:
    """Resample to DPI (the recogniser is tuned to text of that size) within
    MAX_PIXELS; `mask` (same size) follows."""
    import cv2

    h, w = gray.shape[:2]
    f = DPI / dpi if dpi else 1.0
    f = min(f, (MAX_PIXELS / max(1, h * w)) ** 0.5)
    if abs(f - 1.0) > 0.05:
        size = (max(1, int(w * f)), max(1, int(h * f)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
        if mask is not None:
            mask = cv2.resize(mask, size, interpolation=cv2.INTER_NEAREST)
        dpi = dpi * f
    return gray, dpi, mask


def image_dpi(info: dict, width: int) -> float:
    """The resolution an image page is read at (and its cell boxes are measured in):
    the file's own when it makes the image a page's width (PAGE_INCHES), else A4 wide
    (scans of reports are). A scanner that writes 1 or 72 dpi into a 2,480-px scan would
    otherwise have it read as a poster, scaled up many times. The site draws boxes with it."""
    a4 = width / (595 / 72)
    try:
        dpi = float((info.get("dpi") or (0, 0))[0] or 0)
    except (TypeError, ValueError, IndexError):
        return a4
    low, high = PAGE_INCHES
    return dpi if dpi > 0 and low <= width / dpi <= high else a4


def extract_image(data: bytes, name: str | None = None) -> Extracted:
    """An image attachment (JPG, PNG, TIFF, BMP, GIF; every frame a page) read by OCR."""
    from .pdf import Pages

    if not ocr.available():
        raise ocr_missing()
    pages = Pages()
    done, frames = add_image(pages, data, 1)
    ex = pages.extracted(title=None, encrypted=False, n_pages=frames)
    ex.container = "image"
    ocr_verdict(ex, ocr.ENGINE, done)
    return ex


def open_image(data: bytes) -> Any:
    """The image, not yet decoded (its size is known); ValueError when unreadable."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS * 4  # past this PIL refuses: a decompression bomb
    try:
        img = Image.open(io.BytesIO(data))
        getattr(img, "n_frames", 1)
        return img
    except (OSError, Image.DecompressionBombError, ValueError, SyntaxError, EOFError, TypeError) as e:
        # TypeError: PIL's "Missing dimensions" for a TIFF whose size tags are gone (fuzz-found).
        raise ValueError(f"unreadable image: {e}") from e


def add_image(pages: Any, data: bytes, first_page: int, max_frames: int = MAX_FRAMES) -> tuple[list[dict], int]:
    """OCR every frame of an image file into `pages` (a pdf.Pages) as pages
    first_page, first_page + 1, …; returns what was done per page and how many pages
    were added. A tall frame (a whole report in one long image) is read as several
    page-long strips, each a page. Every cell read records the frame it is on, and on a
    strip also its box on the frame ("frame_box"), so the site draws it on the file.
    The one reader of image files: attachments and an article's page images both come
    here."""
    import numpy as np

    img = open_image(data)
    frames = getattr(img, "n_frames", 1)
    done: list[dict] = []
    page = first_page
    for i in range(min(frames, max_frames)):
        try:
            img.seek(i)
            frame = img.convert("RGB")  # PIL decodes here: a truncated or broken stream fails here
        except (OSError, ValueError, EOFError, SyntaxError) as e:
            if not done:
                raise ValueError(f"unreadable image: {e}") from e
            pages.warnings.append(f"frame {i + 1} of {frames} unreadable ({e}): it and the frames after it not read")
            break
        dpi = image_dpi(img.info, frame.width)
        rgb = np.asarray(frame)
        grey = bool((np.abs(rgb[..., 0].astype(np.int16) - rgb[..., 1]) < 8).all())
        image = rgb[..., 0] if grey else rgb
        h, w = image.shape[:2]
        cuts = strips(ink_per_row(image), w) if TALL * w < h <= MAX_ASPECT * w else [(0, h)]
        for top, bottom in cuts:
            before = len(pages.tables)
            did = add_page(pages, page, image[top:bottom], dpi)
            did["frame"] = i + 1
            shift = top * 72.0 / dpi  # the strip's top on the frame, in points
            if len(cuts) > 1:
                did["strip"] = [round(shift, 1), round(bottom * 72.0 / dpi, 1)]
            for grid in pages.tables[before:]:
                for row in grid.rows:
                    for cell in row:
                        cell.source["frame"] = i + 1
                        box = cell.source.get("frame_box") or cell.source.get("bbox")
                        if box and len(cuts) > 1:
                            cell.source["frame_box"] = [box[0], round(box[1] + shift, 2), box[2],
                                                        round(box[3] + shift, 2)]
            done.append(did)
            page += 1
    if frames > max_frames:
        pages.warnings.append(f"only the first {max_frames} of {frames} frames read")
    return done, page - first_page


def ink_per_row(image: Any) -> Any:
    """Dark pixels in each row of a page image (grey H×W or RGB H×W×3)."""
    grey = image if image.ndim == 2 else image.min(axis=2)
    return (grey < 160).sum(axis=1)


def strips(ink: Any, width: int) -> list[tuple[int, int]]:
    """Where to cut a tall image into page-long strips, as (top, bottom) rows.

    The text detector scales any image down to 2,000 px on its long side, so a whole
    report in one image (a long screenshot, scans stitched together) would be read at a
    fifth of a page's resolution. Each cut is made within 0.7–1.1 page lengths of the
    last: in the middle of the widest blank band there; inside a table (no blank row),
    on a ruling line, which both strips keep, so the table continues across the cut as
    across a page break; failing both, at one page's length."""
    import numpy as np

    ink = np.asarray(ink)
    h = len(ink)
    length = int(width * PAGE_RATIO)
    blank = ink <= max(2, width // 500)  # JPEG noise and specks are not ink
    rule = ink >= width // 2
    out: list[tuple[int, int]] = []
    top = 0
    while h - top > 1.1 * length:
        lo, hi = top + int(0.7 * length), min(h, top + int(1.1 * length))
        cut = _widest_band(blank, lo, hi, top + length)
        if cut is not None:
            out.append((top, cut))
            top = cut
            continue
        lines = _bands(rule, lo, hi)
        if lines:
            a, b = min(lines, key=lambda r: abs(r[0] - top - length))
            out.append((top, b))
            top = a  # the rule in both strips: the lower one's table starts on it
            continue
        out.append((top, top + length))
        top += length
    out.append((top, h))
    return out


def _bands(rows: Any, lo: int, hi: int) -> list[tuple[int, int]]:
    """Runs of True in rows[lo:hi], as (first, last + 1)."""
    import numpy as np

    r = np.concatenate(([False], np.asarray(rows[lo:hi], dtype=bool), [False]))
    edges = np.flatnonzero(r[1:] != r[:-1])
    return [(lo + int(a), lo + int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _widest_band(blank: Any, lo: int, hi: int, aim: int) -> int | None:
    """The middle row of the widest blank band in [lo, hi) (the nearer to `aim` of
    equals); None when no band is at least 3 rows (a gap between lines of text is)."""
    bands = [b for b in _bands(blank, lo, hi) if b[1] - b[0] >= 3]
    if not bands:
        return None
    a, b = max(bands, key=lambda r: (r[1] - r[0], -abs((r[0] + r[1]) // 2 - aim)))
    return (a + b) // 2


def ocr_missing() -> Exception:
    return RuntimeError("an image: its text and figures need OCR, which is off or not installed "
                        "(experimental: pip install 'nianbao[ocr]', NIANBAO_OCR=1, then `nianbao reparse`); "
                        "the bytes are kept")
