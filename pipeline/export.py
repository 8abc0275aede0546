"""A tidy dataset release: one file per statistical table (2, 3, 4, and `old` for the
2008–2018 统计表), each row one printed number with its report's metadata and the
Chinese labels of its row and column, plus reports, issues and the 2008–2025
`series_comparable`. CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese) or
Parquet. Streams in batches: memory stays flat on a 100,000-report archive.

Only primary parses are exported (`reports.is_primary = 1`); `status` stays in every row
so users can drop reports whose printed figures break a rule, or keep them.
"""
from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from . import templates

CELL_COLUMNS = ["report", "agency", "report_year", "province", "city", "county", "status", "template", "container",
                "url", "row", "row_label", "col", "col_label", "value", "raw", "reason", "source"]
REPORT_COLUMNS = ["id", "agency", "agency_titled", "agency_id", "report_year", "title", "adcode", "province", "city",
                  "county", "region_from", "status", "reason", "container", "template_t2", "template_t3",
                  "template_t4", "template_old", "cells_found", "cells_missing", "rules_broken", "published", "site",
                  "url", "parser_version", "parsed_at"]
ISSUE_COLUMNS = ["report", "agency", "report_year", "kind", "code", "table_no", "row", "col", "lhs", "rhs",
                 "message", "cells", "evidence"]
OLD_COLUMNS = ["report", "agency", "agency_id", "report_year", "province", "city", "county", "status", "template",
               "container", "url", "row", "col", "label", "unit", "value", "raw", "reason", "source"]
SERIES_COLUMNS = ["agency_id", "agency", "report_year", "report", "adcode", "province", "city", "county", "measure",
                  "value", "template", "source"]
BATCH = 50_000


def _cells_sql(table: int) -> str:
    return f"""SELECT c.report, r.agency, r.report_year, r.province, r.city, r.county, r.status,
  r.template_t{table} AS template, r.container, r.url, c.row, c.col, c.value, c.raw, c.reason, c.source
FROM cells c JOIN reports r ON r.id = c.report
WHERE c.table_no = {table} AND r.is_primary = 1
ORDER BY r.report_year, r.agency, c.report, c.rowid"""


def _rows(conn: sqlite3.Connection, sql: str) -> Iterator[list[dict]]:
    cur = conn.execute(sql)
    names = [d[0] for d in cur.description]
    while True:
        batch = cur.fetchmany(BATCH)
        if not batch:
            return
        yield [dict(zip(names, r)) for r in batch]


def _label_cells(table: int, batch: list[dict]) -> list[dict]:
    for r in batch:
        r["row_label"] = templates.ROW_LABELS.get((table, r["row"]), "")
        r["col_label"] = templates.COL_LABELS.get((table, r["col"]), "")
    return batch


def _labelled_batches(conn: sqlite3.Connection, table: int) -> Iterator[list[dict]]:
    for batch in _rows(conn, _cells_sql(table)):
        yield _label_cells(table, batch)


def datasets(conn: sqlite3.Connection) -> dict[str, tuple[list[str], Iterator[list[dict]]]]:
    out: dict[str, tuple[list[str], Iterator[list[dict]]]] = {}
    for t in (2, 3, 4):
        out[f"table{t}"] = (CELL_COLUMNS, _labelled_batches(conn, t))
    out["reports"] = (REPORT_COLUMNS, _rows(conn, f"SELECT {', '.join(REPORT_COLUMNS)} FROM reports "
                                                  "WHERE is_primary = 1 ORDER BY report_year, agency, id"))
    out["issues"] = (ISSUE_COLUMNS, _rows(conn, """SELECT i.report, r.agency, r.report_year, i.kind, i.code, i.table_no,
  i.row, i.col, i.lhs, i.rhs, i.message, i.cells, i.evidence FROM issues i JOIN reports r ON r.id = i.report
  WHERE r.is_primary = 1 ORDER BY r.report_year, r.agency, i.id"""))
    out["old"] = (OLD_COLUMNS, _rows(conn, """SELECT o.report, r.agency, r.agency_id, r.report_year, r.province, r.city,
  r.county, r.status, r.template_old AS template, r.container, r.url, o.row, o.col, o.label, o.unit, o.value, o.raw,
  o.reason, o.source FROM old o JOIN reports r ON r.id = o.report
  WHERE r.is_primary = 1 ORDER BY r.report_year, r.agency, o.report, o.rowid"""))
    out["series_comparable"] = (SERIES_COLUMNS, _rows(conn, f"SELECT {', '.join(SERIES_COLUMNS)} FROM series_comparable "
                                                            "ORDER BY agency_id, report_year, measure"))
    return out


def _arrow_schema(name: str, columns: list[str]):
    import pyarrow as pa

    types = {"report_year": pa.int32(), "value": pa.float64(), "lhs": pa.float64(), "rhs": pa.float64(),
             "table_no": pa.int32(), "cells_found": pa.int32(), "cells_missing": pa.int32(),
             "rules_broken": pa.int32()}
    return pa.schema([(c, types.get(c, pa.string())) for c in columns])


def export(db_path: Path | str, out_dir: Path | str, fmt: str = "csv") -> dict[str, int]:
    """Write table2/3/4, reports, issues as .csv or .parquet into out_dir; returns rows per file."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"unknown format {fmt!r}: csv or parquet")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(f"file:{Path(db_path)}?mode=ro", uri=True)
    counts: dict[str, int] = {}
    try:
        for name, (columns, batches) in datasets(conn).items():
            path = out / f"{name}.{fmt}"
            tmp = path.with_suffix(path.suffix + ".part")
            n = 0
            if fmt == "csv":
                with open(tmp, "w", encoding="utf-8-sig", newline="") as f:
                    w = csv.DictWriter(f, columns, extrasaction="ignore")
                    w.writeheader()
                    for batch in batches:
                        w.writerows(batch)
                        n += len(batch)
            else:
                import pyarrow as pa
                import pyarrow.parquet as pq

                schema = _arrow_schema(name, columns)
                with pq.ParquetWriter(tmp, schema, compression="zstd") as w:
                    for batch in batches:
                        w.write_table(pa.Table.from_pylist(
                            [{c: (float(r[c]) if schema.field(c).type == pa.float64() and r[c] is not None else r[c])
                              for c in columns} for r in batch], schema=schema))
                        n += len(batch)
                    if n == 0:
                        w.write_table(schema.empty_table())
            tmp.replace(path)  # a reader never sees half a file under the real name
            counts[name] = n
    finally:
        conn.close()
    return counts
