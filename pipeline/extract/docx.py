"""Word (.docx) → Extracted: paragraphs and tables in body order, merged cells as spans.

Word stores a horizontal merge as one <w:tc> with <w:gridSpan>, and a vertical merge as
a <w:vMerge w:val="restart"/> cell followed, in the rows below, by <w:vMerge/> cells at
the same grid column. We turn both into the HTML convention of `GridCell`: the first
cell carries colspan/rowspan and the continuation cells are left out.
"""
from __future__ import annotations

import io
import re
import zipfile

import docx
from docx.oxml.ns import qn

from nianbao.pipeline.model import MAX_COLUMNS, Extracted, Grid, GridCell


class DocxError(ValueError):
    pass


_T, _P = qn("w:t"), qn("w:p")
_SPACES = frozenset((qn("w:tab"), qn("w:br"), qn("w:cr")))


def _text(el) -> str:
    """Text of a paragraph/cell: runs joined, paragraphs and breaks as spaces."""
    parts: list[str] = []
    for node in el.iter():
        tag = node.tag
        if tag == _T:
            parts.append(node.text or "")
        elif tag in _SPACES:
            parts.append(" ")
        elif tag == _P and parts:
            parts.append(" ")
    return re.sub(r"\s+", " ", "".join(parts).replace("\u3000", " ")).strip()


def _int_attr(el, path: str, default: int) -> int:
    found = el.find(path)
    if found is None:
        return default
    try:
        return max(1, int(found.get(qn("w:val"))))
    except (TypeError, ValueError):
        return default


def _table_grid(tbl, index: int, warnings: list[str]) -> Grid:
    # First pass: every <w:tc> with its grid column, span and vertical-merge role.
    # A gridSpan/gridBefore is clipped at MAX_COLUMNS: a 37 KB file asking for 10^8
    # columns cost 1.3 GB before (Word itself allows 63).
    raw: list[list[tuple[int, int, str | None, object]]] = []
    clipped = 0
    for tr in tbl.findall(qn("w:tr")):
        col = 0
        cells = []
        trpr = tr.find(qn("w:trPr"))
        if trpr is not None and trpr.find(qn("w:gridBefore")) is not None:
            col = _int_attr(trpr, qn("w:gridBefore"), 1)
            clipped += col > MAX_COLUMNS
            col = min(col, MAX_COLUMNS)
            cells.append((0, col, None, None))  # grid columns the row skips: an empty cell keeps positions
        for tc in tr.iterchildren(qn("w:tc"), qn("w:sdt")):
            tcs = [tc] if tc.tag == qn("w:tc") else tc.findall(".//" + qn("w:tc"))
            for t in tcs:
                tcpr = t.find(qn("w:tcPr"))
                span, vmerge = 1, None
                if tcpr is not None:
                    span = _int_attr(tcpr, qn("w:gridSpan"), 1)
                    clipped += span > MAX_COLUMNS
                    span = min(span, MAX_COLUMNS)
                    vm = tcpr.find(qn("w:vMerge"))
                    if vm is not None:
                        vmerge = vm.get(qn("w:val")) or "continue"
                cells.append((col, span, vmerge, t))
                col += span
        raw.append(cells)
    # Second pass: rowspans from runs of "continue" cells under a "restart" cell.
    rows: list[list[GridCell]] = []
    open_at: dict[int, GridCell] = {}  # grid column -> cell a vertical merge started at
    for r, cells in enumerate(raw):
        row: list[GridCell] = []
        c_out = 0
        for col, span, vmerge, tc in cells:
            if vmerge == "continue" and col in open_at:
                open_at[col].rowspan += 1
                continue
            gc = GridCell(text=_text(tc) if tc is not None else "", source={"table": index, "row": r, "cell": c_out},
                          colspan=span)
            c_out += 1
            row.append(gc)
            if vmerge == "restart":
                open_at[col] = gc
            else:
                open_at.pop(col, None)
        rows.append(row)
    if clipped:
        warnings.append(f"Word table {index}: {clipped} column span(s) over {MAX_COLUMNS} clipped")
    return Grid(rows=rows, source={"table": index})


def _body_blocks(body):
    """Paragraphs and tables in order, looking inside content controls (<w:sdt>)."""
    for el in body.iterchildren():
        if el.tag in (qn("w:p"), qn("w:tbl")):
            yield el
        elif el.tag == qn("w:sdt"):
            content = el.find(qn("w:sdtContent"))
            if content is not None:
                yield from _body_blocks(content)


def extract_docx(data: bytes, name: str | None = None) -> Extracted:
    try:
        document = docx.Document(io.BytesIO(data))
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - python-docx raises what its zip/XML/part layers raise
        # (BadZipFile, KeyError, PackageNotFoundError, an AttributeError when a relationships part
        # holds some other XML…): each means this package cannot be read as a .docx.
        raise DocxError(f"not a readable .docx: {type(e).__name__}: {e}") from e
    lines: list[str] = []
    grids: list[Grid] = []
    warnings: list[str] = []
    for el in _body_blocks(document.element.body):
        if el.tag == qn("w:p"):
            t = _text(el)
            if t:
                lines.append(t)
        else:
            grid = _table_grid(el, len(grids), warnings)
            grids.append(grid)
            for row in grid.rows:
                t = " ".join(c.text for c in row if c.text)
                if t:
                    lines.append(t)
    core_title = (document.core_properties.title or "").strip()
    first = next((x for x in lines[:3] if "报告" in x or "年报" in x), None)
    meta: dict[str, object] = {}
    if core_title:
        meta["docx_title"] = core_title
    if name:
        meta["name"] = name
    return Extracted(container="docx", text="\n".join(lines), tables=grids,
                     title=first or core_title or (lines[0] if lines else None), meta=meta, warnings=warnings)
