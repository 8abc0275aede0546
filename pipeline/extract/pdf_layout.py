"""Conventions shared by every PDF reader: what counts as a ruling line, how cell
and page text is normalised, how a lattice of cells becomes a `Grid`, how tables that
continue over a page break are told from page frames, and how a document's pages are
assembled into one `Extracted`. The fast extractor (pdf.py) uses them, and so does the
reference extractor it is tested against (nianbao.devkit.pdf_reference), so that a
disagreement between the two always means one saw different characters or lines,
never that they disagree on a convention."""
from __future__ import annotations

import bisect
import re
from typing import Any, Iterable

from nianbao.pipeline.model import Extracted, Grid, GridCell
from nianbao.pipeline.numbers import looks_like_value

# A filled (not stroked) rectangle is a ruling line only when it is this thin: Word and
# some PDF editors draw borders as thin filled rectangles, while white line backgrounds
# (WPS "page frames") and cell shading are filled rectangles many points tall.
THIN = 2.0
# Tables must have at least this many rows and columns: a rectangle around body text,
# or a box with a heading rule inside, is a page frame, not a table.
MIN_ROWS = 2
MIN_COLS = 2
# ... and a lattice whose every non-empty cell holds at least this many characters is
# framed prose: a statistics table always has short cells (figures, and labels: the
# longest row label of the templates has 35 characters, but every such table also
# has figures).
PROSE = 30

# Full-width forms count as CJK (「（」, 「：」 sit between CJK words) except full-width
# digits and Latin letters: 「采购 １ ９０７８１００」 is a label and two figures, and
# joining them would make one number of the three.
_CJK = (
    "\u2e80-\u2fdf\u3000-\u303f\u3040-\u30ff\u3100-\u312f\u3190-\u31ff\u3400-\u4dbf"
    "\u4e00-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uffef"
    "\u201c\u201d\u2018\u2019\u2014\u2026"
)
CJK_SPACES = re.compile(rf"(?<=[{_CJK}])[ \t\u00a0]+(?=[{_CJK}])")
_IS_CJK = re.compile(rf"[{_CJK}]")


def is_cjk(ch: str) -> bool:
    return bool(ch) and bool(_IS_CJK.match(ch))


_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")


def _tight(ch: str) -> bool:
    """Wraps without a space: CJK, and full-width digits and letters (a full-width
    figure wrapped in a narrow cell, 「１９」/「５９」, is one figure)."""
    return is_cjk(ch) or bool(_FULLWIDTH_ALNUM.match(ch))


def normalise_cell_text(text: str) -> str:
    """One cell's text as one string: wrapped lines joined, and the spaces that
    justification or wrapping put between CJK characters removed (「总 计」 is 总计),
    because the label matcher must see the words as printed, not as laid out.
    A line break is a space only between two Latin words; next to a CJK character
    (「251000」/「元」) or a full-width digit it is nothing."""
    if "\n" not in text and " " not in text and "\t" not in text and "\u00a0" not in text:
        return text
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    out = ""
    for ln in lines:
        if out and not (_tight(out[-1]) or _tight(ln[0])):
            out += " "
        out += ln
    out = CJK_SPACES.sub("", out)
    return re.sub(r"[ \t\u00a0]{2,}", " ", out)


def tidy_page_text(text: str) -> str:
    """A page's text as stored: lines as laid out, without the spaces that justified
    CJK text leaves between characters (「号 ， 邮 编 ：」 is 「号，邮编：」), which
    would otherwise split words for full-text search."""
    return "\n".join(CJK_SPACES.sub("", ln) if " " in ln or "\t" in ln or "\u00a0" in ln else ln
                     for ln in text.split("\n"))


def decode_pdf_string(s: Any) -> str | None:
    """PDF text strings as real text. pdfminer leaves a UTF-16LE string with its BOM
    (which WPS writes into /Title) as mojibake starting with 'ÿþ'."""
    if s is None:
        return None
    if isinstance(s, bytes):
        if s[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return s.decode("utf-16", errors="replace").strip("\x00").strip() or None
        return s.decode("latin-1").strip() or None
    if not isinstance(s, str):
        s = str(s)
    if s[:2] in ("ÿþ", "þÿ"):
        try:
            raw = s.encode("latin-1")
        except UnicodeEncodeError:
            return s.strip() or None
        return raw.decode("utf-16", errors="replace").strip("\x00").strip() or None
    return s.strip("\x00").strip() or None


def lattice_to_grid(
    cells: Iterable[tuple[float, float, float, float]],
    text_of: Any,
    page: int,
    tol: float = 1.0,
    min_rows: int = MIN_ROWS,
) -> Grid | None:
    """Cells (x0, top, x1, bottom) of one table → Grid with spans.

    The distinct cell borders define the lattice; a cell spanning several lattice
    positions gets rowspan/colspan. Lattice positions that no cell covers (a corner
    with a missing border) become empty 1×1 cells so that every later cell keeps its
    column (Grid.rows has HTML semantics and cannot express holes). Returns None when
    the lattice is smaller than min_rows × MIN_COLS (a page frame) or holds only
    prose (see PROSE). The extractors ask for single rows too and let
    `settle_tables` keep those that carry a table over a page break."""
    # The fast extractor calls this for every table on every page, so the work per cell
    # is kept to lookups: a lattice position is one int (row × ncols + col) indexing flat
    # lists, and each distinct border is placed on the lattice and rounded once, not
    # once per cell touching it.
    cells = list(cells)
    if not cells:
        return None
    x0s, tops, x1s, bottoms = zip(*cells)
    xset, yset = set(x0s + x1s), set(tops + bottoms)
    xs = _cluster(xset, tol)
    ys = _cluster(yset, tol)
    nrows, ncols = len(ys) - 1, len(xs) - 1
    if nrows < min_rows or ncols < MIN_COLS:
        return None

    def idx(v: float, axis: list[float]) -> int:
        i = bisect.bisect_left(axis, v)
        if i == len(axis) or (i > 0 and v - axis[i - 1] < axis[i] - v):
            return i - 1
        return i

    # round(v, 2) costs more than the rest of a cell's bookkeeping: once per border.
    xi = {x: (idx(x, xs), round(x, 2)) for x in xset}  # x -> (lattice column, as stored)
    yi = {y: (idx(y, ys), round(y, 2)) for y in yset}  # y -> (lattice row, as stored)
    placed: list[GridCell | None] = [None] * (nrows * ncols)
    covered = [False] * (nrows * ncols)
    in_row = [0] * nrows  # cells placed per row: a row with ncols of them has no holes
    texts: list[str] = []
    for x0, top, x1, bottom in cells:
        r0, rtop = yi[top]
        r1, rbottom = yi[bottom]
        c0, rx0 = xi[x0]
        c1, rx1 = xi[x1]
        if r1 <= r0 or c1 <= c0:
            continue
        at = r0 * ncols + c0
        if covered[at]:
            continue
        text = text_of((x0, top, x1, bottom))
        parts = _lost_rules(text, r0, r1, c0, c1, xs, ys, text_of) if r1 - r0 > 1 or c1 - c0 > 1 else None
        whole = (r0, r1, c0, c1, text, [rx0, rtop, rx1, rbottom])
        for r0, r1, c0, c1, text, box in parts or [whole]:
            at = r0 * ncols + c0
            texts.append(text)
            placed[at] = GridCell(text, {"page": page, "bbox": box}, r1 - r0, c1 - c0)
            in_row[r0] += 1
            if r1 - r0 == 1 and c1 - c0 == 1:
                covered[at] = True
            else:
                span = [True] * (c1 - c0)
                for r in range(r0, r1):
                    covered[r * ncols + c0:r * ncols + c1] = span
    _split_labels(placed, in_row, ncols, xs, ys, text_of)
    rows: list[list[GridCell]] = []
    for r in range(nrows):
        first = r * ncols
        if in_row[r] == ncols:
            rows.append(placed[first:first + ncols])  # type: ignore[arg-type]
            continue
        row: list[GridCell] = []
        for c in range(ncols):
            gc = placed[first + c]
            if gc is not None:
                row.append(gc)
            elif not covered[first + c]:
                box = (xs[c], ys[r], xs[c + 1], ys[r + 1])
                text = text_of(box)
                texts.append(text)
                row.append(
                    GridCell(
                        text=text,
                        source={"page": page, "bbox": [round(v, 2) for v in box], "hole": True},
                    )
                )
        rows.append(row)
    lengths = set(map(len, filter(None, texts)))  # of the non-empty texts
    if lengths and min(lengths) >= PROSE:
        return None  # boxes of running text (a framed two-column layout), not a table
    bbox = [round(xs[0], 2), round(ys[0], 2), round(xs[-1], 2), round(ys[-1], 2)]
    return Grid(rows=rows, source={"page": page, "bbox": bbox})


def _lost_rules(text: str, r0: int, r1: int, c0: int, c1: int, xs: list[float], ys: list[float],
                text_of: Any) -> list[tuple[int, int, int, int, str, list[float]]] | None:
    """A cell spanning lattice positions that holds one figure in each: the rules between
    them were lost (a scan's broken line, a seal's ink dropped with the rule under it),
    and 「1 0」 or 「2810 793」 are two cells' figures, not one cell's. Split by rows
    (keeping the columns it spans), by columns, or into every position, whichever puts
    each of its figures, and nothing else, alone in a part; None when none does. One
    figure in a spanning cell (「550」 under a 3-column header) stays whole, and so does
    any text that is not figures and blank marks."""
    tokens = text.split()
    if len(tokens) < 2 or not all(looks_like_value(t) for t in tokens):
        return None
    splits = []
    if r1 - r0 > 1:
        splits.append([(r, r + 1, c0, c1) for r in range(r0, r1)])
    if c1 - c0 > 1:
        splits.append([(r0, r1, c, c + 1) for c in range(c0, c1)])
    if r1 - r0 > 1 and c1 - c0 > 1:
        splits.append([(r, r + 1, c, c + 1) for r in range(r0, r1) for c in range(c0, c1)])
    for parts in splits:
        boxes = [[round(xs[a], 2), round(ys[r], 2), round(xs[b], 2), round(ys[rb], 2)] for r, rb, a, b in parts]
        texts = [text_of(tuple(box)) for box in boxes]
        if all(len(t.split()) <= 1 for t in texts) and [t for x in texts for t in x.split()] == tokens:
            return [(*p, t, box) for p, t, box in zip(parts, texts, boxes)]
    return None


def _split_labels(placed: list[GridCell | None], in_row: list[int], ncols: int, xs: list[float], ys: list[float],
                  text_of: Any) -> None:
    """A label spanning rows whose every row holds figures of its own, and whose text
    stands in every one of those rows: two labels whose rule was lost (「8.属于行政查询事项」
    over 「1.本机关不掌握相关政府信息」), not one. Read as one, the upper row took the lower
    label, and the lower row's figures had none. Split into one label per row, each
    with its box. A block label (「（三）不予公开」) has sub-labels to its right, and a
    header (「结果维持」) has no figures: both stay whole."""
    for at, gc in enumerate(placed):
        if gc is None or gc.rowspan < 2 or not gc.text.strip() or looks_like_value(gc.text):
            continue
        r0, c0 = divmod(at, ncols)
        r1, right = r0 + gc.rowspan, c0 + gc.colspan
        if right >= ncols or r1 > len(ys) - 1:
            continue
        beside = [placed[r * ncols + right] for r in range(r0, r1)]
        if not all(b is not None and b.rowspan == 1 and b.text.strip() and looks_like_value(b.text) for b in beside):
            continue
        boxes = [[round(xs[c0], 2), round(ys[r], 2), round(xs[right], 2), round(ys[r + 1], 2)] for r in range(r0, r1)]
        parts = [text_of(tuple(box)) for box in boxes]
        if not all(p.strip() for p in parts) or "".join(parts).replace(" ", "") != gc.text.replace(" ", ""):
            continue
        for k, (part, box) in enumerate(zip(parts, boxes)):
            placed[(r0 + k) * ncols + c0] = GridCell(part, {"page": gc.source["page"], "bbox": box}, 1, gc.colspan)
            in_row[r0 + k] += k > 0


def _cluster(values: Iterable[float], tol: float) -> list[float]:
    """The first of each run of values no more than tol apart. A repeated value never
    starts a run, so only the distinct values are sorted."""
    out: list[float] = []
    for v in sorted(set(values)):
        if out and v - out[-1] <= tol:
            continue
        out.append(v)
    return out


def close_open_ends(
    v: list[tuple[float, float, float]], h: list[tuple[float, float, float]], tol: float = 3.0
) -> list[tuple[float, float, float]]:
    """Horizontal rules to add where a table was cut by a page break.

    v: vertical rules (x, top, bottom); h: horizontal rules (y, x0, x1). A table split
    across pages often has no bottom border on the first page (or no top border on the
    next): its vertical rules just stop. Where two or more verticals end at the same
    height with no horizontal rule there, the missing rule is returned as (y, x0, x1),
    so the last row is still a row instead of vanishing. Two open ends at one height
    are required: a lone vertical stub is not a cut table."""
    # Indexed by position (a noisy scan can give thousands of rules; a scan of every
    # pair was quadratic): horizontals by y, verticals by x and by each end.
    hs = sorted(h)
    hy = [r[0] for r in hs]
    vs = sorted(v)
    vx = [r[0] for r in vs]

    def near(keys: list[float], rows: list, at: float) -> list:
        return rows[bisect.bisect_left(keys, at - tol):bisect.bisect_right(keys, at + tol)]

    def closed(x: float, y: float) -> bool:
        return any(hx0 - tol <= x <= hx1 + tol for _, hx0, hx1 in near(hy, hs, y))

    def continued(x: float, y: float, down: bool) -> bool:
        return any((vt <= y + tol and vb > y + tol) if down else (vb >= y - tol and vt < y - tol)
                   for _, vt, vb in near(vx, vs, x))

    out: list[tuple[float, float, float]] = []
    for end, down in ((2, True), (1, False)):
        by_end = sorted(v, key=lambda e: e[end])
        ends = [e[end] for e in by_end]
        opens = sorted(
            (e[end], e[0]) for e in v if not closed(e[0], e[end]) and not continued(e[0], e[end], down)
        )
        group: list[tuple[float, float]] = []
        for item in opens + [(float("inf"), 0.0)]:
            if group and item[0] - group[0][0] > tol:
                if len(group) >= 2:
                    ys = [g[0] for g in group]
                    y = max(ys) if down else min(ys)
                    # Span every vertical ending there, open or not, so the cut row
                    # is closed across its whole width.
                    xs = [e[0] for e in near(ends, by_end, y)]
                    out.append((y, min(xs), max(xs)))
                group = []
            group.append(item)
    return out


HEADER, FOOTER = 0.07, 0.93  # page margins (fractions of the height) for running heads and page numbers


def mark_continuations(tables: list[Grid], heights: dict[int, float],
                       centres: dict[int, list[float]]) -> None:
    """Set source["continues_previous"] = True on a grid that carries on the table
    before it across a page break: the previous grid is the last one on the previous
    page, this one is the first on its page, both span the same width (±3 pt), and no
    text stands between the previous grid and the foot of its page, or between the
    head of this page and this grid (running heads and page numbers excepted).
    centres: per page, the vertical centres of its non-blank characters."""
    by_page: dict[int, list[Grid]] = {}
    for g in tables:
        by_page.setdefault(g.source["page"], []).append(g)
    for page, grids in by_page.items():
        prev_grids = by_page.get(page - 1)
        if not prev_grids:
            continue
        prev, cur = prev_grids[-1], grids[0]
        px0, _, px1, pbottom = prev.source["bbox"]
        cx0, ctop, cx1, _ = cur.source["bbox"]
        if abs(px0 - cx0) > 3 or abs(px1 - cx1) > 3:
            continue
        hp, hc = heights.get(page - 1), heights.get(page)
        if not hp or not hc:
            continue
        if any(pbottom < y < FOOTER * hp for y in centres.get(page - 1, ())):
            continue
        if any(HEADER * hc < y < ctop for y in centres.get(page, ())):
            continue
        cur.source["continues_previous"] = True


def settle_tables(tables: list[Grid], heights: dict[int, float],
                  centres: dict[int, list[float]]) -> list[Grid]:
    """The tables of a document, from lattices of one row up (see lattice_to_grid),
    with continuations marked (see mark_continuations).

    A lattice of fewer than MIN_ROWS rows is a page frame or a heading box, except
    where Word or LibreOffice left a table's first row alone at the foot of a page or
    pushed its last row alone onto the next: such a row is kept when it is the last
    table of its page and the next page's first table carries it on, or the first
    table of its page and carries on the previous page's last table (same width, no
    text between, as mark_continuations judges), its column edges being the other
    table's."""
    full = [g for g in tables if len(g.rows) >= MIN_ROWS]
    mark_continuations(full, heights, centres)
    first_full: dict[int, Grid] = {}
    last_full: dict[int, Grid] = {}
    on_page: dict[int, list[Grid]] = {}
    for g in full:
        first_full.setdefault(g.source["page"], g)
        last_full[g.source["page"]] = g
    for g in tables:
        on_page.setdefault(g.source["page"], []).append(g)
    keep: set[int] = set()
    for page, grids in on_page.items():
        head, foot = grids[0], grids[-1]
        prev = last_full.get(page - 1)
        if len(head.rows) < MIN_ROWS and prev is not None and _same_columns(head, prev):
            mark_continuations([prev, head], heights, centres)
            if head.source.get("continues_previous"):
                keep.add(id(head))
        nxt = first_full.get(page + 1)
        if len(foot.rows) < MIN_ROWS and nxt is not None and not nxt.source.get("continues_previous") \
                and _same_columns(foot, nxt):
            mark_continuations([foot, nxt], heights, centres)
            if nxt.source.get("continues_previous"):
                keep.add(id(foot))
    return [g for g in tables if len(g.rows) >= MIN_ROWS or id(g) in keep]


def _same_columns(row: Grid, table: Grid, tol: float = 2.0) -> bool:
    """Every column edge of a one-row grid is a column edge of the table (which may
    cut some of its columns finer: a label over three lattice columns)."""
    edges = sorted({x for r in table.rows for c in r for x in (c.source["bbox"][0], c.source["bbox"][2])})
    for r in row.rows:
        for c in r:
            for x in (c.source["bbox"][0], c.source["bbox"][2]):
                i = bisect.bisect_left(edges, x - tol)
                if i == len(edges) or edges[i] > x + tol:
                    return False
    return True


def path_rules(subpaths: list[list[tuple[float, float]]], closed: list[bool], curved: list[bool], stroke: bool,
               v: list[tuple[float, float, float]], h: list[tuple[float, float, float]]) -> None:
    """The ruling lines one path draws (points in display coordinates): every
    axis-parallel segment when stroked, a filled rectangle when thin (see THIN)."""
    for pts, cl, cv in zip(subpaths, closed, curved):
        if stroke:
            ring = pts + [pts[0]] if cl and len(pts) > 2 else pts
            for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
                if abs(x0 - x1) < 0.01:
                    v.append((x0, min(y0, y1), max(y0, y1)))
                elif abs(y0 - y1) < 0.01:
                    h.append((y0, min(x0, x1), max(x0, x1)))
        elif not cv and _is_rect(pts):
            xs = [p[0] for p in pts]
            ys = [p[1] for p in pts]
            w, ht = max(xs) - min(xs), max(ys) - min(ys)
            if min(w, ht) <= THIN:
                if w <= ht:
                    v.append(((min(xs) + max(xs)) / 2, min(ys), max(ys)))
                else:
                    h.append(((min(ys) + max(ys)) / 2, min(xs), max(xs)))


def _is_rect(pts: list[tuple[float, float]]) -> bool:
    """A filled subpath that is an axis-parallel rectangle (pdfminer's LTRect)."""
    if pts and len(pts) == 5 and pts[-1] == pts[0]:
        pts = pts[:-1]
    if len(pts) != 4:
        return False
    for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1]):
        if not (abs(x0 - x1) < 0.01 or abs(y0 - y1) < 0.01):
            return False
    return True


NO_TEXT_LAYER = "no text layer (scanned PDF?): OCR not done"


def ocr_verdict(ex: Extracted, engine: str, pages: list[dict[str, Any]]) -> None:
    """Record the OCR that ran on `ex`'s pages; when it read nothing, the warning says
    so instead of "OCR not done" (the user must not be sent to switch OCR on)."""
    ex.meta["ocr"] = {"engine": engine, "pages": pages}
    ex.warnings = [f"OCR ({engine}) read no text on any page" if w == NO_TEXT_LAYER else w for w in ex.warnings]


def scan_verdict(meta: dict[str, Any], warnings: list[str], n_pages: int, textless: list[int]) -> None:
    """Scans have no text layer: say so, for the whole document or for some pages
    (a scanned annex, a signed last page), so that OCR can be aimed later."""
    if n_pages and len(textless) == n_pages:
        meta["scanned"] = True
        warnings.append(NO_TEXT_LAYER)
    elif textless:
        meta["pages_without_text"] = textless
        warnings.append(f"pages without text layer (scanned?): {textless}")


_GARBLED = re.compile("[\ue000-\uf8ff\ufffd]")


def garble_verdict(text: str, meta: dict[str, Any], warnings: list[str]) -> None:
    """Fonts without a usable ToUnicode map come out as private-use code points or
    U+FFFD: count them, so that a garbled text layer can be sent to OCR rather than
    parsed as if it were the report."""
    n = len(_GARBLED.findall(text))
    if n:
        meta["garbled_chars"] = n
        warnings.append(f"{n} characters without a Unicode mapping (garbled text layer?)")


def assemble(page_texts: list[str], tables: list[Grid], *, title: str | None, encrypted: bool, n_pages: int,
             warnings: list[str], textless: list[int]) -> Extracted:
    """The Extracted both extractors return, so the verdicts on scans and garbling are
    made in one place and the two paths cannot drift apart."""
    meta: dict[str, Any] = {"pages": n_pages, "pdf_title": title, "encrypted": encrypted}
    text = "\n".join(t for t in page_texts if t)
    scan_verdict(meta, warnings, n_pages, textless)
    if meta.get("scanned"):
        text = ""
    garble_verdict(text, meta, warnings)
    return Extracted(container="pdf", text=text, tables=tables, title=title, meta=meta, warnings=warnings)
