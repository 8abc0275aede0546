"""The canonical data model every container is parsed into.

Extractors (pipeline/extract/*) turn bytes into an `Extracted`: the document's text in
reading order plus its tables as `Grid`s whose cells remember where they were read.
`pipeline.parse` turns an `Extracted` into a `Report`; `pipeline.validate` adds rule
issues; `pipeline.store` writes it. Everything here is plain data, JSON-serialisable
with `dataclasses.asdict`.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# Report statuses (issue 2, item 5).
OK = "ok"
FIGURES_INCONSISTENT = "figures_inconsistent"
EXTRACTION_INCOMPLETE = "extraction_incomplete"
NOT_A_REPORT = "not_a_report"
FAILED = "failed"
STATUSES = (OK, FIGURES_INCONSISTENT, EXTRACTION_INCOMPLETE, NOT_A_REPORT, FAILED)


@dataclass
class GridCell:
    """One cell of a table as the container holds it.

    `source` is provenance: PDF {"page": 3, "bbox": [x0, top, x1, bottom]} (PDF points,
    top-left origin like pdfplumber); HTML/DOCX {"table": i, "row": r, "cell": c};
    text {"line": n, "cell": c}. A cell spanning several grid positions (rowspan,
    colspan, vertically merged Word cells) appears once, at its first position, with
    `rowspan`/`colspan` set; the positions it covers are simply absent from later rows
    (HTML semantics), so `Grid.rows` may be ragged.
    """

    text: str
    source: dict[str, Any] = field(default_factory=dict)
    rowspan: int = 1
    colspan: int = 1


@dataclass
class Grid:
    """A table as extracted: rows of cells, in document order.

    `complete_rows` is False when the extractor could not see cell boundaries (plain
    text that lost its tabs), so the number of cells in a row proves nothing about
    which columns are blank.
    """

    rows: list[list[GridCell]]
    source: dict[str, Any] = field(default_factory=dict)  # e.g. {"page": 3} or {"table": 0}
    complete_rows: bool = True

    def matrix(self) -> list[list[GridCell | None]]:
        """The rows expanded to a rectangle: a spanning cell fills every position it
        covers (the same object, so `is` tells a covered position from a real one);
        positions no cell covers are None."""
        out: list[list[GridCell | None]] = []
        pending: dict[tuple[int, int], GridCell] = {}  # (row, col) -> covering cell
        for r, row in enumerate(self.rows):
            line: list[GridCell | None] = []
            cells = iter(row)
            c = 0
            nxt = next(cells, None)
            while nxt is not None or any(k[0] == r and k[1] >= c for k in pending):
                if (r, c) in pending:
                    line.append(pending.pop((r, c)))
                elif nxt is not None:
                    for dr in range(nxt.rowspan):
                        for dc in range(nxt.colspan):
                            if dr or dc:
                                pending[(r + dr, c + dc)] = nxt
                    line.append(nxt)
                    nxt = next(cells, None)
                else:
                    line.append(None)
                c += 1
            out.append(line)
        width = max((len(x) for x in out), default=0)
        return [x + [None] * (width - len(x)) for x in out]


@dataclass
class Extracted:
    container: str  # "html" | "pdf" | "docx" | "doc" | "txt" | "ocr"
    text: str  # whole document text in reading order, paragraphs separated by "\n"
    tables: list[Grid] = field(default_factory=list)
    title: str | None = None  # <title>, ArticleTitle meta, PDF metadata title
    meta: dict[str, Any] = field(default_factory=dict)  # page count, meta tags, ...
    warnings: list[str] = field(default_factory=list)


@dataclass
class Section:
    no: int  # 1..6 as in templates.md
    title: str  # heading as printed
    text: str


@dataclass
class Cell:
    table: int | str  # 2, 3 or 4; "old" for the 2008–2018 statistics table (pipeline/old_template.py)
    row: str  # row code from templates.md, e.g. "denied.state_secret"
    col: str  # column code, e.g. "natural_person"
    value: int | float | None  # None: printed blank or unreadable (see reason)
    raw: str | None  # text as printed ("", "/", "—", "251000元"); None if not found
    source: dict[str, Any] = field(default_factory=dict)
    reason: str | None = None  # why value is None when the cell was not printed blank
    label: str | None = None  # table "old": the row's label as printed
    unit: str | None = None  # table "old": the row's unit (条, 件, 万元…)


@dataclass
class Issue:
    """Something wrong with a report: a broken reconciliation rule or an extraction gap.

    kind: "rule" (printed figures break a rule of templates.md) or "extraction"
    (a cell missing/unreadable, a table not found) or "warning".
    """

    kind: str
    code: str  # rule id ("t3_balance", "t3_results_sum", "t3_row_total", "t4_total", "nonneg") or extraction code
    message: str
    table: int | None = None
    row: str | None = None
    col: str | None = None
    lhs: float | None = None  # the computed side (e.g. sum of parts)
    rhs: float | None = None  # the printed side (e.g. the total)
    cells: list[list[str]] = field(default_factory=list)  # [[row, col], ...] involved
    evidence: dict[str, Any] = field(default_factory=dict)  # what a cross-check rests on: a sentence, another report


@dataclass
class Report:
    status: str
    reason: str | None = None
    agency: str | None = None  # the publishing organ in full (place prefix completed from the text)
    report_year: int | None = None
    title: str | None = None  # the report's heading as printed, joined over its lines
    agency_titled: str | None = None  # the organ exactly as the title (or the signature) prints it
    adcode: str | None = None  # 行政区划代码 of the agency's place (pipeline/gazetteer.py)
    province: str | None = None
    city: str | None = None
    county: str | None = None
    agency_id: str | None = None  # adcode:organ, the same for one agency across years and spellings
    container: str | None = None
    templates: dict[str, str] = field(default_factory=dict)  # {"2": "2021", "3": "2019", ...}
    sections: list[Section] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for c in d["cells"]:  # label and unit belong to the old table's cells
            if c["table"] != "old":
                c.pop("label", None)
                c.pop("unit", None)
        return d

    def cell(self, table: int, row: str, col: str) -> Cell | None:
        for c in self.cells:
            if c.table == table and c.row == row and c.col == col:
                return c
        return None
