"""Reference PDF extractor on pdfplumber: slow, simple, and the yardstick for the fast
path (nianbao.pipeline.extract.pdf), which must produce the same text and the same
grids; tests/test_pdf_extract.py and benchmarks/parse.py compare the two cell for cell.
Both share the conventions of nianbao.pipeline.extract.pdf_layout. Needs pdfplumber
(the `test` extra): neither the parser nor the crawler imports this module."""
from __future__ import annotations

import io
import re
from typing import Any

from nianbao.pipeline.extract.pdf_layout import (
    CJK_SPACES,
    THIN,
    assemble,
    close_open_ends,
    decode_pdf_string,
    lattice_to_grid,
    normalise_cell_text,
    settle_tables,
    tidy_page_text,
)
from nianbao.pipeline.model import Extracted, Grid


def normalise_text(text: str) -> str:
    """Text for comparing two extractions: CJK spacing removed, runs of blanks folded,
    empty lines dropped. Line breaks are kept: they carry reading order."""
    lines = []
    for ln in text.splitlines():
        ln = CJK_SPACES.sub("", ln.strip())
        ln = re.sub(r"\s+", " ", ln)
        if ln:
            lines.append(ln)
    return "\n".join(lines)


def same_place(a: Grid, b: Grid, bbox_tol: float = 1.0) -> bool:
    """Same page, same flags, boxes within bbox_tol points (pdfium works in float32)."""
    sa = {k: v for k, v in a.source.items() if k != "bbox"}
    sb = {k: v for k, v in b.source.items() if k != "bbox"}
    return sa == sb and max(abs(x - y) for x, y in zip(a.source["bbox"], b.source["bbox"])) <= bbox_tol




def grids_equal(a: Grid, b: Grid, bbox_tol: float = 2.0) -> list[str]:
    """Differences between two grids (empty list: equal): shape, spans, text, boxes."""
    diffs: list[str] = []
    ma, mb = a.matrix(), b.matrix()
    if len(ma) != len(mb) or (ma and len(ma[0]) != len(mb[0])):
        return [f"shape {len(ma)}x{len(ma[0]) if ma else 0} != {len(mb)}x{len(mb[0]) if mb else 0}"]
    for r, (ra, rb) in enumerate(zip(ma, mb)):
        for c, (ca, cb) in enumerate(zip(ra, rb)):
            if (ca is None) != (cb is None):
                diffs.append(f"[{r},{c}] presence")
                continue
            if ca is None or cb is None:
                continue
            if (ca.rowspan, ca.colspan) != (cb.rowspan, cb.colspan):
                diffs.append(f"[{r},{c}] span {ca.rowspan}x{ca.colspan} != {cb.rowspan}x{cb.colspan}")
            if ca.text != cb.text:
                diffs.append(f"[{r},{c}] text {ca.text!r} != {cb.text!r}")
            ba, bb = ca.source.get("bbox"), cb.source.get("bbox")
            if ba and bb and max(abs(x - y) for x, y in zip(ba, bb)) > bbox_tol:
                diffs.append(f"[{r},{c}] bbox {ba} != {bb}")
    return diffs


# --- pdfplumber side ------------------------------------------------------------------


def _ruling_edges(page: Any) -> tuple[list[dict], list[dict]]:
    """Edges that can be table rules: stroked lines, rectangles and polylines, and
    filled rectangles thin enough to be a drawn line. Big filled rectangles (white
    line backgrounds, cell shading) are not rules."""
    from pdfplumber import utils

    objs: list[dict] = []
    for ln in page.lines:
        if ln.get("stroke"):  # an unstroked line paints nothing
            objs.append(ln)
    for rc in page.rects:
        if rc.get("stroke"):
            objs.append(rc)
        elif rc.get("fill") and min(rc["width"], rc["height"]) <= THIN:
            objs.append(_thin_rect_as_line(rc))
    for cv in page.curves:
        if cv.get("stroke"):
            objs.append(cv)
    v: list[dict] = []
    h: list[dict] = []
    for o in objs:
        for e in utils.obj_to_edges(o):
            if e.get("orientation") == "v":
                v.append(e)
            elif e.get("orientation") == "h":
                h.append(e)
    for y, x0, x1 in close_open_ends(
        [(e["x0"], e["top"], e["bottom"]) for e in v], [(e["top"], e["x0"], e["x1"]) for e in h]
    ):
        h.append({"object_type": "line", "x0": x0, "x1": x1, "top": y, "bottom": y,
                  "width": x1 - x0, "height": 0, "orientation": "h"})
    return v, h


def _thin_rect_as_line(rc: dict) -> dict:
    if rc["width"] <= rc["height"]:
        x = (rc["x0"] + rc["x1"]) / 2
        return {**rc, "object_type": "line", "x0": x, "x1": x, "width": 0,
                "pts": [(x, rc["top"]), (x, rc["bottom"])]}
    y = (rc["top"] + rc["bottom"]) / 2
    return {**rc, "object_type": "line", "top": y, "bottom": y, "height": 0,
            "y0": rc["y0"], "y1": rc["y0"], "pts": [(rc["x0"], y), (rc["x1"], y)]}


def _raw_title(pdf: Any) -> str | None:
    from pdfminer.pdftypes import resolve1

    for info in getattr(pdf.doc, "info", None) or []:
        if "Title" in info:
            return decode_pdf_string(resolve1(info["Title"]))
    return None


def _char_in(ch: dict, box: tuple[float, float, float, float]) -> bool:
    v_mid = (ch["top"] + ch["bottom"]) / 2
    h_mid = (ch["x0"] + ch["x1"]) / 2
    return box[0] <= h_mid < box[2] and box[1] <= v_mid < box[3]


def extract_pdf_reference(data: bytes, name: str | None = None) -> Extracted:
    import pdfplumber
    from pdfplumber import utils

    tables: list[Grid] = []
    page_texts: list[str] = []
    warnings: list[str] = []
    with pdfplumber.open(io.BytesIO(data)) as pdf:
        title = _raw_title(pdf)
        encrypted = bool(getattr(pdf.doc, "encryption", None))
        textless: list[int] = []
        heights: dict[int, float] = {}
        centres: dict[int, list[float]] = {}
        for page in pdf.pages:
            pno = page.page_number
            page = page.dedupe_chars()
            chars = [c for c in page.chars if c["text"].strip() or c["text"] == " "]
            page_chars = sum(1 for c in chars if c["text"].strip())
            if not page_chars:
                textless.append(pno)
            page_texts.append(tidy_page_text(page.extract_text() or ""))
            heights[pno] = float(page.height)
            centres[pno] = [(c["top"] + c["bottom"]) / 2 for c in chars if c["text"].strip()]
            v, h = _ruling_edges(page)
            if len(v) < 2 or len(h) < 2:
                continue
            settings = {
                "vertical_strategy": "explicit",
                "horizontal_strategy": "explicit",
                "explicit_vertical_lines": v,
                "explicit_horizontal_lines": h,
            }
            for t in page.find_tables(settings):

                def text_of(box: tuple[float, float, float, float]) -> str:
                    cc = [c for c in chars if _char_in(c, box)]
                    return normalise_cell_text(utils.extract_text(cc)) if cc else ""

                g = lattice_to_grid(t.cells, text_of, pno, min_rows=1)
                if g is not None:
                    tables.append(g)
        n_pages = len(pdf.pages)
        tables = settle_tables(tables, heights, centres)
    return assemble(page_texts, tables, title=title, encrypted=encrypted, n_pages=n_pages,
                    warnings=warnings, textless=textless)
