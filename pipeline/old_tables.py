"""The 2008–2018 statistics table (old_template.py) → cells of table "old".

A table is found in the document's grids (HTML, Word, ruled PDF) or, failing that, in
its text lines (plain text, PDFs without rules, tables flattened into text). Each row's
label is matched to a row code, the block it stands in settling shared wordings; its
figures are placed by the header (本年度 / 历年累计 / 统计数). A row whose figures
cannot be placed unambiguously (two figures and no header naming the columns; digits
run together where two columns are printed) gets NULL cells with the reason. The
printed label and unit are kept with every cell.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import old_template as O
from .model import Cell, Grid, Issue
from .numbers import is_blank, normalize, parse_cell

_HEAD_YEAR = re.compile(r"本年度?|当年|本期|统计数|数量|数据|合计")
_HEAD_CUM = re.compile(r"累计")
_HEAD_UNIT = re.compile(r"^单位$|^计量单位$")
_TITLE = re.compile(r"统计表|统计情况|情况统计")


@dataclass
class Found:
    cells: list[Cell] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    layout: str | None = None  # "2008" | "2014"


def interpret(grids: list[Grid], text: str, year: int | None) -> Found:
    """The old statistics table of a 2008–2018 report, from its grids or its text."""
    rows: list[tuple[str, str | None, list[tuple[str | None, str, str | None]], dict]] = []
    # (label, unit, [(col or None, raw, reason)], source) per printed row
    for g in grids:
        rows += _grid_rows(g)
    if not _codes(rows):
        rows = _text_rows(text)
    out = Found(layout=O.layout_for_year(year))
    seen: set[tuple[str, str]] = set()
    block: str | None = None
    for label, unit, values, source in rows:
        row = O.row_for(label, block)
        if row is None:
            block = O.block_of(label) if len(O.key(label)) <= 12 else block
            continue
        if row.code.endswith(".total") or row.code in ("complaints",):
            block = row.code.split(".")[0]
        for col, raw, reason in _placed(values):
            if (row.code, col) in seen:
                continue  # a table repeated (summary and annex): the first reading stands
            seen.add((row.code, col))
            value, why = (None, reason) if reason else _value(raw, unit or row.unit)
            out.cells.append(Cell(table="old", row=row.code, col=col, value=value, raw=raw, source=source,
                                  reason=why, label=label.strip(), unit=unit or row.unit))
    if out.cells and any(c.reason for c in out.cells):
        n = sum(1 for c in out.cells if c.reason)
        out.issues.append(Issue("extraction", "old_cells_unreadable",
                                f"{n} figures of the old statistics table could not be read", table=None))
    return out


def _codes(rows) -> set[str]:
    block = None
    found = set()
    for label, _, values, _ in rows:
        r = O.row_for(label, block)
        if r and values:
            found.add(r.code)
            if r.code.endswith(".total"):
                block = r.code.split(".")[0]
    return found


def _value(raw: str, unit: str | None) -> tuple[int | float | None, str | None]:
    money = unit in ("万元", "元")
    return parse_cell(raw, "money" if money else "count")


def _placed(values: list[tuple[str | None, str, str | None]]) -> list[tuple[str, str, str | None]]:
    """(col, raw, reason) for a row's figures: by the header's columns when known."""
    if any(c for c, _, _ in values):
        return [(c, raw, why) for c, raw, why in values if c]
    if len(values) == 1:
        return [("year", values[0][1], values[0][2])]
    if len(values) == 2:
        why = "two figures and no header saying which is 本年度 and which 历年累计"
        return [("year", values[0][1], why), ("cumulative", values[1][1], why)]
    return []


# ------------------------------------------------------------------ from grids
def _grid_rows(g: Grid) -> list:
    out = []
    matrix = g.matrix()
    cols: dict[int, str] = {}  # value column index → "year" | "cumulative"
    unit_col: int | None = None
    for r, line in enumerate(matrix):
        cells, seen = [], set()
        for c, cell in enumerate(line):
            if cell is None or id(cell) in seen:
                continue
            seen.add(id(cell))
            cells.append((c, cell))
        texts = [normalize(cell.text) for _, cell in cells]
        if any(_HEAD_CUM.search(t) for t in texts) or (
                any(_HEAD_YEAR.fullmatch(t) or t in ("本年度", "统计数") for t in texts)
                and not any(_figure(t) for t in texts)):
            cols, unit_col = {}, None
            for (c, cell), t in zip(cells, texts):
                span = range(c, c + cell.colspan)
                if _HEAD_CUM.search(t):
                    cols.update({k: "cumulative" for k in span})
                elif _HEAD_YEAR.search(t):
                    cols.update({k: "year" for k in span})
                elif _HEAD_UNIT.match(t):
                    unit_col = c
            continue
        label_parts, unit, values = [], None, []
        for (c, cell), t in zip(cells, texts):
            # An extractor unsure of what it read (OCR: 「.4」, a low confidence) says so in
            # `doubt`: the figure is NULL with that reason, as in tables 2–4.
            doubt = cell.source.get("doubt")
            if c in cols:
                values.append((cols[c], cell.text, doubt))
            elif (c == unit_col or t in O.UNITS) and not _figure(t):
                unit = t or unit
            elif _figure(t) and label_parts:
                values.append((None, cell.text, doubt))
            elif not _figure(t):
                label_parts.append(cell.text)
        label = "".join(label_parts)
        wanted = sorted(set(cols.values()))
        if not g.complete_rows and wanted and 0 < len(values) < len(wanted):
            # text that lost its cell boundaries: fewer figures than columns says nothing
            # about which column is missing (or whether two figures ran together)
            raw = " ".join(v[1] for v in values)
            why = f"{len(values)} figure(s) ({raw}) for {len(wanted)} columns: which column holds what is not printed"
            if len(values) == 1 and re.fullmatch(r"\d{2,}", normalize(raw)):
                why = f"figures run together ({raw}): where 本年度 ends and 历年累计 begins is not printed"
            values = [(c, raw, why) for c in wanted]
        if label and (values or O.block_of(label)):
            src = dict(cells[0][1].source) if cells else {}
            out.append((label, unit, values, src))
    return out


def _figure(t: str) -> bool:
    return not is_blank(t) and parse_cell(t, "money")[0] is not None


# ------------------------------------------------------------------ from text
_TOKEN = re.compile(r"\S+")


def _text_rows(text: str) -> list:
    """Rows of a table printed as text: 「label [unit] figure [figure]」 per line, the
    columns named by a header line (统计指标 单位 本年度 历年累计)."""
    out = []
    order: list[str] = []
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if _TITLE.search(ln) and len(ln) < 40), None)
    if start is None:
        return out
    for n, line in enumerate(lines[start + 1:], start + 1):
        s = line.strip()
        if not s:
            continue
        flat = re.sub(r"\s+", "", s)
        if _HEAD_CUM.search(flat) and len(flat) < 40:
            order = [m.group(0) for m in re.finditer(r"本年度?|当年|历年累计|累计", flat)]
            order = ["cumulative" if "累计" in x else "year" for x in order]
            continue
        m = re.match(r"^(.*?[^\d\s.,，．])\s*((?:[\d.,，]+|[-—/无])(?:\s+(?:[\d.,，]+|[-—/无]))*)\s*$", s)
        if not m or len(flat) > 80 or "。" in s:
            continue
        label, figures = m.group(1).strip(), m.group(2)
        unit = None
        for u in O.UNITS:
            if label.endswith(u) and len(label) > len(u):
                label, unit = label[: -len(u)].rstrip(), u
                break
        tokens = figures.split()
        src = {"line": n}
        if len(order) == 2 and len(tokens) == 1 and not is_blank(tokens[0]):
            # 「主动公开信息数 条 12345678」 under 本年度 | 历年累计: one run of digits for two columns
            why = f"figures run together ({tokens[0]}): where 本年度 ends and 历年累计 begins is not printed"
            out.append((label, unit, [(c, tokens[0], why) for c in order], src))
        elif order and len(tokens) == len(order):
            out.append((label, unit, [(c, t, None) for c, t in zip(order, tokens)], src))
        else:
            out.append((label, unit, [(None, t, None) for t in tokens], src))
    return out
