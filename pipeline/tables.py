"""The table interpreter: extracted Grids → the cells of tables 2, 3 and 4.

Grids arrive in document order and are read as ONE stream of rows, because real
tables are split over pages (with or without a repeated header), share a grid with
page-frame body text, or are cut into one grid per 第二十条 block. Header rows switch
the stream between tables; each data row is then placed on a template row by label
*and order*: a dynamic-programming alignment of the printed rows with the template's
rows, scored by fuzzy label similarity, so a garbled label (「2.其他法律行政止公开」)
still lands on its row because its neighbours pin it down.

Values are placed strictly by position: the row's N distinct figure cells in order, N
being the template's column count (see `_pick` for empty padding cells and garbled
figures). In a grid that knows its cell boundaries (`complete_rows`) that is exact
even when a header spans columns differently from its data rows. In a grid that does
not (plain text), a row with the wrong number of figures cannot be placed and every
one of its cells becomes None with a reason: never a guess.

A table found in no grid is looked for in the document's text lines, strictly (a row
needs its own label on its line).
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from typing import Any, Callable

from nianbao.pipeline import templates as T
from nianbao.pipeline.model import Cell, Grid, GridCell, Issue
from nianbao.pipeline.numbers import is_blank, looks_like_value, parse_cell

MIN_SCORE = 0.34  # below this a label says nothing about which row it is
HOPELESS = 0.3  # below MIN_SCORE: a score under it is never compared with a real match
STRICT_MIN = 0.5  # for rows rebuilt from plain text lines, where order proves less
STRONG = 0.75  # a label this close to a template row identifies the table by itself
SHORT = 40  # header/heading cells are short; longer cells are body text in page frames
MAX_ROWS = 150  # a real table has at most ~30 rows (twice that if printed twice): bounds the work


# ------------------------------------------------------------------ row views
@dataclass
class RowView:
    label: str  # label text of the row (cells before the figures), as printed
    values: list[GridCell]  # trailing cells that look like figures or blanks
    own: list[GridCell]  # every distinct cell that starts in this row, in order
    complete: bool  # the grid knows its cell boundaries
    texts: list[str]  # texts of all cells in the row (incl. those spanning from above)
    source: dict[str, Any] = field(default_factory=dict)
    at: list[int] = field(default_factory=list)  # matrix column where each `own` cell starts
    grid: int = -1  # index of the Grid the row came from
    header: str = ""  # the last header row above it (units live there: 「（单位：万元）」)
    item: str = ""  # table 2: the 第二十条第（X）项 block it is printed under ("一", "五", …)

    @property
    def text(self) -> str:
        return " ".join(t for t in self.texts if t)


@lru_cache(maxsize=65536)
def norm_label(s: str) -> str:
    """Labels compared without width, spacing or punctuation differences."""
    s = unicodedata.normalize("NFKC", s)
    return "".join(ch for ch in s if ch.isalnum())


@lru_cache(maxsize=65536)
def similarity(printed: str, label: str) -> float:
    a, b = norm_label(printed), norm_label(label)
    if not a or not b:
        return 0.0
    bound = 2 * min(len(a), len(b)) / (len(a) + len(b))  # the ratio can be no higher
    if bound < HOPELESS:
        return bound  # a whole table's text merged into one label: difflib is quadratic in it
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def row_views(grids: list[Grid]) -> list[RowView]:
    out: list[RowView] = []
    # The previous grid's last matrix row, the row above it and the index of its view in
    # `out`: a row broken by a page break continues there (see `_merge_fragment`).
    tail: tuple[list, list, int, Grid, int] | None = None
    for gi, g in enumerate(grids):
        m = g.matrix()
        prev: list[GridCell | None] = []
        # Only the first row below a repeated header can be the rest of a broken row.
        mend = tail is not None and tail[4] == gi - 1 and bool(g.source.get("continues_previous"))
        new_tail = None
        for r, line in enumerate(m):
            rv = _view(g, gi, line, prev)
            if rv is not None and mend and _header_table(rv) is None:
                mend = False
                if not out[tail[2]].values and not norm_label(rv.label) and len(rv.values) == len(rv.own):
                    # a header row left at the foot of a page (「行政复议 | 行政诉讼」)
                    # never takes in the figures of the page after: those are its body
                    out.append(rv)
                    if r == len(m) - 1:
                        new_tail = (line, prev, len(out) - 1, g, gi)
                    prev = line
                    continue
                merged = _merge_fragment(tail, line, rv)
                if merged is not None:
                    out[tail[2]] = merged
                    prev = line
                    continue
            if rv is not None:
                out.append(rv)
                if r == len(m) - 1:
                    new_tail = (line, prev, len(out) - 1, g, gi)
            prev = line
        tail = new_tail
    return out


T4_WIDTH = len(T.T4_GROUPS) * len(T.T4_COLS)


def _view(g: Grid, gi: int, line: list[GridCell | None], prev: list[GridCell | None]) -> RowView | None:
    """One matrix row as a RowView (None for an empty spacer row). `prev` is the matrix
    row above it: cells continuing from there span down and are context only."""
    own: list[GridCell] = []
    at: list[int] = []
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
        at.append(c)
    if all(not c.text.strip() for c in own) and not (g.complete_rows and len(own) >= T4_WIDTH):
        # An empty spacer row says nothing; a row of 「无」 or 「—」 does, and so does a
        # ruled row as wide as table 4's data row: its fifteen figures printed blank.
        return None
    k = len(own)
    # A cell the extractor doubts (OCR saw ink it could not read: 「?」) stands where a
    # figure does: it is one, unread, and must not join the label.
    while k > 0 and (looks_like_value(own[k - 1].text) or own[k - 1].source.get("doubt")):
        k -= 1
    label = "".join(c.text for c in own[:k])
    src = dict(own[0].source)
    src.pop("cell", None)
    return RowView(label=label, values=own[k:], own=own, complete=g.complete_rows,
                   texts=texts, source=src, at=at, grid=gi)


def _figure(text: str) -> bool:
    return looks_like_value(text) and not is_blank(text)


def _merge_fragment(tail: tuple[list, list, int, Grid, int], line: list[GridCell | None],
                    rv: RowView) -> RowView | None:
    """The previous grid's last row completed by `line`, if `line` is the rest of it.

    LibreOffice and Word let a row break across a page: what does not fit (the end of
    a wrapped label, the second line of a header cell, or the figures of a row whose
    label took the page's last line) opens the next page's table as a row of its own.
    Such a fragment only completes its row: in every column at most one of the two
    holds a figure, a figure never stands against text, and the label does not match
    a template row better on its own than joined to the one above. A full row at the
    top of the page (its own label, or figures where the row above has figures too)
    is left alone."""
    pline, pprev, _, pg, pgi = tail
    above = {id(p) for c, p in enumerate(pline) if p is not None and c < len(pprev) and pprev[c] is p}
    adds: dict[int, list[GridCell]] = {}
    seen: set[int] = set()
    for c, q in enumerate(line):
        if q is None or id(q) in seen:
            continue
        seen.add(id(q))
        if not q.text.strip() or (q.source.get("doubt") and not _figure(q.text)):
            continue  # empty, or ink OCR could not read (specks in an empty part): nothing to join
        p = _above_of(q, c, pline, line)
        if p is None:
            return None  # text where the row above has no cell: not its continuation
        a, b = p.text.strip(), q.text.strip()
        if a and (_figure(a) or _figure(b)):
            return None  # two figures, or a figure against text: two rows
        if id(p) not in above:  # a block label spanning from above is context only
            adds.setdefault(id(p), []).append(q)
    merged: list[GridCell | None] = []
    made: dict[int, GridCell] = {}
    for p in pline:
        if p is None or id(p) not in adds:
            merged.append(p)
            continue
        cell = made.get(id(p))
        if cell is None:
            qs = adds[id(p)]
            text = p.text
            for q in qs:
                text = _join_text(text, q.text)
            if not p.text.strip():
                src = dict(qs[0].source)  # all printed on the next page: that is where it is
            else:
                src = dict(p.source)
                src["continued"] = dict(qs[0].source)
            cell = made[id(p)] = GridCell(text, src, p.rowspan, p.colspan)
        merged.append(cell)
    view = _view(pg, pgi, merged, pprev)
    if view is None:
        return None
    if norm_label(rv.label) and _label_score(rv.label) >= STRONG and _label_score(view.label) < _label_score(rv.label):
        return None  # a row with a label of its own
    before = _label_score(_view(pg, pgi, pline, pprev).label)
    if before >= STRONG and _label_score(view.label) < before:
        return None  # the row above is whole already, and joining would spoil its label
    return view


def _above_of(q: GridCell, c: int, pline: list[GridCell | None], line: list[GridCell | None]) -> GridCell | None:
    """The cell of the row above that `q` (starting at matrix column c) continues:
    by position on the page where both carry boxes (the lattices of two pages may
    cut columns differently), else by column in grids of the same width."""
    qb = q.source.get("bbox")
    if qb is not None:
        mid = (qb[0] + qb[2]) / 2
        for p in pline:
            pb = p.source.get("bbox") if p is not None else None
            if pb is not None and pb[0] <= mid < pb[2]:
                return p
        return None
    return pline[c] if len(pline) == len(line) else None


def _join_text(a: str, b: str) -> str:
    a, b = a.strip(), b.strip()
    if a and b and a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        return a + " " + b  # two Latin words; CJK text wraps without spaces
    return a + b


@lru_cache(maxsize=4096)
def _label_score(label: str) -> float:
    """How well a label matches its closest template row label (0 when it is empty)."""
    if not norm_label(label):
        return 0.0
    return max((similarity(label, b) for _, b, _ in _table_labels()), default=0.0)


# ------------------------------------------------------------------ stream split
_T2_SIGNS = ("第二十条", "信息内容", "主动公开政府信息情况", "本年制发件数", "本年新制作数量", "上一年项目数量", "采购项目数量")
_T3_SIGNS = ("申请人情况", "自然人", "法人或其他组织", "勾稽", "收到和处理政府信息公开申请", "商业企业")
_T4_SIGNS = ("行政复议", "行政诉讼", "复议后起诉", "未经复议", "结果维持")


def _header_table(rv: RowView) -> int | None:
    """Which table a header/heading row opens, judged from its short cells only."""
    if any(looks_like_value(c.text) and not is_blank(c.text) for c in rv.own):
        return None
    short = [norm_label(t) for t in rv.texts if t and len(norm_label(t)) <= SHORT and "。" not in t]
    joined = "".join(short)
    for table, signs in ((4, _T4_SIGNS), (3, _T3_SIGNS), (2, _T2_SIGNS)):
        if any(norm_label(s) in joined for s in signs):
            return table
    return None


@lru_cache(maxsize=1)
def _table_labels() -> tuple[tuple[int, str, Counter], ...]:
    t2 = [(2, norm_label(r.label)) for layout in (T.T2_2021, T.T2_2019) for rows, _ in layout.values() for r in rows]
    t3 = [(3, norm_label(r.block + r.label)) for r in T.T3_ROWS_2021 + T.T3_ROWS_2019]
    t3 += [(3, norm_label(r.label)) for r in T.T3_ROWS_2021]
    return tuple((t, b, Counter(b)) for t, b in dict.fromkeys(t2 + t3))


def _label_table(label: str) -> tuple[int | None, float]:
    """The table whose row labels this label matches at least STRONG, if any."""
    a = norm_label(label)
    if not a or len(a) > 2 * SHORT:
        return None, 0.0  # no template label is that long: body text, not worth comparing
    ca = Counter(a)
    best: tuple[int | None, float] = (None, 0.0)
    for table, b, cb in _table_labels():
        total = len(a) + len(b)
        if 2 * min(len(a), len(b)) < STRONG * total:
            continue
        shared = sum(min(n, cb[ch]) for ch, n in ca.items() if ch in cb)
        if 2 * shared < STRONG * total:
            continue  # the characters in common bound the ratio: most pairs end here
        r = similarity(a, b)
        if r > best[1]:
            best = (table, r)
    return best


_ITEM = re.compile(r"第二十条第\s*\(?\s*([一二三四五六七八九十]+)\s*\)?\s*项")


def split_tables(rows: list[RowView], borrow_labels: bool = True) -> dict[int, list[RowView]]:
    """Assign each row carrying figures to table 2, 3 or 4 (or none).

    With `borrow_labels`, a row of figures without a label takes the label-only rows
    just above it (a wrapped label extracted as its own row of a grid)."""
    parts: dict[int, list[RowView]] = {2: [], 3: [], 4: []}
    state: int | None = None
    pending: list[str] = []
    header = item = ""
    fresh = False  # no row since the item row: a 「信息内容」 header now is that item's
    for rv in rows:
        if not rv.values:
            h = _header_table(rv)
            if h is not None:
                state = h
                pending = []
                header = rv.text
                m = _ITEM.search(unicodedata.normalize("NFKC", rv.text))
                # A header row of its own (「信息内容 | 本年处理决定数量」) after data rows opens
                # the next item's block, whose 「第二十条第（六）项」 row was lost: which item
                # it is, is not known (keeping the last one would pull 行政处罚 under 行政许可).
                item = m.group(1) if m else item if h == 2 and fresh else ""
                fresh = bool(m) or (fresh and h == 2)
                continue
            fresh = False
            if len(norm_label(rv.label)) <= SHORT:
                pending.append(rv.label)
            continue
        fresh = False
        if borrow_labels and not norm_label(rv.label) and pending and state in (2, 3):
            rv.label = "".join(pending)
        pending = []
        rv.header, rv.item = header, item
        table, score = _label_table(rv.label)
        if table is not None and score >= STRONG and table != state and (state != 4 or not parts[4]):
            state = table  # a header was lost or misread, but this label belongs to that table
        if state is not None:
            parts[state].append(rv)
    return parts


# ------------------------------------------------------------------ alignment
def align(data: list[str], template: list[list[str]], strict: bool = False,
          compatible: Callable[[int, int], bool] | None = None) -> tuple[dict[int, int], float]:
    """Order-preserving assignment of printed rows to template rows.

    `template[j]` holds the label variants of template row j. Returns ({template index:
    data index}, score). Rows between two confident matches are filled by position when
    the counts agree (a label garbled beyond recognition between correct neighbours),
    unless `strict`: rows rebuilt from text lines need a label of their own.
    `compatible(i, j)` False halves a pair's score (other evidence says they differ).
    """
    floor = STRICT_MIN if strict else MIN_SCORE
    n, m = len(data), len(template)
    sc = [[max(similarity(d, t) for t in template[j]) * (1 if compatible is None or compatible(i, j) else 0.5)
           for j in range(m)] for i, d in enumerate(data)]
    best = [[0.0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            take = sc[i][j] + best[i + 1][j + 1] if sc[i][j] >= floor else -1.0
            best[i][j] = max(take, best[i + 1][j], best[i][j + 1])
    match: dict[int, int] = {}
    i = j = 0
    while i < n and j < m:
        if sc[i][j] >= floor and best[i][j] == sc[i][j] + best[i + 1][j + 1]:
            match[j] = i
            i += 1
            j += 1
        elif best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    score = best[0][0] if n and m else 0.0
    if strict:
        return match, score
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


def _pick(rv: RowView, n: int, ref: tuple[int, ...] | None = None) -> tuple[list[GridCell] | None, str | None]:
    """The n cells of a printed row that hold its n figures, by position, or why not.

    Extra empty cells in a complete row are label-area padding (left) or unused
    columns (right); which side is empty says which. Figures on both sides: ambiguous.
    Too few figure-like cells (one is garbled, 「见附件」): take the cells standing in
    the columns where the table's other rows keep their figures (`ref`)."""
    vals = rv.values
    if len(vals) == n:
        return vals, None
    if rv.complete and len(vals) > n:
        extra = len(vals) - n
        if all(is_blank(c.text) for c in vals[:extra]):
            return vals[extra:], None
        if all(is_blank(c.text) for c in vals[n:]):
            return vals[:n], None
        return None, f"row has {len(vals)} cells for {n} columns with figures on both sides; cannot place them"
    if rv.complete and ref:
        by_col = dict(zip(rv.at, rv.own))
        cells = [by_col.get(c) for c in ref]
        if all(c is not None for c in cells):
            return cells, None
    if rv.complete:
        return None, f"row has {len(vals)} cells for {n} columns"
    return None, (f"row has {len(vals)} figures for {n} columns; which column is blank "
                  f"cannot be told from the extracted text")


def _place(table: int, row: str, cols: list[tuple[str, str]], rv: RowView | None,
           out: TableResult, unit_hint: str | None = None, ref: tuple[int, ...] | None = None,
           broken: bool = False) -> None:
    """Emit the cells of one template row from one printed row (or its absence).
    `broken`: the row's figures stand in a part below it that could not be joined
    (`_broken_rows`)."""
    n = len(cols)
    if broken and rv is not None:
        _unreadable(table, row, cols, rv, BROKEN_ROW, out, code="row_split")
        return
    if rv is None:
        for col, _ in cols:
            out.cells.append(Cell(table, row, col, None, None, {}, "row not found"))
        out.issues.append(Issue("extraction", "row_missing", f"table {table} row {row} not found",
                                table=table, row=row, cells=[[row, c] for c, _ in cols]))
        return
    picked, why = _pick(rv, n, ref)
    if picked is None:
        _unreadable(table, row, cols, rv, why, out)
        return
    for (col, kind), gc in zip(cols, picked):
        unit = "yuan" if col == "amount" else "10k_yuan" if col == "amount_10k_yuan" else None
        # 「本年收费金额（单位：万元）」 is the template's own unit: only a unit printed in
        # the cell converts; the 2019 采购总金额 has none, so its header's unit counts.
        value, reason = parse_cell(gc.text, kind, unit, unit_hint if col == "amount" else None)
        if (value is not None or reason) and gc.source.get("doubt"):
            # The extractor is unsure of what it read (OCR), and says why (「?」: a seal covers it).
            value, reason = None, gc.source["doubt"]
        out.cells.append(Cell(table, row, col, value, gc.text, dict(gc.source), reason))
        if reason:
            out.issues.append(Issue("extraction", "cell_unreadable", f"table {table} {row}/{col}: {reason}",
                                    table=table, row=row, col=col, cells=[[row, col]]))


def _unreadable(table: int, row: str, cols: list[tuple[str, str]], rv: RowView, why: str, out: TableResult,
                code: str = "row_unreadable") -> None:
    """The printed row is there but its figures cannot be placed: None, with the reason."""
    for col, _ in cols:
        out.cells.append(Cell(table, row, col, None, None, dict(rv.source), why))
    out.issues.append(Issue("extraction", code, f"table {table} row {row}: {why}",
                            table=table, row=row, cells=[[row, c] for c, _ in cols]))


BROKEN_ROW = ("the row holds no figure and the row below it, with no label, holds figures: a row "
              "broken by a page break whose parts could not be joined; its figures are not placed")


def _broken_rows(rows: list[RowView], match: dict[int, int]) -> set[int]:
    """Printed rows taken by a template row that hold no figure while the printed row
    right below them, taken by none, has no label and holds figures: the two parts of a
    row broken by a page break that `row_views` could not join (a speck read as text
    against a figure). Its empty cells are not the report's blanks."""
    used = set(match.values())
    out = set()
    for i in used:
        below = rows[i + 1] if i + 1 < len(rows) and i + 1 not in used else None
        if (below is not None and not norm_label(below.label) and any(_figure(c.text) for c in below.values)
                and rows[i].values and not any(_figure(c.text) for c in rows[i].values)):
            out.add(i)
    return out


def _from_text(rows: list[RowView]) -> bool:
    return bool(rows) and "text_line" in rows[0].source


def _choose(data: list[str], candidates: dict[str, list[list[str]]], bonus: dict[str, float], strict: bool = False,
            compatible: dict[str, Callable[[int, int], bool]] | None = None):
    """Pick the template whose rows align best with the printed rows: (name, match, score)."""
    best = None
    for name, rows in candidates.items():
        match, score = align(data, rows, strict, (compatible or {}).get(name))
        unmatched = (len(rows) - len(match)) + (len(data) - len(set(match.values())))
        key = score - 0.5 * unmatched + bonus.get(name, 0.0)  # a row left over is evidence against
        if best is None or key > best[0]:
            best = (key, name, match, score)
    return best[1], best[2], best[3]


def interpret_table3(rows: list[RowView]) -> TableResult | None:
    """Table 3 from its printed rows; None if not one row is recognisably table 3."""
    data = [r.label for r in rows]
    cands = {name: [[r.label, r.block + r.label] for r in T.table3_rows(name)] for name in ("2021", "2019")}
    name, match, score = _choose(data, cands, {}, _from_text(rows))
    if score <= 0:
        return None
    out = TableResult(templates={"3": name})
    cols = [(c.code, c.kind) for c in T.T3_COLS]
    refs = _figure_columns(rows, len(cols))
    broken = _broken_rows(rows, match)
    for j, trow in enumerate(T.table3_rows(name)):
        rv = rows[match[j]] if j in match else None
        _place(3, trow.code, cols, rv, out, ref=refs.get(rv.grid) if rv else None, broken=match.get(j) in broken)
    return out


def _figure_columns(rows: list[RowView], n: int) -> dict[int, tuple[int, ...]]:
    """Per grid, the matrix columns where its complete rows of n figures keep them."""
    seen: dict[int, Counter] = {}
    for rv in rows:
        if rv.complete and len(rv.values) == n:
            seen.setdefault(rv.grid, Counter())[tuple(rv.at[-n:])] += 1
    return {g: c.most_common(1)[0][0] for g, c in seen.items()}


_T2_COL_SIGNS = {
    "2021": ("本年制发件数", "本年废止件数", "现行有效件数", "本年收费金额"),
    "2019": ("本年新制作数量", "本年新公开数量", "对外公开总数量", "上一年项目数量", "本年增减", "采购项目数量", "采购总金额"),
}


def interpret_table2(rows: list[RowView]) -> TableResult | None:
    data = [r.label for r in rows]
    head = norm_label("".join(dict.fromkeys(r.header for r in rows)))
    bonus = {name: 0.5 * sum(norm_label(s) in head for s in signs) for name, signs in _T2_COL_SIGNS.items()}
    cands = {name: [[r.label] for rows_, _ in T.table2_layout(name).values() for r in rows_] for name in ("2021", "2019")}
    items = {name: [_ITEM.search(unicodedata.normalize("NFKC", block)).group(1) for block, (rows_, _) in T.table2_layout(name).items() for _ in rows_]
             for name in cands}

    def under(name: str) -> Callable[[int, int], bool]:
        return lambda i, j: not rows[i].item or rows[i].item == items[name][j]

    name, match, score = _choose(data, cands, bonus, _from_text(rows), {n: under(n) for n in cands})
    if score <= 0:
        return None
    out = TableResult(templates={"2": name})
    broken = _broken_rows(rows, match)
    j = 0
    for rows_, cols_ in T.table2_layout(name).values():
        cols = [(c.code, c.kind) for c in cols_]
        for trow in rows_:
            rv = rows[match[j]] if j in match else None
            _place(2, trow.code, cols, rv, out, _unit_hint(rv) if rv else None, broken=match.get(j) in broken)
            j += 1
    return out


def _unit_hint(rv: RowView) -> str | None:
    """The money unit a column header declares (「采购总金额（万元）」) for unit-less cells."""
    m = re.search(r"(亿元|万元|元)", unicodedata.normalize("NFKC", rv.header))
    return m.group(1) if m else None


def interpret_table4(rows: list[RowView]) -> TableResult | None:
    cols = [(c.code, c.kind) for c in T.T4_COLS]
    out = TableResult(templates={"4": "2021"})  # renamed after the other tables by `interpret`
    n = len(cols)
    width = len(T.T4_GROUPS) * n
    # The standard layout: one row of 15 figures. A row whose figures were garbled still
    # has 15 cells, most of them figures (a row of wrapped header fragments has none).
    def figures(r: RowView) -> int:
        return sum(1 for c in r.own if looks_like_value(c.text) and not is_blank(c.text))

    wide = [r for r in rows if len(r.values) >= width] or \
           [r for r in rows if r.complete and len(r.own) == width and figures(r) >= width // 2]
    if wide:
        rv = wide[0]
        vals, why = _pick(rv, width)
        if vals is None and rv.complete and len(rv.own) == width:
            vals = rv.own  # a garbled figure broke the run, but the row is nothing but the 15 cells
        for k, g in enumerate(T.T4_GROUPS):
            if vals is None:
                _unreadable(4, g.code, cols, rv, why, out)
            else:
                part = vals[k * n:(k + 1) * n]
                _place(4, g.code, cols, RowView(rv.label, part, part, True, rv.texts, rv.source), out)
        return out
    # One printed row per group (some publishers transpose the layout this way).
    labels = [r.label for r in rows]
    match, score = align(labels, [[g.label, g.block + g.label] for g in T.T4_GROUPS], _from_text(rows))
    if score > 0 and all(norm_label(labels[i]) for i in match.values()):
        for j, g in enumerate(T.T4_GROUPS):
            _place(4, g.code, cols, rows[match[j]] if j in match else None, out)
        return out
    # The data row is there but with too few figures.
    rv = max(rows, key=lambda r: len(r.values), default=None)
    if rv is not None and not rv.complete and len(rv.values) >= width - n:
        why = f"row has {len(rv.values)} figures for {width} columns; which are blank cannot be told"
        for g in T.T4_GROUPS:
            _unreadable(4, g.code, cols, rv, why, out)
        return out
    return None


_PAGE_NUMBER = re.compile(r"^[-—–－\s]*(?:第\s*)?\d+\s*(?:页)?(?:\s*/\s*\d+)?[-—–－\s]*$")


def text_grid(text: str) -> Grid:
    """The document text as one Grid of whitespace-separated tokens, for tables whose
    ruling lines or markup were lost. Nothing proves where the cells were, so rows are
    incomplete: only a row with exactly the expected number of figures is placed."""
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or _PAGE_NUMBER.match(line):
            continue
        rows.append([GridCell(tok, {"text_line": n, "token": k}) for k, tok in enumerate(line.split())])
    return Grid(rows=rows, source={"text": True}, complete_rows=False)


_INTERPRETERS = {2: interpret_table2, 3: interpret_table3, 4: interpret_table4}


def interpret(grids: list[Grid], text: str = "") -> TableResult:
    """Cells, per-table templates and extraction issues of tables 2–4.

    A table found in no grid is looked for in the document text (tokens on lines,
    strictly: see `align`), and so is a single row a grid lost (see
    `_rows_from_text`). A table found nowhere emits nothing here: `pipeline.parse`
    decides whether its absence matters (a pre-2019 report has none).
    """
    parts = {t: rows[:MAX_ROWS] for t, rows in split_tables(row_views(grids)).items()}
    cache: dict[int, list[RowView]] = {}

    def text_rows(t: int) -> list[RowView]:
        if not cache and text:
            cache.update({k: rows[:MAX_ROWS] for k, rows in
                          split_tables(row_views([text_grid(text)]), borrow_labels=False).items()})
        return cache.get(t, [])

    out = TableResult()
    for t, interpret_t in _INTERPRETERS.items():
        found = interpret_t(parts[t]) if parts[t] else None
        if found is None and text_rows(t):
            found = interpret_t(text_rows(t))
            if found is not None:
                found.issues.append(Issue("warning", "table_from_text",
                                          f"table {t} read from the document text: no grid held it", table=t))
        elif found is not None and t in (2, 3) and any(c.reason == "row not found" for c in found.cells):
            _rows_from_text(t, found, text_rows(t))
        if found is not None:
            out.cells += found.cells
            out.issues += found.issues
            out.templates.update(found.templates)
    if "4" in out.templates:  # identical in both templates: named after the report's other tables
        out.templates["4"] = out.templates.get("2") or out.templates.get("3") or "2021"
    return out


def _template_rows(t: int, template: str) -> list[tuple[T.Row, list[tuple[str, str]]]]:
    if t == 2:
        return [(r, [(c.code, c.kind) for c in cols]) for rows, cols in T.table2_layout(template).values() for r in rows]
    return [(r, [(c.code, c.kind) for c in T.T3_COLS]) for r in T.table3_rows(template)]


def _rows_from_text(t: int, found: TableResult, lines: list[RowView]) -> None:
    """A row the grids lost (a PDF table whose last ruling line is missing drops its last
    row) may still be a line of the text: take it only if exactly one line carries that
    row's label, closer to it than to any other row's, and exactly its number of figures."""
    trows = _template_rows(t, found.templates[str(t)])
    missing = {c.row for c in found.cells if c.reason == "row not found"}
    hits: dict[int, list[RowView]] = {}
    for rv in lines:
        scores = [max(similarity(rv.label, v) for v in (r.label, r.block + r.label)) for r, _ in trows]
        j = max(range(len(trows)), key=scores.__getitem__)
        row, cols = trows[j]
        if row.code in missing and scores[j] >= STRONG and len(rv.values) == len(cols):
            hits.setdefault(j, []).append(rv)
    for j, rvs in hits.items():
        if len(rvs) != 1:
            continue
        row, cols = trows[j]
        placed = TableResult()
        _place(t, row.code, cols, rvs[0], placed, _unit_hint(rvs[0]))
        at = next(k for k, c in enumerate(found.cells) if c.row == row.code)
        found.cells[at: at + len(cols)] = placed.cells
        found.issues = [i for i in found.issues if not (i.code == "row_missing" and i.row == row.code)]
        found.issues += placed.issues + [Issue("warning", "row_from_text", f"table {t} row {row.code} read from "
                                               "the document text: no grid held it", table=t, row=row.code)]


def missing_table(table: int, template: str) -> TableResult:
    """Every cell of a table that was not found: None with a reason, and one issue."""
    out = TableResult()
    out.templates[str(table)] = template
    for row, col, _ in T.expected_cells(table, template):
        out.cells.append(Cell(table, row, col, None, None, {}, "table not found"))
    out.issues.append(Issue("extraction", "table_missing", f"table {table} not found", table=table))
    return out
