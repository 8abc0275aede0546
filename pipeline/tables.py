"""The table interpreter: extracted Grids → the cells of tables 2, 3 and 4.

Grids arrive in document order and are read as ONE stream of rows, because real
tables are split over pages (with or without a repeated header), share a grid with
page-frame body text, or are cut into one grid per 第二十条 block. Header rows switch
the stream between tables; each data row is then placed on a template row by label
*and order*: a dynamic-programming alignment of the printed rows with the template's
rows, scored by fuzzy label similarity, so a garbled label (「2.其他法律行政止公开」)
still lands on its row because its neighbours pin it down.

Values are placed strictly by position: the last N distinct cells of the row, N being
the template's column count. In a grid that knows its cell boundaries
(`complete_rows`) that is exact even when a header spans columns differently from its
data rows. In a grid that does not (plain text), a row with the wrong number of
figures cannot be placed and every one of its cells becomes None with a reason.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from pipeline import templates as T
from pipeline.model import Cell, Grid, GridCell, Issue
from pipeline.numbers import is_blank, looks_like_value, parse_cell

MIN_SCORE = 0.34  # below this a label says nothing about which row it is
STRONG = 0.75  # a label this close to a template row identifies the table by itself
SHORT = 40  # header/heading cells are short; longer cells are body text in page frames


# ------------------------------------------------------------------ row views
@dataclass
class RowView:
    label: str  # label text of the row (cells before the figures), as printed
    values: list[GridCell]  # trailing cells that look like figures or blanks
    own: list[GridCell]  # every distinct cell that starts in this row, in order
    complete: bool  # the grid knows its cell boundaries
    texts: list[str]  # texts of all cells in the row (incl. those spanning from above)
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return " ".join(t for t in self.texts if t)


def norm_label(s: str) -> str:
    """Labels compared without width, spacing or punctuation differences."""
    s = unicodedata.normalize("NFKC", s)
    return "".join(ch for ch in s if ch.isalnum())


def similarity(printed: str, label: str) -> float:
    a, b = norm_label(printed), norm_label(label)
    if not a or not b:
        return 0.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def row_views(grids: list[Grid]) -> list[RowView]:
    out: list[RowView] = []
    for g in grids:
        m = g.matrix()
        prev: list[GridCell | None] = []
        for r, line in enumerate(m):
            own: list[GridCell] = []
            texts: list[str] = []
            seen: set[int] = set()
            for c, cell in enumerate(line):
                if cell is None or id(cell) in seen:
                    continue
                seen.add(id(cell))
                texts.append(cell.text.strip())
                if c < len(prev) and prev[c] is cell:
                    continue  # spans down from an earlier row: context, not this row's cell
                if not g.complete_rows and is_blank(cell.text):
                    continue  # a text extractor's empty field proves nothing
                own.append(cell)
            prev = line
            if not own:
                continue
            k = len(own)
            while k > 0 and looks_like_value(own[k - 1].text):
                k -= 1
            label = "".join(c.text for c in own[:k])
            src = dict(own[0].source)
            src.pop("cell", None)
            out.append(RowView(label=label, values=own[k:], own=own, complete=g.complete_rows,
                               texts=texts, source=src))
    return out


# ------------------------------------------------------------------ stream split
_T2_SIGNS = ("第二十条", "信息内容", "主动公开政府信息情况", "本年制发件数", "本年新制作数量", "上一年项目数量", "采购项目数量")
_T3_SIGNS = ("申请人情况", "自然人", "法人或其他组织", "勾稽", "收到和处理政府信息公开申请", "商业企业")
_T4_SIGNS = ("行政复议", "行政诉讼", "复议后起诉", "未经复议", "结果维持")


def _header_table(rv: RowView) -> int | None:
    """Which table a header/heading row opens, judged from its short cells only."""
    if any(looks_like_value(c.text) and not is_blank(c.text) for c in rv.own):
        return None
    short = [norm_label(t) for t in rv.texts if t and len(norm_label(t)) <= SHORT]
    joined = "".join(short)
    for table, signs in ((4, _T4_SIGNS), (3, _T3_SIGNS), (2, _T2_SIGNS)):
        if any(norm_label(s) in joined for s in signs):
            return table
    return None


def _t2_labels() -> list[str]:
    return [r.label for layout in (T.T2_2021, T.T2_2019) for rows, _ in layout.values() for r in rows]


def _t3_labels() -> list[str]:
    return [r.block + r.label for r in T.T3_ROWS_2021 + T.T3_ROWS_2019] + [r.label for r in T.T3_ROWS_2021]


def _label_table(label: str) -> tuple[int | None, float]:
    if not norm_label(label):
        return None, 0.0
    s2 = max(similarity(label, x) for x in _t2_labels())
    s3 = max(similarity(label, x) for x in _t3_labels())
    return (2, s2) if s2 >= s3 else (3, s3)


def split_tables(rows: list[RowView]) -> dict[int, list[RowView]]:
    """Assign each row carrying figures to table 2, 3 or 4 (or none)."""
    parts: dict[int, list[RowView]] = {2: [], 3: [], 4: []}
    state: int | None = None
    for rv in rows:
        if not rv.values:
            h = _header_table(rv)
            if h is not None:
                state = h
            continue
        table, score = _label_table(rv.label)
        if table is not None and score >= STRONG and table != state and state != 4:
            state = table  # a header was lost, but this label can only be in that table
        elif state == 4 and table is not None and score >= STRONG and table == 3 and not parts[4]:
            state = 3
        if state is not None:
            parts[state].append(rv)
    return parts


# ------------------------------------------------------------------ alignment
def align(data: list[str], template: list[list[str]]) -> tuple[dict[int, int], float]:
    """Order-preserving assignment of printed rows to template rows.

    `template[j]` holds the label variants of template row j. Returns ({template index:
    data index}, score). Rows between two confident matches are filled by position when
    the counts agree (a label garbled beyond recognition between correct neighbours).
    """
    n, m = len(data), len(template)
    sc = [[max(similarity(d, t) for t in template[j]) for j in range(m)] for d in data]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = sc[i][j] + best[i + 1][j + 1] if sc[i][j] >= MIN_SCORE else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    match: dict[int, int] = {}
    i = j = 0
    while i < n and j < m:
        if sc[i][j] >= MIN_SCORE and best[i][j] == sc[i][j] + best[i + 1][j + 1]:
            match[j] = i
            i += 1
            j += 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    score = best[0][0] if n and m else 0.0
    # Fill gaps (and the ends) whose sizes agree, by position.
    anchors = [(-1, -1)] + sorted((i, j) for j, i in match.items()) + [(n, m)]
    for (i0, j0), (i1, j1) in zip(anchors, anchors[1:]):
        if i1 - i0 == j1 - j0:
            for k in range(1, i1 - i0):
                match[j0 + k] = i0 + k
    return match, score


# ------------------------------------------------------------------ interpretation
@dataclass
class TableResult:
    cells: list[Cell] = field(default_factory=list)
    templates: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def _place(table: int, row: str, cols: list[tuple[str, str]], rv: RowView | None,
           out: TableResult, unit_hint: str | None = None) -> None:
    """Emit the cells of one template row from one printed row (or its absence)."""
    n = len(cols)
    if rv is None:
        for col, _ in cols:
            out.cells.append(Cell(table, row, col, None, None, {}, "row not found"))
        out.issues.append(Issue("extraction", "row_missing", f"table {table} row {row} not found",
                                table=table, row=row, cells=[[row, c] for c, _ in cols]))
        return
    if len(rv.values) >= n and (rv.complete or len(rv.values) == n):
        picked = rv.values[-n:]
    elif rv.complete and len(rv.own) > n:
        picked = rv.own[-n:]  # a garbled figure broke the run; positions still hold
    else:
        why = (f"row has {len(rv.values)} figures for {n} columns; which column is blank "
               f"cannot be told from the extracted text")
        for col, _ in cols:
            out.cells.append(Cell(table, row, col, None, None, dict(rv.source), why))
        out.issues.append(Issue("extraction", "row_unreadable", f"table {table} row {row}: {why}",
                                table=table, row=row, cells=[[row, c] for c, _ in cols]))
        return
    for (col, kind), gc in zip(cols, picked):
        unit = "yuan" if col == "amount" else "10k_yuan" if col == "amount_10k_yuan" else None
        value, reason = parse_cell(gc.text, kind, unit, unit_hint if kind == "money" else None)
        out.cells.append(Cell(table, row, col, value, gc.text, dict(gc.source), reason))
        if reason:
            out.issues.append(Issue("extraction", "cell_unreadable", f"table {table} {row}/{col}: {reason}",
                                    table=table, row=row, col=col, cells=[[row, col]]))


def _choose(data: list[str], candidates: dict[str, list[list[str]]], bonus: dict[str, float]):
    """Pick the template whose rows align best with the printed rows."""
    best = None
    for name, rows in candidates.items():
        match, score = align(data, rows)
        unmatched = (len(rows) - len(match)) + (len(data) - len(set(match.values())))
        key = score - 0.3 * unmatched + bonus.get(name, 0.0)
        if best is None or key > best[0]:
            best = (key, name, match)
    return best[1], best[2]


def interpret_table3(rows: list[RowView], out: TableResult) -> None:
    data = [r.label for r in rows]
    cands = {name: [[r.label, r.block + r.label] for r in T.table3_rows(name)] for name in ("2021", "2019")}
    name, match = _choose(data, cands, {})
    out.templates["3"] = name
    cols = [(c.code, c.kind) for c in T.T3_COLS]
    for j, trow in enumerate(T.table3_rows(name)):
        _place(3, trow.code, cols, rows[match[j]] if j in match else None, out)


_T2_COL_SIGNS = {
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额"),
    "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增减", "采购项目数量", "采购总金额"),
}


def interpret_table2(rows: list[RowView], headers: list[RowView], out: TableResult) -> None:
    data = [r.label for r in rows]
    head = norm_label("".join(h.text for h in headers))
    bonus = {name: 0.5 * sum(norm_label(s) in head for s in signs) for name, signs in _T2_COL_SIGNS.items()}
    cands = {name: [[r.label] for rows_, _ in T.table2_layout(name).values() for r in rows_] for name in ("2021", "2019")}
    name, match = _choose(data, cands, bonus)
    out.templates["2"] = name
    j = 0
    for rows_, cols_ in T.table2_layout(name).values():
        cols = [(c.code, c.kind) for c in cols_]
        for trow in rows_:
            rv = rows[match[j]] if j in match else None
            _place(2, trow.code, cols, rv, out, _unit_hint(rv, headers) if rv else None)
            j += 1


def _unit_hint(rv: RowView, headers: list[RowView]) -> str | None:
    """The money unit a column header declares (「采购总金额（万元）」) for unit-less cells."""
    before = [h for h in headers if h.source.get("_seq", 0) < rv.source.get("_seq", 0)]
    if not before:
        return None
    m = re.search(r"(亿元|万元|元)", unicodedata.normalize("NFKC", before[-1].text))
    return m.group(1) if m else None


def interpret_table4(rows: list[RowView], out: TableResult) -> None:
    cols = [(c.code, c.kind) for c in T.T4_COLS]
    out.templates["4"] = "2021"  # identical in both templates; parse may rename it
    width = len(T.T4_GROUPS) * len(cols)
    wide = [r for r in rows if len(r.values) >= width or (r.complete and len(r.own) >= width)]
    if wide:
        rv = wide[0]
        split = RowView(rv.label, rv.values, rv.own, rv.complete, rv.texts, rv.source)
        n = len(cols)
        if len(rv.values) >= width:
            vals = rv.values[-width:]
        else:
            vals = rv.own[-width:]
        for k, g in enumerate(T.T4_GROUPS):
            part = vals[k * n:(k + 1) * n]
            _place(4, g.code, cols, RowView(rv.label, part, part, True, rv.texts, rv.source), out)
        return
    # One printed row per group (some publishers transpose the layout this way).
    labels = [r.label for r in rows]
    match, _ = align(labels, [[g.label, g.block + g.label] for g in T.T4_GROUPS])
    if match and all(norm_label(labels[i]) for i in match.values()):
        for j, g in enumerate(T.T4_GROUPS):
            _place(4, g.code, cols, rows[match[j]] if j in match else None, out)
        return
    # The data row is there but with the wrong number of figures, or missing.
    rv = max(rows, key=lambda r: len(r.values), default=None)
    if rv is not None and len(rv.values) >= len(cols):
        why = f"row has {len(rv.values)} figures for {width} columns; cannot place them"
        for g in T.T4_GROUPS:
            for col, _ in cols:
                out.cells.append(Cell(4, g.code, col, None, None, dict(rv.source), why))
        out.issues.append(Issue("extraction", "row_unreadable", f"table 4: {why}", table=4))
    else:
        for g in T.T4_GROUPS:
            _place(4, g.code, cols, None, out)


def interpret(grids: list[Grid], text: str = "") -> TableResult:
    """Cells, per-table templates and extraction issues of tables 2–4.

    Tables that are not found at all emit nothing here; `pipeline.parse` decides
    whether their absence matters (a pre-2019 report has none).
    """
    views = row_views(grids)
    for seq, rv in enumerate(views):
        rv.source["_seq"] = seq
    parts = split_tables(views)
    headers2 = [rv for rv in views if not rv.values and _header_table(rv) == 2]
    out = TableResult()
    if parts[2]:
        interpret_table2(parts[2], headers2, out)
    if parts[3]:
        interpret_table3(parts[3], out)
    if parts[4]:
        interpret_table4(parts[4], out)
    for c in out.cells:
        c.source.pop("_seq", None)
    for rv in views:
        rv.source.pop("_seq", None)
    return out


def missing_table(table: int, template: str) -> TableResult:
    """Every cell of a table that was not found: None with a reason, and one issue."""
    out = TableResult()
    out.templates[str(table)] = template
    for row, col, _ in T.expected_cells(table, template):
        out.cells.append(Cell(table, row, col, None, None, {}, "table not found"))
    out.issues.append(Issue("extraction", "table_missing", f"table {table} not found", table=table))
    return out
