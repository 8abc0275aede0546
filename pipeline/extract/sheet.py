"""Spreadsheets (XLSX; XLS and Kingsoft ET through LibreOffice): each sheet is a grid.

Agencies publish the statistical tables as a workbook beside the report, or the whole
report as one sheet. A sheet is already a table, so every sheet becomes one `Grid`
with merged ranges as row/col spans, and the document text is the sheets' rows joined
by tabs (so titles and headings printed in cells are read like any other text).
Cells hold values, not print: a number cell reads as its value, a formula as its
cached result (a workbook saved without results has none: the cell is blank and the
table interpreter says so).
"""
from __future__ import annotations

import io
import zipfile
from typing import Any

from ..model import Extracted, Grid, GridCell

MAX_ROWS = 2000  # a statistics sheet has dozens of rows; past this it is data, not a report
MAX_COLS = 100
MAX_SHEET_BYTES = 8 * 10**6  # one worksheet's XML: a statistics sheet is tens of KB, 8 MB is ~100,000 cells


class SheetError(Exception):
    pass


def extract_xlsx(data: bytes, name: str | None = None, *, container: str = "xlsx") -> Extracted:
    import openpyxl

    _check_parts(data, container)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), data_only=True, read_only=False)
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - openpyxl raises whatever its XML/zip/descriptor layers raise
        # (BadZipFile, zlib.error, XMLSyntaxError, ElementTree.ParseError, TypeError from a typed
        # attribute, KeyError from a missing part…): all of them mean this workbook cannot be read.
        raise SheetError(f"corrupt {container.upper()} workbook: {type(e).__name__}: {e}") from e
    tables: list[Grid] = []
    texts: list[str] = []
    warnings: list[str] = []
    for i, ws in enumerate(wb.worksheets):
        if ws.sheet_state != "visible":
            continue
        grids, lines, cut = _sheet(ws, i)
        if cut:
            warnings.append(f"sheet {ws.title!r}: only the first {MAX_ROWS} rows and {MAX_COLS} columns read")
        tables += grids
        texts.append("\n".join(lines))
    title = (wb.properties.title or "").strip() or None
    return Extracted(container=container, text="\n".join(texts), tables=tables, title=title,
                     meta={"sheets": len(wb.worksheets)}, warnings=warnings)


def _check_parts(data: bytes, container: str) -> None:
    """Refuse a worksheet too big to be a report's tables before openpyxl loads it:
    openpyxl builds every cell of every sheet first (~1 KB each), so a 180 KB file whose
    sheet unpacks to 29 MB of rows (under the zip-bomb ratio) needs more than 1 GB."""
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError) as e:
        raise SheetError(f"corrupt {container.upper()} workbook: {type(e).__name__}: {e}") from e
    for info in infos:
        if info.filename.startswith("xl/worksheets/") and info.file_size > MAX_SHEET_BYTES:
            raise SheetError(f"worksheet {info.filename} unpacks to {info.file_size / 1e6:.1f} MB: more than "
                             f"a report's tables ({MAX_SHEET_BYTES // 10**6} MB); not read")


def _value(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def _sheet(ws: Any, index: int) -> tuple[list[Grid], list[str], bool]:
    n_rows, n_cols = min(ws.max_row or 0, MAX_ROWS), min(ws.max_column or 0, MAX_COLS)
    cut = (ws.max_row or 0) > MAX_ROWS or (ws.max_column or 0) > MAX_COLS
    spans: dict[tuple[int, int], tuple[int, int]] = {}  # top-left (row, col) → (rowspan, colspan), 1-based
    covered: set[tuple[int, int]] = set()
    for rng in ws.merged_cells.ranges:
        r0, c0, r1, c1 = rng.min_row, rng.min_col, min(rng.max_row, n_rows), min(rng.max_col, n_cols)
        if r0 > n_rows or c0 > n_cols:
            continue
        spans[(r0, c0)] = (r1 - r0 + 1, c1 - c0 + 1)
        covered.update((r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1) if (r, c) != (r0, c0))
    rows: list[list[GridCell]] = []
    lines: list[str] = []
    for r, row in enumerate(ws.iter_rows(min_row=1, max_row=n_rows, max_col=n_cols, values_only=True), 1):
        cells: list[GridCell] = []
        for c, v in enumerate(row, 1):
            if (r, c) in covered:
                continue
            rs, cs = spans.get((r, c), (1, 1))
            cells.append(GridCell(_value(v), {"sheet": index, "row": r, "col": c}, rowspan=rs, colspan=cs))
        texts = [x.text for x in cells if x.text]
        if texts:
            lines.append("\t".join(texts))
        rows.append(cells)
    return _blocks(rows, index, ws.title), lines, cut


def _blocks(rows: list[list[GridCell]], index: int, title: str) -> list[Grid]:
    """A sheet often stacks the tables under their headings: blank rows part them
    (unless a merged cell reaches down into them), and a row with a single filled cell
    before a table starts (a heading, a title) belongs to the text, not to a table."""
    out: list[Grid] = []
    block: list[list[GridCell]] = []

    def reaches_next() -> bool:  # a rowspan of the block covers the row after it
        n = len(block)
        return any(i + x.rowspan > n for i, row in enumerate(block) for x in row)

    def close() -> None:
        if len(block) >= 2:
            # The sheet's used range is as wide as its widest table: cut each table
            # to its own columns, or narrower tables gain empty columns.
            right = max(x.source["col"] + x.colspan - 1 for row in block for x in row if x.text or x.colspan > 1)
            rows = [[x for x in row if x.source["col"] <= right] for row in block]
            out.append(Grid(rows=rows, source={"sheet": index, "name": title,
                                               "row": next((x.source["row"] for x in block[0]), None)}))
        block.clear()

    for cells in rows:
        filled = sum(1 for x in cells if x.text)
        if filled == 0 and not (block and reaches_next()):
            close()
        elif filled == 1 and not block and all(x.rowspan == 1 for x in cells):
            continue
        else:
            block.append(cells)
    close()
    return out

