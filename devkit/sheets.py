"""Reports as workbooks, for the tests: the generator's tables written with openpyxl the
ways agencies lay them out (XLS and ET are the same workbook saved by LibreOffice).

Layouts: "whole" (one sheet: title, every section's text in a cell of its own row,
tables under their headings, blank rows between), "sheets" (title on the first sheet,
one sheet per table), "tables" (only the tables under their captions, the title in
the file's properties: the statistics attached to a report published as a page or a
PDF). Figures as numbers or as the printed text (thousands
separators, full-width digits, dashes for blanks).
"""
from __future__ import annotations

import io
import re
from typing import Any

from .generate import ReportSpec, convert_to, table_models

_PLAIN_INT = re.compile(r"-?\d+")


def render_xlsx(spec: ReportSpec, *, layout: str = "whole", numbers: bool = True) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    wb.properties.title = spec.title
    ws = wb.active
    ws.title = "统计表" if layout == "tables" else "年报"
    row = 1 if layout == "tables" else _text_row(ws, 1, spec.title)
    models = table_models(spec)
    for i, (head, text) in enumerate(zip(spec.section_titles, spec.sections), start=1):
        if layout == "whole":
            row = _text_row(ws, row + 1, head)
            for para in text.split("\n"):
                row = _text_row(ws, row, para) if para.strip() else row
        for m in models.get(i, []):
            if layout == "sheets":
                ws, row = wb.create_sheet(f"表{i}-{len(wb.worksheets)}"), 1
                row = _text_row(ws, row, head)
            if m.caption:
                row = _text_row(ws, row, m.caption)
            row = _table(ws, row, m.rows, numbers) + 1
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def render_xls(spec: ReportSpec, *, layout: str = "whole", numbers: bool = True) -> bytes:
    """The same workbook in the BIFF8 format (.xls; Kingsoft .et files are BIFF8 too)."""
    return convert_to(render_xlsx(spec, layout=layout, numbers=numbers), "xlsx", "xls")


def _text_row(ws: Any, row: int, text: str) -> int:
    ws.cell(row=row, column=1, value=text)
    return row + 1


def _table(ws: Any, top: int, rows: list, numbers: bool) -> int:
    occupied: set[tuple[int, int]] = set()
    for i, cells in enumerate(rows):
        c = 1
        for cell in cells:
            while (i, c) in occupied:
                c += 1
            value: Any = cell.text
            if numbers and _PLAIN_INT.fullmatch(cell.text or ""):
                value = int(cell.text)
            ws.cell(row=top + i, column=c, value=value if value != "" else None)
            if cell.rowspan > 1 or cell.colspan > 1:
                ws.merge_cells(start_row=top + i, start_column=c, end_row=top + i + cell.rowspan - 1,
                               end_column=c + cell.colspan - 1)
            occupied.update((i + dr, c + dc) for dr in range(cell.rowspan) for dc in range(cell.colspan))
            c += cell.colspan
    return top + len(rows)
