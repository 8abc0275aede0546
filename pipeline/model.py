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

# Bounds of one table's expanded grid (`Grid.matrix`). The official tables are at most
# ~20 columns and ~40 rows; page-wide layout tables a few hundred rows. Anything past
# these is a hostile or broken file, not a report, and must not cost minutes or GBs.
MAX_COLUMNS = 500
MAX_ROWS = 5_000
MAX_POSITIONS = 250_000


@dataclass
class Attached:
    """Another document of the same publication, handed to the parse of its main
    document: a page image of an article, or a workbook holding its tables. Its bytes,
    or why there are none (a fetch that failed: a gap of the report)."""
    url: str
    data: bytes | None = None
    error: str | None = None
    sha256: str | None = None  # the archive's document holding the bytes (provenance)
    kind: str | None = None  # sniffed type (workbooks: xlsx or xls)
    path: str | None = None  # where the bytes are, read when needed (an article's 200 images never at once)

    @property
    def here(self) -> bool:
        return self.data is not None or self.path is not None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.path is None:
            raise OSError(self.error or "no bytes")
        with open(self.path, "rb") as f:
            return f.read()


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
    # What `matrix()` had to cut to stay bounded (spans past MAX_COLUMNS, rows past
    # MAX_POSITIONS): the parse reports it as a warning.
    clipped: list[str] = field(default_factory=list, compare=False, repr=False)

    def matrix(self) -> list[list[GridCell | None]]:
        """The rows expanded to a rectangle: a spanning cell fills every position it
        covers (the same object, so `is` tells a covered position from a real one);
        positions no cell covers are None.

        Linear in the positions it returns, and bounded: hostile files print spans of
        10^7 (a 37 KB DOCX) or stack hundreds of 500×500 spans (a 2 KB HTML page), so
        spans are clipped at MAX_COLUMNS columns and the rectangle at MAX_ROWS rows and
        MAX_POSITIONS positions (later rows dropped; interpreting a row costs ~0.1 ms); `clipped` says what was cut, and the parse
        turns it into a warning."""
        self.clipped = []
        where = ", ".join(f"{k} {v}" for k, v in self.source.items() if k in ("table", "page", "line")) or "a table"
        out: list[list[GridCell | None]] = []
        # Per grid column, the cells spanning down into later rows, each with the last
        # row it covers; the latest one registered wins (as HTML's table model does).
        down: dict[int, list[tuple[GridCell, int]]] = {}
        width = 0
        cut_cols = 0
        for r, row in enumerate(self.rows):
            here: dict[int, GridCell] = {}
            for col in list(down):
                stack = down[col]
                while stack and stack[-1][1] < r:
                    stack.pop()
                if stack:
                    here[col] = stack[-1][0]
                else:
                    del down[col]
            last = max(here, default=-1)
            line: list[GridCell | None] = []
            cells = iter(row)
            nxt = next(cells, None)
            c = 0
            while nxt is not None or c <= last:
                if c >= MAX_COLUMNS:
                    cut_cols += (1 + sum(1 for _ in cells)) if nxt is not None else 0
                    break
                if c in here:
                    line.append(here.pop(c))
                elif nxt is not None:
                    span = min(max(nxt.colspan, 1), MAX_COLUMNS - c)
                    for dc in range(1, span):
                        here[c + dc] = nxt
                    last = max(last, c + span - 1)
                    if nxt.rowspan > 1:
                        until = r + nxt.rowspan - 1
                        for dc in range(span):
                            down.setdefault(c + dc, []).append((nxt, until))
                    line.append(nxt)
                    nxt = next(cells, None)
                else:
                    line.append(None)
                c += 1
            if (len(out) + 1) * max(width, len(line)) > MAX_POSITIONS or r >= MAX_ROWS:
                self.clipped.append(f"{where}: {len(self.rows) - r} of {len(self.rows)} rows dropped "
                                    f"(more than {MAX_ROWS} rows or {MAX_POSITIONS} grid positions)")
                break
            width = max(width, len(line))
            out.append(line)
        if cut_cols:
            self.clipped.insert(0, f"{where}: spans clipped at {MAX_COLUMNS} columns "
                                   f"({cut_cols} cells past it dropped)")
        spans = [x for row in self.rows for x in row if x.colspan > MAX_COLUMNS]
        if spans:
            self.clipped.insert(0, f"{where}: {len(spans)} column span(s) over {MAX_COLUMNS} "
                                   f"clipped (largest {max(x.colspan for x in spans)})")
        return [x + [None] * (width - len(x)) for x in out]


@dataclass
class Extracted:
    container: str  # "html" | "pdf" | "docx" | "doc" | "txt" | "ocr"
    text: str  # whole document text in reading order, paragraphs separated by "\n"
    tables: list[Grid] = field(default_factory=list)
    title: str | None = None  # <title>, ArticleTitle meta, PDF metadata title
    meta: dict[str, Any] = field(default_factory=dict)  # page count, meta tags, ...
    warnings: list[str] = field(default_factory=list)
    # Why the extractor could not read the whole document (a parser that stopped at a
    # resource limit): the report can then never be `ok`, whatever the rest yields.
    incomplete: str | None = None


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
