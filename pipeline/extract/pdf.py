"""PDF → Extracted: text in reading order and ruled tables as Grids, fast.

pdfplumber (nianbao.devkit.pdf_reference) is exact but interprets every content stream
in Python; a crawl brings thousands of reports. Here pdfium (C++, through pypdfium2)
parses the page and we only ask it for what we need: each character's box and the path
objects (ruling lines). The table lattice is built here, following pdfplumber's
lattice rules (snap, join, intersect, smallest enclosing cell) so that the two agree
cell for cell (tests/test_pdf_extract.py). Table work is skipped on pages without
ruling lines. The conventions both readers share are in pdf_layout.py.
"""
from __future__ import annotations

import bisect
import ctypes
import re
import struct
import time
from operator import itemgetter
from typing import Any

from ..model import Extracted, Grid
from .pdf_layout import (
    THIN,
    assemble,
    close_open_ends,
    decode_pdf_string,
    lattice_to_grid,
    normalise_cell_text,
    ocr_verdict,
    path_rules,
    settle_tables,
    tidy_page_text,
)

# pdfplumber's defaults, kept identical so that both extractors see the same lattice.
SNAP = 3.0  # rules closer than this are one rule
JOIN = 3.0  # collinear rules with gaps up to this are one rule
MIN_EDGE = 3.0  # shorter rules are noise
ISECT = 3.0  # how far rules may miss each other and still cross
X_TOL = 3.0  # a gap wider than this between characters is a space
Y_TOL = 3.0  # characters whose tops differ less than this are on one line
# Pages in one document we will look at, and seconds we will spend: a hostile or
# broken file must not stall a parse worker.
MAX_PAGES = 5000
MAX_PATHS = 20000  # path objects on one page (forms excepted) before tables are given up
MAX_OPEN_END_RULES = 3000  # distinct rules of a page past which cut tables are not closed (a report page has hundreds)
DEFAULT_TIMEOUT = 120.0
# Text objects on one page past which overprinting is looked for: a dense real page has
# a few thousand; below this the check would only cost time.
OVERPRINT_CHECK = 4000
OVERPRINT_KEEP = 2  # copies of one text box kept (fake bold prints a line twice)
MAX_OVERPRINTED = 20000  # past this many copies the page's text is not read (removing them is quadratic too)


class PdfError(Exception):
    """A PDF that cannot be read: `reason` says why in words a crawl log can show."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _pdfium() -> Any:
    import pypdfium2 as pdfium
    import pypdfium2.raw as raw

    return pdfium, raw


class _Calls:
    """The pdfium functions of the per-character and per-object loops, with their full
    prototypes declared here: handles as plain void pointers, results as ints.

    pypdfium2 declares every handle as a pointer to an opaque struct, and ctypes then
    builds and checks a pointer object on every call, which is most of the cost of the
    hundreds of thousands of calls a report makes. These are the same functions
    pypdfium2 loaded: their addresses come from its public `pypdfium2.raw` module."""

    def __init__(self, raw: Any):
        V, I, D, UL = ctypes.c_void_p, ctypes.c_int, ctypes.c_double, ctypes.c_ulong

        def fn(name: str, res: Any, *args: Any) -> Any:
            address = ctypes.cast(getattr(raw, name), ctypes.c_void_p).value
            return ctypes.CFUNCTYPE(res, *args)(address)

        self.loose = fn("FPDFText_GetLooseCharBox", I, V, I, V)
        self.origin = fn("FPDFText_GetCharOrigin", I, V, I, V, V)
        self.fontsize = fn("FPDFText_GetFontSize", D, V, I)
        self.matrix = fn("FPDFText_GetMatrix", I, V, I, V)
        self.generated = fn("FPDFText_IsGenerated", I, V, I)
        self.text_object = fn("FPDFText_GetTextObject", V, V, I)
        self.count_objects = fn("FPDFPage_CountObjects", I, V)
        self.get_object = fn("FPDFPage_GetObject", V, V, I)
        self.obj_type = fn("FPDFPageObj_GetType", I, V)
        self.count_form = fn("FPDFFormObj_CountObjects", I, V)
        self.form_object = fn("FPDFFormObj_GetObject", V, V, UL)
        self.draw_mode = fn("FPDFPath_GetDrawMode", I, V, V, V)
        self.count_segments = fn("FPDFPath_CountSegments", I, V)
        self.segment = fn("FPDFPath_GetPathSegment", V, V, I)
        self.seg_point = fn("FPDFPathSegment_GetPoint", I, V, V, V)
        self.seg_type = fn("FPDFPathSegment_GetType", I, V)
        self.seg_close = fn("FPDFPathSegment_GetClose", I, V)
        self.bounds = fn("FPDFPageObj_GetBounds", I, V, V, V, V, V)
        self.obj_matrix = fn("FPDFPageObj_GetMatrix", I, V, V)


_CALLS: _Calls | None = None


def _calls(raw: Any) -> _Calls:
    global _CALLS
    if _CALLS is None:
        _CALLS = _Calls(raw)
    return _CALLS


def _addr(handle: Any) -> int:
    return ctypes.cast(handle, ctypes.c_void_p).value or 0


def extract_pdf(data: bytes, name: str | None = None, timeout: float = DEFAULT_TIMEOUT) -> Extracted:
    """Text and ruled tables of a PDF. Raises PdfError for input that is not a readable
    PDF (empty, not a PDF, encrypted with a password, truncated or corrupt)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError("extract_pdf wants bytes")
    data = bytes(data)
    if not data:
        raise PdfError("not a PDF: empty input")
    head = data.find(b"%PDF-", 0, 1024)
    if head < 0:
        raise PdfError("not a PDF: no %PDF- header in the first 1024 bytes")
    # Padding after the last %%EOF (NULs, whitespace, a DOS ^Z: 9 KB of zeros from a
    # preallocating downloader) is harmless: pdfium reads the xref before it. A file
    # cut off inside its body has no %%EOF before the padding and is still refused.
    if b"%%EOF" not in data.rstrip(b"\x00\t\n\x0c\r \x1a")[-8192:]:
        # pdfium would rebuild what it can from a cut-off download and hand back some
        # pages as if that were the document: refuse, so the crawl fetches it again.
        raise PdfError("truncated or corrupt PDF: no %%EOF marker at the end")
    pdfium, raw = _pdfium()
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as e:
        code = getattr(e, "err_code", None)
        if code == raw.FPDF_ERR_PASSWORD:
            raise PdfError("encrypted PDF (password required)") from e
        if code == raw.FPDF_ERR_SECURITY:
            raise PdfError("encrypted PDF (unsupported security handler)") from e
        raise PdfError(f"truncated or corrupt PDF: {e}") from e
    try:
        return _extract(doc, raw, time.monotonic() + timeout)
    finally:
        doc.close()


def _extract(doc: Any, raw: Any, deadline: float) -> Extracted:
    n_pages = len(doc)
    if n_pages > MAX_PAGES:
        raise PdfError(f"too many pages: {n_pages} > {MAX_PAGES}")
    title = _meta(doc, raw, "Title")
    encrypted = raw.FPDF_GetSecurityHandlerRevision(doc.raw) != -1
    pages = Pages()
    ocr_done: list[dict] = []  # pages without a text layer, read by OCR (when it is installed)
    ocr_on = _ocr_available()
    doc_raw, load_page, close_page = doc.raw, raw.FPDF_LoadPage, raw.FPDF_ClosePage
    for i in range(n_pages):
        if time.monotonic() > deadline:
            raise PdfError(f"timeout after page {i} of {n_pages}")
        # The raw handle, not pypdfium2's PdfPage: its bookkeeping (weak references,
        # finalizers) costs as much as a page's table work here.
        handle = load_page(doc_raw, i)
        if not handle:  # pdfium cannot build the page: a damaged page tree
            raise PdfError(f"truncated or corrupt PDF: page {i + 1}: pdfium could not load it")
        page = _RawPage(handle)
        try:
            dropped = _drop_overprinted(handle, raw)
            if dropped > MAX_OVERPRINTED:
                pages.warnings.append(f"page {i + 1}: {dropped} text objects printed over identical ones: "
                                      "its text is not read")
                chars, page_text_chars = [], 0
            else:
                if dropped:
                    pages.warnings.append(f"page {i + 1}: {dropped} text objects printed over identical ones, ignored")
                chars, page_text_chars = _page_chars(page, raw)
            try:
                v, h = _page_rules(page, raw)
            except _TooManyPaths:
                # Text drawn as outlines or a vector map: tens of thousands of paths
                # would cost seconds and hold no table we could read anyway.
                pages.warnings.append(f"page {i + 1}: more than {MAX_PATHS} vector paths, tables not searched")
                v, h = [], []
            chars, v, h, height = _to_display(page, raw, chars, v, h)
            scanned = not page_text_chars and ocr_on
            if not scanned:
                pages.add(i + 1, chars, v, h, height, has_text=bool(page_text_chars))
        finally:
            close_page(handle)
        if scanned:
            # No text layer: read the page from its pixels, in its place among the others.
            from . import raster

            t0 = time.monotonic()
            rgb = doc[i].render(scale=raster.DPI / 72, rev_byteorder=True).to_numpy()[..., :3]
            ocr_done.append(raster.add_page(pages, i + 1, rgb, raster.DPI))
            # The deadline guards pdfium's loops; OCR time is bounded per page (pixels)
            # and by the parse's own time limit.
            deadline += time.monotonic() - t0
    ex = pages.extracted(title=title, encrypted=encrypted, n_pages=n_pages)
    if ocr_done:
        from .ocr import ENGINE

        ocr_verdict(ex, ENGINE, ocr_done)
    return ex


def _ocr_available() -> bool:
    from .ocr import available

    return available()


class Pages:
    """Pages given as characters and ruling lines in display coordinates (points,
    top-left origin) → one Extracted. Every fixed-layout reader (PDF, OFD) ends here,
    so text order, lattices and page-break rules are the same for all of them."""

    def __init__(self) -> None:
        self.warnings: list[str] = []
        self.tables: list[Grid] = []
        self.texts: list[str] = []
        self.heights: dict[int, float] = {}
        self.centres: dict[int, Any] = {}
        self.textless: list[int] = []

    def add(self, page_no: int, chars: list[Char], v: list[VRule], h: list[HRule], height: float,
            *, has_text: bool) -> None:
        self.heights[page_no] = height
        # The same rule drawn again is one rule (a fuzzed OFD listed one line 100,000 times).
        v, h = list(dict.fromkeys(v)), list(dict.fromkeys(h))
        if len(v) + len(h) <= MAX_OPEN_END_RULES:
            for y, x0, x1 in close_open_ends(v, h):
                h.append((y, x0, x1))
        else:  # thousands of rules at one place (a dashed line of tiny strokes) make the search quadratic
            self.warnings.append(f"page {page_no}: {len(v) + len(h)} rules; tables cut by a page break not closed")
        if not has_text:
            self.textless.append(page_no)
        self.texts.append(tidy_page_text(chars_to_text(chars)))
        if len(v) >= 2 and len(h) >= 2:
            # One-row lattices too: settle_tables keeps those that carry a table
            # over a page break.
            placed = None
            tables = self.tables
            for cells in _find_tables(v, h):
                placed = placed or _Placed(chars)
                g = lattice_to_grid(cells, _table_text_fn(cells, placed), page_no, min_rows=1)
                if g is not None:
                    tables.append(g)
            if tables and tables[-1].source["page"] == page_no and placed is not None:
                # Only pages holding tables are asked where their text is
                # (settle_tables), and only those at a page break are read.
                self.centres[page_no] = placed

    def extracted(self, *, title: str | None, encrypted: bool, n_pages: int) -> Extracted:
        tables = settle_tables(self.tables, self.heights, self.centres)
        return assemble(self.texts, tables, title=title, encrypted=encrypted, n_pages=n_pages,
                        warnings=self.warnings, textless=self.textless)


class _RawPage:
    __slots__ = ("raw",)

    def __init__(self, handle: Any):
        self.raw = handle


def _meta(doc: Any, raw: Any, key: str) -> str | None:
    tag = key.encode("ascii")
    n = raw.FPDF_GetMetaText(doc.raw, tag, None, 0)
    if n <= 2:
        return None
    buf = ctypes.create_string_buffer(n)
    raw.FPDF_GetMetaText(doc.raw, tag, buf, n)
    s = buf.raw[: n - 2].decode("utf-16-le", errors="replace")
    return decode_pdf_string(s)


# --- characters -----------------------------------------------------------------------

Char = tuple[str, float, float, float, float]  # text, x0, top, x1, bottom (top-left origin)
_SKIP = frozenset((0x0D, 0x0A, 0xFFFE, 0x00))  # pdfium's line breaks and placeholders
_BLANK = frozenset(ord(c) for c in " \t\u00a0\u3000\u2002\u2003\u2009")
_SKIP_S = frozenset(map(chr, _SKIP))
_BLANK_S = frozenset(map(chr, _BLANK))
_SPECIAL_S = _SKIP_S | {" "}
# str.isspace as a set: a membership test is cheaper than a method call, and this is
# asked for every character of every line. (No code point above U+3000 is a space;
# scanning all of Unicode would cost 70 ms at import.)
_SPACE_S = frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
_FIRST, _X0, _TOP = itemgetter(0), itemgetter(1), itemgetter(2)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _drop_overprinted(handle: Any, raw: Any) -> int:
    """Remove text objects printed again and again in the very same box, before pdfium
    builds the text page: its duplicate-glyph check is quadratic (one line printed
    10,000 times over itself: 19 s for one page, where no deadline can reach), and it
    keeps one copy of such glyphs anyway, so the text read is the same. Returns how
    many there were; past MAX_OVERPRINTED none is removed and the caller skips the text."""
    n = raw.FPDFPage_CountObjects(handle)
    if n < OVERPRINT_CHECK:
        return 0
    box = [ctypes.c_float() for _ in range(4)]
    seen: dict[tuple, int] = {}
    drop = []
    for i in range(n):
        obj = raw.FPDFPage_GetObject(handle, i)
        if raw.FPDFPageObj_GetType(obj) != raw.FPDF_PAGEOBJ_TEXT or not raw.FPDFPageObj_GetBounds(obj, *box):
            continue
        key = tuple(round(b.value, 1) for b in box)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > OVERPRINT_KEEP:
            drop.append(obj)
    if len(drop) > MAX_OVERPRINTED:
        return len(drop)
    for obj in reversed(drop):  # from the end: pdfium erases from a vector
        if raw.FPDFPage_RemoveObject(handle, obj):
            raw.FPDFPageObj_Destroy(obj)
    return len(drop)


def _page_chars(page: Any, raw: Any) -> tuple[list[Char], int]:
    """The page's characters in top-left coordinates, without pdfium's generated
    spaces/newlines. Returns (chars, 1 if any of them is not blank else 0).

    Boxes are built like pdfplumber's, from the glyph origin and the effective font
    size (Tf size × text/CTM scale): bottom = baseline, top = baseline − size, x from
    pdfium's advance-based ("loose") box. pdfium's loose box is not used for the
    vertical extent: for some embedded fonts it follows the glyph outline, which would
    put 「、」 and 「一」 on lines of their own."""
    tp = raw.FPDFText_LoadPage(page.raw)
    if not tp:
        return [], 0
    try:
        n = raw.FPDFText_CountChars(tp)
        if n <= 0:
            return [], 0
        # A ctypes array type of a new length costs more than pdfium's call: lengths
        # rounded up to a power of two come from ctypes' cache of array types.
        buf = (ctypes.c_ushort * (1 << (n + 1).bit_length()))()
        raw.FPDFText_GetText(tp, 0, n, buf)
        text = ctypes.string_at(buf, 2 * n).decode("utf-16-le", "surrogatepass")
        if len(text) != n or _SURROGATE.search(text):
            # Outside the BMP GetText's code units and pdfium's char indices part
            # ways: ask char by char.
            text = "".join(chr(raw.FPDFText_GetUnicode(tp, i)) for i in range(n))
        return _char_boxes(tp, text, _page_top(page, raw), raw)
    finally:
        raw.FPDFText_ClosePage(tp)


def _char_boxes(tp: Any, text: str, top_y: float, raw: Any) -> tuple[list[Char], int]:
    """Each character's box, in one loop over the page's characters: the calls made
    per character are the cost of a born-digital PDF, so they are as few as can be."""
    fx = _calls(raw)
    tpa = _addr(tp)
    # Out-parameters as raw buffers read with one struct call each: ctypes
    # field access costs more than the pdfium call itself.
    rect = (ctypes.c_float * 4)()  # FS_RECTF: left, top, right, bottom
    mat = (ctypes.c_float * 6)()  # FS_MATRIX: a b c d e f
    pmat, prect = ctypes.addressof(mat), ctypes.addressof(rect)
    org = (ctypes.c_double * 2)()
    pox, poy = ctypes.addressof(org), ctypes.addressof(org) + ctypes.sizeof(ctypes.c_double)
    unpack4, unpack2, unpack6 = struct.Struct("4f").unpack_from, struct.Struct("2d").unpack_from, \
        struct.Struct("6f").unpack_from
    generated, origin = fx.generated, fx.origin
    loose = fx.loose
    fontsize, matrix, text_object = fx.fontsize, fx.matrix, fx.text_object
    out: list[Char] = []
    append = out.append
    # (text object, loose box height) -> (size, page-top minus baseline-to-loose-bottom
    # offset, scale if the text matrix shrinks the font): the characters of one text
    # object share font and size, so they sit at the same offset above their loose
    # box's bottom, and the origin, size and matrix calls are made once per object.
    # (Keyed by height alone, a digit in a Latin font took the offset of a CJK font of
    # the same box height and fell onto a line of its own: 「39121」 → 「9 3 121」.)
    seen: dict[tuple[int | None, float], tuple[float, float, float]] = {}
    skip, blank, special = _SKIP_S, _BLANK_S, _SPECIAL_S
    for idx, ch in enumerate(text):
        if ch in special:
            if ch in skip:
                continue
            # pdfium invents spaces where it guesses word gaps; only spaces can be
            # generated here (line breaks are skipped above), so only they are asked.
            if generated(tpa, idx) == 1:
                continue
        if not loose(tpa, idx, prect):
            continue
        x0, lt, x1, lb = unpack4(rect)
        key = (text_object(tpa, idx), lt - lb)
        known = seen.get(key)
        if known is not None:
            size, foot, k = known
        else:
            if not origin(tpa, idx, pox, poy):
                continue
            base = unpack2(org)[1]
            size = fontsize(tpa, idx)
            k = 1.0
            h = lt - lb
            # The Tf size is the printed size unless a text matrix scales it
            # (WPS: Tf 199 shrunk 20×; others: Tf 1 grown by Tm). Asking pdfium
            # for every char's matrix is costly: ask only when the size is
            # implausible or disagrees with the loose box.
            if not (4.0 <= size <= 72.0) or h > 1.6 * size or h < 0.5 * size:
                if matrix(tpa, idx, pmat):
                    ma, mb, mc, md, _, _ = unpack6(mat)
                    k = abs(ma * md - mb * mc) ** 0.5
                    if k > 0:
                        size *= k
            foot = top_y - (base - lb)
            k = k if 0 < k < 1 else 0.0  # only a shrinking text matrix matters below
            seen[key] = (size, foot, k)
        if k and x1 - x0 > 3 * size + 6:
            # pdfium sized this box with the unscaled font size (WPS writes
            # 199-point fonts shrunk by the text matrix): rescale about the origin.
            if origin(tpa, idx, pox, poy):
                o = unpack2(org)[0]
                x0, x1 = o + (x0 - o) * k, o + (x1 - o) * k
        if x1 < x0:
            x0, x1 = x1, x0
        bottom = foot - lb
        append((ch, x0, bottom - size, x1, bottom))
    nonblank = next((1 for c in out if c[0] not in blank), 0)
    return out, nonblank


def _to_display(page: Any, raw: Any, chars: list[Char], v: list[VRule], h: list[HRule]
                ) -> tuple[list[Char], list[VRule], list[HRule], float]:
    """Characters and rules in the page's displayed orientation with the mediabox's
    left edge at x = 0, as pdfplumber reports them: pages with /Rotate (landscape
    tables are often printed that way) are turned, so that rows stay rows."""
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if raw.FPDFPage_GetMediaBox(page.raw, left, bottom, right, top):
        x_off, W, H = left.value, right.value - left.value, top.value - bottom.value
    else:
        x_off, W, H = 0.0, raw.FPDF_GetPageWidthF(page.raw), raw.FPDF_GetPageHeightF(page.raw)
    rot = raw.FPDFPage_GetRotation(page.raw) % 4
    if x_off:
        chars = [(c, x0 - x_off, t, x1 - x_off, b) for c, x0, t, x1, b in chars]
        v = [(x - x_off, t, b) for x, t, b in v]
        h = [(y, x0 - x_off, x1 - x_off) for y, x0, x1 in h]
    if rot == 1:  # 90° clockwise: (x, top) → (H − top, x)
        return ([(c, H - b, x0, H - t, x1) for c, x0, t, x1, b in chars],
                [(H - y, x0, x1) for y, x0, x1 in h],
                [(x, H - b, H - t) for x, t, b in v], W)
    if rot == 2:
        return ([(c, W - x1, H - b, W - x0, H - t) for c, x0, t, x1, b in chars],
                [(W - x, H - b, H - t) for x, t, b in v],
                [(H - y, W - x1, W - x0) for y, x0, x1 in h], H)
    if rot == 3:  # 270°: (x, top) → (top, W − x)
        return ([(c, t, W - x1, b, W - x0) for c, x0, t, x1, b in chars],
                [(y, W - x1, W - x0) for y, x0, x1 in h],
                [(W - x, t, b) for x, t, b in v], W)
    return chars, v, h, H


def _page_top(page: Any, raw: Any) -> float:
    """The y of the page's top edge in PDF space (mediabox y1, as pdfplumber)."""
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    if raw.FPDFPage_GetMediaBox(page.raw, left, bottom, right, top):
        return float(top.value)
    return float(raw.FPDF_GetPageHeightF(page.raw))


def _cluster_lines(chars: list[Char]) -> list[list[Char]]:
    """Characters grouped into lines by their tops (chained within Y_TOL, like
    pdfplumber's cluster_objects), each line sorted left to right."""
    if not chars:
        return []
    order = sorted(chars, key=_TOP)
    lines: list[list[Char]] = [[order[0]]]
    last = order[0][2]
    for c in order[1:]:
        if c[2] <= last + Y_TOL:
            lines[-1].append(c)
        else:
            lines.append([c])
        last = c[2]
    for ln in lines:
        ln.sort(key=_X0)
    return lines


def _line_text(line: list[Char]) -> str:
    """One line: characters joined, one space where a blank character or a gap wider
    than X_TOL separates words (pdfplumber's word rule). A character repeated within
    1 pt of itself is fake bold (the glyph printed twice, slightly offset): sorted by
    x the copy follows the original, and is dropped (pdfplumber's dedupe_chars)."""
    out: list[str] = []
    append = out.append
    pch = None
    px0 = px1 = ptop = 0.0
    gap = False
    spaces, x_tol, y_tol = _SPACE_S, X_TOL, Y_TOL
    for ch, x0, top, x1, _ in line:
        if ch in spaces:
            gap = True
            continue
        if pch is not None:
            dy = top - ptop
            if ch == pch and x0 - px0 <= 1.0 and -1.0 <= dy <= 1.0:
                continue
            if gap or x0 < px0 or x0 > px1 + x_tol or dy > y_tol or dy < -y_tol:
                append(" ")
        append(ch)
        pch, px0, ptop, px1 = ch, x0, top, x1
        gap = False
    return "".join(out)


def chars_to_text(chars: list[Char]) -> str:
    """Characters as text: lines by height, words by gaps (see _line_text)."""
    tops = [c[2] for c in chars]
    if tops and max(tops) - min(tops) <= Y_TOL:  # one line: most table cells
        return _line_text(sorted(chars, key=_X0))
    lines = (_line_text(ln) for ln in _cluster_lines(chars))
    return "\n".join(ln for ln in lines if ln)


class _Placed:
    """A page's characters by the height of their centres, so that each table on the
    page looks only at the characters of its own band (pages hold several tables).

    Iterating it yields the centres of the non-blank characters: settle_tables'
    `centres` for the page, computed only if that page meets a page-break question."""

    __slots__ = ("centres", "cys", "items")

    def __init__(self, chars: list[Char]):
        items = sorted([((c[2] + c[4]) / 2, (c[1] + c[3]) / 2, c) for c in chars], key=_FIRST)
        self.cys = [it[0] for it in items]
        self.items = items
        self.centres: list[float] | None = None

    def __iter__(self) -> Any:
        if self.centres is None:
            spaces = _SPACE_S
            self.centres = [cy for cy, _, c in self.items if c[0] not in spaces]
        return iter(self.centres)


def _table_text_fn(cells: list[tuple[float, float, float, float]], placed: _Placed) -> Any:
    """text_of(box) for lattice_to_grid: a character belongs to the cell holding its
    centre (pdfplumber's rule). Each character of the table's area is placed once on
    the table's lattice; a cell then collects the positions it covers."""
    xs = _cluster([c[0] for c in cells] + [c[2] for c in cells])
    ys = _cluster([c[1] for c in cells] + [c[3] for c in cells])
    left, right, top, bottom = xs[0], xs[-1], ys[0], ys[-1]
    # Lattice position (row, col) as one int, row × width + col: cheaper to hash.
    width = len(xs)
    at: dict[int, list[Char]] = {}
    bisect_right = bisect.bisect_right
    lo, hi = bisect.bisect_left(placed.cys, top), bisect.bisect_left(placed.cys, bottom)
    for cy, cx, c in placed.items[lo:hi]:
        if left <= cx < right:
            key = (bisect_right(ys, cy) - 1) * width + bisect_right(xs, cx) - 1
            slot = at.get(key)
            if slot is None:
                at[key] = [c]
            else:
                slot.append(c)

    # Cell corners are the very values the lattice was clustered from: look them up.
    xi = {x: _nearest(xs, x) for x in {v for c in cells for v in (c[0], c[2])}}
    yi = {y: _nearest(ys, y) for y in {v for c in cells for v in (c[1], c[3])}}

    def text_of(box: tuple[float, float, float, float]) -> str:
        x0, y0, x1, y1 = box
        try:
            c0, c1, r0, r1 = xi[x0], xi[x1], yi[y0], yi[y1]
        except KeyError:  # not a corner of this lattice (lattice_to_grid passes only those)
            c0, c1, r0, r1 = _nearest(xs, x0), _nearest(xs, x1), _nearest(ys, y0), _nearest(ys, y1)
        if c1 - c0 == 1 and r1 - r0 == 1:
            inside = at.get(r0 * width + c0)
        else:
            inside = [ch for r in range(r0, r1) for c in range(c0, c1) for ch in at.get(r * width + c, ())]
        if not inside:
            return ""
        if len(inside) == 1:  # most figures in a statistics table are one digit
            ch = inside[0][0]
            return "" if ch.isspace() else ch
        return normalise_cell_text(chars_to_text(inside))

    return text_of


def _cluster(values: list[float], tol: float = 1.0) -> list[float]:
    out: list[float] = []
    for v in sorted(values):
        if not out or v - out[-1] > tol:
            out.append(v)
    return out


def _nearest(axis: list[float], v: float) -> int:
    i = bisect.bisect_left(axis, v)
    if i == len(axis) or (i > 0 and v - axis[i - 1] < axis[i] - v):
        return i - 1
    return i


# --- ruling lines ---------------------------------------------------------------------

_IDENT = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
MAX_STROKE = 4.0  # a stroked line thicker than this is a bar or a diagonal, not a rule
VRule = tuple[float, float, float]  # x, top, bottom
HRule = tuple[float, float, float]  # y, x0, x1


def _page_rules(page: Any, raw: Any) -> tuple[list[VRule], list[HRule]]:
    """Vertical and horizontal rules of a page, top-left coordinates: every axis-
    parallel segment of a stroked path, and every filled rectangle thin enough to be
    a drawn line (see THIN)."""
    fx = _calls(raw)
    top_y = _page_top(page, raw)
    v: list[VRule] = []
    h: list[HRule] = []
    ident = _IDENT
    pa = _addr(page.raw)
    get_obj, get_type = fx.get_object, fx.obj_type
    path_t, form_t = raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_FORM
    paths = 0
    for k in range(fx.count_objects(pa)):
        obj = get_obj(pa, k)
        t = get_type(obj)
        # Most objects are text: skip them before any further call.
        if t == path_t:
            paths += 1
            if paths > MAX_PATHS:
                raise _TooManyPaths
            _path(obj, fx, raw, ident, top_y, v, h)
        elif t == form_t:
            _form(obj, fx, raw, ident, top_y, v, h, 1)
    return v, h


class _TooManyPaths(Exception):
    pass


def _form(obj: int, fx: _Calls, raw: Any, outer: tuple, top_y: float, v: list, h: list, depth: int) -> None:
    if depth > 12:
        return
    m = _matrix(obj, fx, outer)
    for k in range(fx.count_form(obj)):
        child = fx.form_object(obj, k)
        t = fx.obj_type(child)
        if t == raw.FPDF_PAGEOBJ_PATH:
            _path(child, fx, raw, m, top_y, v, h)
        elif t == raw.FPDF_PAGEOBJ_FORM:
            _form(child, fx, raw, m, top_y, v, h, depth + 1)


# Out-parameter buffers of the path calls, allocated once: building ctypes objects
# per path costs more than the calls. (Extraction is single-threaded per process.)
_MODES = (ctypes.c_int * 2)()
_P_FILL, _P_STROKE = ctypes.addressof(_MODES), ctypes.addressof(_MODES) + ctypes.sizeof(ctypes.c_int)
_BOUNDS = (ctypes.c_float * 4)()
_P_BOUNDS = tuple(ctypes.addressof(_BOUNDS) + i * ctypes.sizeof(ctypes.c_float) for i in range(4))
_UNPACK4F = struct.Struct("4f").unpack_from


def _path(obj: int, fx: _Calls, raw: Any, outer: tuple, top_y: float, v: list, h: list) -> None:
    if not fx.draw_mode(obj, _P_FILL, _P_STROKE):
        return
    fillmode, stroke_i = _MODES
    stroke = bool(stroke_i)
    if not stroke and fillmode == raw.FPDF_FILLMODE_NONE:
        return
    nseg = fx.count_segments(obj)
    if stroke and nseg == 2 and outer is _IDENT:
        # A single stroked line (m l S), how Word, WPS and LibreOffice draw each
        # border: its page-space bounds are the segment widened by the same margin on
        # every side, so one call replaces the matrix and four per-point calls.
        if fx.bounds(obj, *_P_BOUNDS):
            lv, bv, rv, tv = _UNPACK4F(_BOUNDS)
            x0, x1, y0, y1 = lv, rv, top_y - tv, top_y - bv
            w, ht = x1 - x0, y1 - y0
            if ht <= w and ht <= 2 * MAX_STROKE:
                e = ht / 2
                h.append((y0 + e, x0 + e, x1 - e))
            elif w < ht and w <= 2 * MAX_STROKE:
                e = w / 2
                v.append((x0 + e, y0 + e, y1 - e))
            return
    if not stroke and nseg <= 5:
        # One filled shape: a rule only if thin. Shading and white line backgrounds
        # are most of the paths on a table page; their bounds alone dismiss them.
        if fx.bounds(obj, *_P_BOUNDS):
            lv, bv, rv, tv = _UNPACK4F(_BOUNDS)
            if min(rv - lv, tv - bv) > THIN + 1:
                return
    a, b, c, d, e, f = _matrix(obj, fx, outer)
    subpaths: list[list[tuple[float, float]]] = []
    closed: list[bool] = []
    curved: list[bool] = []
    px, py = ctypes.c_float(), ctypes.c_float()
    bx, by = ctypes.addressof(px), ctypes.addressof(py)
    moveto, bezier = raw.FPDF_SEGMENT_MOVETO, raw.FPDF_SEGMENT_BEZIERTO
    get_seg, get_pt, get_t, get_cl = fx.segment, fx.seg_point, fx.seg_type, fx.seg_close
    for s in range(nseg):
        seg = get_seg(obj, s)
        get_pt(seg, bx, by)
        x, y = px.value, py.value
        pt = (a * x + c * y + e, top_y - (b * x + d * y + f))
        t = get_t(seg)
        if t == moveto or not subpaths:
            subpaths.append([pt])
            closed.append(False)
            curved.append(False)
        else:
            subpaths[-1].append(pt)
            if t == bezier:
                curved[-1] = True
        if get_cl(seg):
            closed[-1] = True
    path_rules(subpaths, closed, curved, stroke, v, h)


def _matrix(obj: int, fx: _Calls, outer: tuple) -> tuple:
    import pypdfium2.raw as raw

    m = raw.FS_MATRIX()
    if not fx.obj_matrix(obj, ctypes.addressof(m)):
        return outer
    a1, b1, c1, d1, e1, f1 = m.a, m.b, m.c, m.d, m.e, m.f
    a2, b2, c2, d2, e2, f2 = outer
    # Row-vector convention: p' = p · M_obj · M_outer.
    return (
        a1 * a2 + b1 * c2,
        a1 * b2 + b1 * d2,
        c1 * a2 + d1 * c2,
        c1 * b2 + d1 * d2,
        e1 * a2 + f1 * c2 + e2,
        e1 * b2 + f1 * d2 + f2,
    )


# --- lattice (pdfplumber's algorithm, on tuples) ---------------------------------------


def _snap(items: list[list[float]], pos: int, tol: float) -> None:
    """Move rules whose position differs by a chain of steps ≤ tol to their mean."""
    if not items:
        return
    items.sort(key=lambda r: r[pos])
    group = [items[0]]
    for r in items[1:] + [None]:  # type: ignore[list-item]
        if r is not None and r[pos] <= group[-1][pos] + tol:
            group.append(r)
            continue
        mean = sum(g[pos] for g in group) / len(group)
        for g in group:
            g[pos] = mean
        if r is not None:
            group = [r]


def _join(items: list[list[float]], tol: float) -> list[list[float]]:
    """Collinear rules (same position after snapping) overlapping or with gaps ≤ tol
    become one. items: [pos, start, end]."""
    out: list[list[float]] = []
    items.sort(key=lambda r: (r[0], r[1]))
    for r in items:
        if out and out[-1][0] == r[0] and r[1] <= out[-1][2] + tol:
            out[-1][2] = max(out[-1][2], r[2])
        else:
            out.append(list(r))
    return out


def _find_tables(v_raw: list[VRule], h_raw: list[HRule]) -> list[list[tuple[float, float, float, float]]]:
    """pdfplumber's lattice: snap and join rules, intersect, find for each crossing
    the smallest cell whose four sides are drawn, group cells sharing corners into
    tables. Returns each table's cells (x0, top, x1, bottom), tables in page order."""
    v = [list(r) for r in v_raw if r[2] - r[1] >= 0]
    h = [list(r) for r in h_raw if r[2] - r[1] >= 0]
    _snap(v, 0, SNAP)
    _snap(h, 0, SNAP)
    v = [r for r in _join(v, JOIN) if r[2] - r[1] >= MIN_EDGE]
    h = [r for r in _join(h, JOIN) if r[2] - r[1] >= MIN_EDGE]
    if len(v) < 2 or len(h) < 2:
        return []
    # Crossings: point -> (ids of v rules, ids of h rules) through it.
    pts: dict[tuple[float, float], tuple[set[int], set[int]]] = {}
    h_sorted = sorted(range(len(h)), key=lambda i: h[i][0])
    h_ys = [h[i][0] for i in h_sorted]
    for vi, (x, vt, vb) in enumerate(v):
        # Only the horizontals within the vertical's reach (pages hold several tables).
        for hi in h_sorted[bisect.bisect_left(h_ys, vt - ISECT):]:
            y, hx0, hx1 = h[hi]
            if y > vb + ISECT:
                break
            if hx0 - ISECT <= x <= hx1 + ISECT:
                e = pts.get((x, y))
                if e is None:
                    e = pts[(x, y)] = (set(), set())
                e[0].add(vi)
                e[1].add(hi)
    if not pts:
        return []
    points = sorted(pts)  # by x, then y
    by_x: dict[float, list[float]] = {}
    by_y: dict[float, list[float]] = {}
    for x, y in points:
        by_x.setdefault(x, []).append(y)
        by_y.setdefault(y, []).append(x)
    for ys in by_x.values():
        ys.sort()
    for xs in by_y.values():
        xs.sort()

    # pdfplumber tries every point below × every point right of a corner. Along one
    # rule, connection is monotonic (a rule reaching a farther crossing passes the
    # nearer one, which then lists it too), so both scans stop at the first gap.
    cells: list[tuple[float, float, float, float]] = []
    append = cells.append
    bisect_right = bisect.bisect_right
    # Index loops, not slices: a slice copies the rest of the row for every corner.
    for x in sorted(by_x):
        col = by_x[x]
        ncol = len(col)
        for j, y in enumerate(col):
            vs, hs = pts[(x, y)]
            row = by_y[y]
            nrow = len(row)
            first_r = bisect_right(row, x)
            found = None
            for jb in range(j + 1, ncol):
                by = col[jb]
                bv, bh = pts[(x, by)]
                if vs.isdisjoint(bv):
                    break
                for ir in range(first_r, nrow):
                    rx = row[ir]
                    rv, rh = pts[(rx, y)]
                    if hs.isdisjoint(rh):
                        break
                    corner = pts.get((rx, by))
                    if corner is not None and not corner[1].isdisjoint(bh) and not corner[0].isdisjoint(rv):
                        found = (x, y, rx, by)
                        break
                if found:
                    append(found)
                    break
    return _cells_to_tables(cells)


def _cells_to_tables(cells: list[tuple[float, float, float, float]]) -> list[list[tuple[float, float, float, float]]]:
    """Cells that share a corner belong to one table (union-find over corners, the
    finds written out: a function call per corner is most of the cost here)."""
    parent = list(range(len(cells)))
    owner: dict[tuple[float, float], int] = {}
    for i, (x0, t, x1, b) in enumerate(cells):
        root = i
        for corner in ((x0, t), (x0, b), (x1, t), (x1, b)):
            j = owner.setdefault(corner, i)
            if j == i:
                continue
            r = j
            while parent[r] != r:
                r = parent[r]
            parent[j] = r
            if r != root:
                parent[root] = r
                root = r
        parent[i] = root

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    groups: dict[int, list[tuple[float, float, float, float]]] = {}
    for i, c in enumerate(cells):
        groups.setdefault(find(i), []).append(c)
    tables = [g for g in groups.values() if len(g) > 1]
    tables.sort(key=lambda g: min((c[1], c[0]) for c in g))
    return tables
