"""The archive: a content-addressed raw store beside an SQLite database.

Schema (public: researchers' SQL depends on it; site/metadata.yml documents every column):

- documents  every file ever stored, keyed by sha256, with where it came from
- reports    one parse of one document (the newest parse replaces the older one)
- sections   the six sections' text per report
- cells      one row per table cell (long/tidy), value NULL when blank or unreadable
- issues     broken reconciliation rules and extraction gaps per report
- search / search_fts   bigram full-text index over titles and section text
- figures    one row per report: key figures of tables 3 and 4, derived from cells
             (rebuilt with each report; `Archive.refresh_figures()` after bulk loads)
- views      t3_wide, totals_by_year, agency_series, report_summary

Writes go through `Archive`; a report's rows are replaced in one transaction, so a
reader never sees half of a re-parse.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import sqlite_utils

from . import search, templates
from .model import Report
from .region import region_of

PARSER_VERSION = "1"


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RawStore:
    """Write-once files named by their sha256: raw/ab/cd/abcd…; never overwritten."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def path(self, digest: str) -> Path:
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = sha256(data)
        p = self.path(digest)
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            tmp = p.with_suffix(".tmp%d" % os.getpid())
            tmp.write_bytes(data)
            os.replace(tmp, p)  # atomic: a crash never leaves a half file under the real name
        return digest

    def get(self, digest: str) -> bytes:
        return self.path(digest).read_bytes()

    def __contains__(self, digest: str) -> bool:
        return self.path(digest).exists()


def raw_root_for(db_path: Path | str) -> Path:
    """The raw store lives beside the database: archive.db -> raw/ (other.db -> other.raw/)."""
    p = Path(db_path)
    return p.parent / ("raw" if p.stem == "archive" else p.stem + ".raw")


# Columns of t3_wide: every (row, col) of either template, named row__col.
def _t3_pairs() -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    for tpl in ("2021", "2019"):
        for row, col, _ in templates.expected_cells(3, tpl):
            if (row, col) not in seen:
                seen.append((row, col))
    return seen


def wide_name(row: str, col: str) -> str:
    return f"{row.replace('.', '_')}__{col}"


SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
  sha256 TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  type TEXT NOT NULL,
  original_name TEXT,
  url TEXT,
  final_url TEXT,
  http_status INTEGER,
  content_type TEXT,
  etag TEXT,
  last_modified TEXT,
  fetched_at TEXT,
  site TEXT,
  parent_sha256 TEXT REFERENCES documents(sha256),
  role TEXT,
  stored_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_url ON documents(url);
CREATE INDEX IF NOT EXISTS documents_site ON documents(site);
CREATE INDEX IF NOT EXISTS documents_parent ON documents(parent_sha256);

CREATE TABLE IF NOT EXISTS reports (
  id TEXT PRIMARY KEY REFERENCES documents(sha256),
  status TEXT NOT NULL,
  reason TEXT,
  agency TEXT,
  report_year INTEGER,
  title TEXT,
  province TEXT,
  city TEXT,
  county TEXT,
  container TEXT,
  template_t2 TEXT,
  template_t3 TEXT,
  template_t4 TEXT,
  cells_found INTEGER,
  cells_missing INTEGER,
  rules_broken INTEGER,
  published TEXT,
  site TEXT,
  url TEXT,
  publication TEXT,
  is_primary INTEGER NOT NULL DEFAULT 1,
  parser_version TEXT,
  parsed_at TEXT NOT NULL,
  meta TEXT
);
CREATE INDEX IF NOT EXISTS reports_year ON reports(report_year);
CREATE INDEX IF NOT EXISTS reports_agency ON reports(agency, report_year);
CREATE INDEX IF NOT EXISTS reports_status ON reports(status);
CREATE INDEX IF NOT EXISTS reports_region ON reports(province, city, county);
CREATE INDEX IF NOT EXISTS reports_publication ON reports(publication);

CREATE TABLE IF NOT EXISTS sections (
  report TEXT NOT NULL REFERENCES reports(id),
  no INTEGER NOT NULL,
  title TEXT,
  text TEXT,
  PRIMARY KEY (report, no)
);

CREATE TABLE IF NOT EXISTS cells (
  report TEXT NOT NULL REFERENCES reports(id),
  table_no INTEGER NOT NULL,
  row TEXT NOT NULL,
  col TEXT NOT NULL,
  value NUMERIC,
  raw TEXT,
  reason TEXT,
  source TEXT,
  PRIMARY KEY (report, table_no, row, col)
);
CREATE INDEX IF NOT EXISTS cells_code ON cells(table_no, row, col);

CREATE TABLE IF NOT EXISTS issues (
  id INTEGER PRIMARY KEY,
  report TEXT NOT NULL REFERENCES reports(id),
  kind TEXT NOT NULL,
  code TEXT NOT NULL,
  table_no INTEGER,
  row TEXT,
  col TEXT,
  lhs NUMERIC,
  rhs NUMERIC,
  message TEXT,
  cells TEXT
);
CREATE INDEX IF NOT EXISTS issues_report ON issues(report);
CREATE INDEX IF NOT EXISTS issues_code ON issues(kind, code);

CREATE TABLE IF NOT EXISTS search (
  id INTEGER PRIMARY KEY,
  report TEXT NOT NULL REFERENCES reports(id),
  section_no INTEGER,
  heading TEXT,
  text TEXT
);
CREATE INDEX IF NOT EXISTS search_report ON search(report);
CREATE VIRTUAL TABLE IF NOT EXISTS search_fts USING fts5(grams, content='', tokenize='unicode61');

CREATE TABLE IF NOT EXISTS failures (
  id INTEGER PRIMARY KEY,
  sha256 TEXT,
  original_name TEXT,
  stage TEXT NOT NULL,
  reason TEXT NOT NULL,
  at TEXT NOT NULL
);
"""


def _views_sql() -> list[str]:
    pairs = _t3_pairs()
    # Rows come from `figures` (one per report; t3_cells > 0 when table 3 was read) and each
    # column is one lookup on the cells primary key, instead of grouping all of cells:
    # a page of 50 rows and a count(*) stay fast on 100,000 reports.
    cols = ",\n  ".join(
        f"(SELECT value FROM cells c WHERE c.report = r.report AND c.table_no = 3 AND c.row = '{r}' AND c.col = '{c}')"
        f" AS {wide_name(r, c)}" for r, c in pairs
    )
    t3_wide = f"""CREATE VIEW IF NOT EXISTS t3_wide AS
SELECT r.report, r.agency, r.report_year, r.province, r.city, r.county, r.template_t3, r.status,
  {cols}
FROM figures r
WHERE r.is_primary = 1 AND r.t3_cells > 0"""
    # Sums treat a blank as absent (SUM ignores NULL); `reports_with_t3` says how many
    # reports the sums rest on, so a reader can see when blanks thin a year out.
    # Read from `figures` (one row per report, see FIGURES_SCHEMA) rather than `cells`:
    # same columns, but a per-year total over 100,000 reports takes milliseconds.
    key = [
        ("t3_new", "requests_new"), ("t3_carried_in", "requests_carried_in"),
        ("t3_granted", "granted"), ("t3_partly_granted", "partly_granted"),
        ("t3_results_total", "results_total"), ("review_total", "reviews"),
        ("review_corrected", "reviews_corrected"), ("suit_direct_total", "suits_direct"),
        ("suit_after_review_total", "suits_after_review"),
    ]
    totals_sql = ",\n  ".join(f"SUM(f.{src}) AS {name}" for src, name in key)
    series_sql = ",\n  ".join(f"f.{src} AS {name}" for src, name in key)
    totals = f"""CREATE VIEW IF NOT EXISTS totals_by_year AS
SELECT f.report_year,
  COUNT(*) AS reports,
  SUM(f.t3_cells > 0) AS reports_with_t3,
  {totals_sql}
FROM figures f
WHERE f.is_primary = 1 AND f.status != 'not_a_report' AND f.status != 'failed'
GROUP BY f.report_year"""
    series = f"""CREATE VIEW IF NOT EXISTS agency_series AS
SELECT f.agency, f.report_year, f.report, f.status, f.province, f.city, f.county,
  {series_sql}
FROM figures f
WHERE f.is_primary = 1 AND f.status != 'not_a_report' AND f.status != 'failed'"""
    return [t3_wide, totals, series]


# ---------------------------------------------------------------- figures
# One row per report with the key figures of tables 3 and 4 (the 总计 column of every
# table-3 row, new requests by applicant type, all of table 4). It is derived from
# `cells` (rebuilt with each report) so that per-year and per-agency questions over
# 100,000 reports read 100,000 short rows instead of millions of cells.
def _figure_columns() -> list[tuple[str, int, str, str]]:
    """(column name, table, row, col) of every column of `figures`, in order."""
    out: list[tuple[str, int, str, str]] = []
    seen: set[str] = set()
    for tpl in ("2021", "2019"):
        for r in templates.table3_rows(tpl):
            name = "t3_" + r.code.replace(".", "_")
            if name not in seen:
                seen.add(name)
                out.append((name, 3, r.code, "total"))
    for c in templates.T3_COLS:
        if c.code != "total":
            out.append(("new_" + c.code, 3, "new", c.code))
    for g in templates.T4_GROUPS:
        for c in templates.T4_COLS:
            out.append((f"{g.code}_{c.code}", 4, g.code, c.code))
    return out


FIGURE_COLUMNS = _figure_columns()
_FIGURE_META = ("report_year", "agency", "province", "city", "county", "status", "template_t3", "is_primary")

_FACET_FILTERS = ("report_year", "province", "city", "status", "template_t3", "container", "is_primary")

FIGURES_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS figures (\n  report TEXT PRIMARY KEY REFERENCES reports(id),\n  "
    "report_year INTEGER, agency TEXT, province TEXT, city TEXT, county TEXT, status TEXT, "
    "template_t3 TEXT, is_primary INTEGER, t3_cells INTEGER,\n  "
    + ",\n  ".join(f"{name} NUMERIC" for name, *_ in FIGURE_COLUMNS)
    + "\n);\n"
    "CREATE INDEX IF NOT EXISTS figures_year ON figures(report_year);\n"
    "CREATE INDEX IF NOT EXISTS figures_agency ON figures(agency, report_year);\n"
    "CREATE INDEX IF NOT EXISTS figures_region ON figures(province, city, county);\n"
    "CREATE INDEX IF NOT EXISTS figures_t3 ON figures(is_primary, t3_cells);\n"
    # Covers totals_by_year: the per-year sums read this index, not the 60-column rows.
    "CREATE INDEX IF NOT EXISTS figures_totals ON figures(report_year, is_primary, status, t3_cells, t3_new,"
    " t3_carried_in, t3_granted, t3_partly_granted, t3_results_total, review_total, review_corrected,"
    " suit_direct_total, suit_after_review_total);\n"
    # Report metadata copied into figures follows every later UPDATE of reports
    # (crawler.publications sets is_primary after the parse is written).
    "CREATE TRIGGER IF NOT EXISTS figures_follow_reports AFTER UPDATE ON reports BEGIN\n"
    "  UPDATE figures SET report_year = NEW.report_year, agency = NEW.agency, province = NEW.province,\n"
    "    city = NEW.city, county = NEW.county, status = NEW.status, template_t3 = NEW.template_t3,\n"
    "    is_primary = NEW.is_primary WHERE report = NEW.id;\n"
    "END;\n"
    # One covering index per faceted column, holding the columns people filter on: a
    # facet count under a filter (status = …, province = …) then reads one index and
    # never the table, whichever selectivity the planner guesses.
    + "".join(
        f"CREATE INDEX IF NOT EXISTS reports_facet_{c} ON reports({', '.join([c] + [x for x in _FACET_FILTERS if x != c])});\n"
        for c in ("report_year", "province", "city", "county", "agency", "template_t3", "status", "container"))
    +
    "CREATE INDEX IF NOT EXISTS issues_kind_report ON issues(kind, report);\n"
)

FIGURES_FILL = (
    "INSERT OR REPLACE INTO figures (report, " + ", ".join(_FIGURE_META) + ", t3_cells, "
    + ", ".join(name for name, *_ in FIGURE_COLUMNS) + ")\n"
    "SELECT r.id, " + ", ".join("r." + m for m in _FIGURE_META) + ",\n  "
    "COUNT(CASE WHEN c.table_no = 3 THEN 1 END),\n  "
    + ",\n  ".join(
        f"MAX(CASE WHEN c.table_no = {t} AND c.row = '{row}' AND c.col = '{col}' THEN c.value END)"
        for _, t, row, col in FIGURE_COLUMNS)
    + "\nFROM reports r LEFT JOIN cells c ON c.report = r.id AND c.table_no IN (3, 4)"
)


class Archive:
    """archive.db plus its raw store. Single writer; readers may be many."""

    def __init__(self, db_path: Path | str = "archive.db", raw_root: Path | str | None = None):
        self.path = Path(db_path)
        self.raw = RawStore(raw_root or raw_root_for(self.path))
        self.db = sqlite_utils.Database(self.path)
        self.conn: sqlite3.Connection = self.db.conn
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA busy_timeout=30000")
        search.register(self.conn)
        self.ensure_schema()

    def ensure_schema(self) -> None:
        self.conn.executescript(SCHEMA)
        self.conn.executescript(FIGURES_SCHEMA)
        for sql in _views_sql():
            self.conn.execute(sql)
        self.conn.commit()
        # An archive written before `figures` existed: derive it once.
        if (self.conn.execute("SELECT 1 FROM reports LIMIT 1").fetchone()
                and not self.conn.execute("SELECT 1 FROM figures LIMIT 1").fetchone()):
            self.refresh_figures()

    def close(self) -> None:
        self.conn.close()

    # ---------------------------------------------------------------- documents
    def add_document(self, data: bytes, *, type: str, original_name: str | None = None, **fetch: Any) -> tuple[str, bool]:
        """Store bytes and record them. Returns (sha256, is_new). Same bytes twice: no-op."""
        digest = self.raw.put(data)
        existing = self.conn.execute("SELECT 1 FROM documents WHERE sha256 = ?", (digest,)).fetchone()
        if existing:
            return digest, False
        row = {"sha256": digest, "size": len(data), "type": type, "original_name": original_name,
               "stored_at": now(), **fetch}
        self.db["documents"].insert(row, alter=True)
        self.conn.commit()
        return digest, True

    def document(self, digest: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM documents WHERE sha256 = ?", [digest]))
        return rows[0] if rows else None

    def documents(self) -> Iterable[dict]:
        return self.db.query("SELECT * FROM documents ORDER BY stored_at, sha256")

    def has_report(self, digest: str) -> bool:
        return self.conn.execute("SELECT 1 FROM reports WHERE id = ?", (digest,)).fetchone() is not None

    def record_failure(self, digest: str | None, original_name: str | None, stage: str, reason: str) -> None:
        self.db["failures"].insert({"sha256": digest, "original_name": original_name, "stage": stage,
                                    "reason": reason, "at": now()})
        self.conn.commit()

    # ---------------------------------------------------------------- reports
    def write_report(self, digest: str, report: Report, **extra: Any) -> None:
        """Replace everything stored for document `digest` with this parse, atomically."""
        doc = self.document(digest) or {}
        region = region_of(report.agency)
        n_missing = sum(1 for c in report.cells if c.value is None and c.reason)
        n_rules = sum(1 for i in report.issues if i.kind == "rule")
        row = {
            "id": digest,
            "status": report.status,
            "reason": report.reason,
            "agency": report.agency,
            "report_year": report.report_year,
            "title": report.title,
            **region,
            "container": report.container,
            "template_t2": report.templates.get("2"),
            "template_t3": report.templates.get("3"),
            "template_t4": report.templates.get("4"),
            "cells_found": sum(1 for c in report.cells if c.value is not None),
            "cells_missing": n_missing,
            "rules_broken": n_rules,
            "published": report.meta.get("published"),
            "site": doc.get("site"),
            "url": doc.get("url"),
            "publication": doc.get("url"),
            "is_primary": 1,
            "parser_version": PARSER_VERSION,
            "parsed_at": now(),
            "meta": json.dumps(report.meta, ensure_ascii=False, default=str),
        }
        row.update(extra)
        with self.conn:  # one transaction: old rows go only when the new ones are written
            self._delete_report_rows(digest)
            self.conn.execute(
                f"INSERT OR REPLACE INTO reports ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
                list(row.values()),
            )
            self.conn.executemany(
                "INSERT INTO sections (report, no, title, text) VALUES (?, ?, ?, ?)",
                [(digest, s.no, s.title, s.text) for s in report.sections],
            )
            self.conn.executemany(
                "INSERT OR REPLACE INTO cells (report, table_no, row, col, value, raw, reason, source) VALUES (?,?,?,?,?,?,?,?)",
                [(digest, c.table, c.row, c.col, c.value, c.raw, c.reason,
                  json.dumps(c.source, ensure_ascii=False) if c.source else None) for c in report.cells],
            )
            self.conn.executemany(
                "INSERT INTO issues (report, kind, code, table_no, row, col, lhs, rhs, message, cells) VALUES (?,?,?,?,?,?,?,?,?,?)",
                [(digest, i.kind, i.code, i.table, i.row, i.col, i.lhs, i.rhs, i.message,
                  json.dumps(i.cells, ensure_ascii=False) if i.cells else None) for i in report.issues],
            )
            self.conn.execute(FIGURES_FILL + " WHERE r.id = ? GROUP BY r.id", (digest,))
            entries = [(None, "标题", report.title or "")] + [(s.no, s.title, s.text) for s in report.sections]
            for no, heading, text in entries:
                if not text:
                    continue
                cur = self.conn.execute(
                    "INSERT INTO search (report, section_no, heading, text) VALUES (?, ?, ?, ?)",
                    (digest, no, heading, text),
                )
                self.conn.execute("INSERT INTO search_fts (rowid, grams) VALUES (?, ?)",
                                  (cur.lastrowid, search.bigrams(text)))

    def _delete_report_rows(self, digest: str) -> None:
        # Contentless FTS5 deletes need the indexed values back: recompute them.
        for rowid, text in self.conn.execute("SELECT id, text FROM search WHERE report = ?", (digest,)).fetchall():
            self.conn.execute("INSERT INTO search_fts (search_fts, rowid, grams) VALUES ('delete', ?, ?)",
                              (rowid, search.bigrams(text)))
        for table in ("figures", "search", "issues", "cells", "sections"):
            self.conn.execute(f"DELETE FROM {table} WHERE report = ?", (digest,))
        self.conn.execute("DELETE FROM reports WHERE id = ?", (digest,))

    def refresh_figures(self) -> None:
        """Rebuild `figures` from `cells` for every report (bulk loads, archives older than the table)."""
        with self.conn:
            self.conn.execute("DELETE FROM figures")
            self.conn.execute(FIGURES_FILL + " GROUP BY r.id")

    def search(self, q: str, limit: int = 20) -> list[dict]:
        sql = """SELECT s.report, s.section_no, s.heading, nianbao_snippet(s.text, :q) AS snippet, r.title
                 FROM search_fts JOIN search s ON s.id = search_fts.rowid JOIN reports r ON r.id = s.report
                 WHERE search_fts MATCH nianbao_fts_query(:q) ORDER BY rank LIMIT :limit"""
        cur = self.conn.execute(sql, {"q": q, "limit": limit})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
