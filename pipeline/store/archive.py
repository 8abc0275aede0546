"""`Archive`: archive.db plus its raw store, and the only code that writes either.

Every batch that writes (ingest, reparse, crawl, the demo, synthetic archives) ends in
`finish()`, which brings the derived data up to date (store/derived.py); `close()`
finishes first, so a batch cannot forget it. A report's own rows are replaced in one
transaction, so a reader never sees half of a re-parse.
"""
from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable

import sqlite_utils

from .. import search
from ..model import Report
from . import derived, schema
from .crawl import CrawlLog
from .raw import RawStore, raw_root_for
from .timeutil import now

PARSER_VERSION = "2"

# Columns of `reports` that derived.py owns: a re-parse leaves them to the next refresh.
_DERIVED_REPORT_COLS = ("publication", "is_primary")


class _Connection(sqlite3.Connection):
    """A connection whose commits can be held back: inside `Archive.batch()` the writes of
    several calls (each of which commits on its own) become one transaction."""
    held = 0

    def commit(self) -> None:
        if not self.held:
            super().commit()


class Archive:
    """archive.db plus its raw store. One writer; readers may be many (WAL)."""

    def __init__(self, db_path: Path | str = "archive.db", raw_root: Path | str | None = None):
        self.path = Path(db_path)
        self.raw = RawStore(raw_root or raw_root_for(self.path))
        self.db = sqlite_utils.Database(sqlite3.connect(str(self.path), factory=_Connection))
        self.conn: sqlite3.Connection = self.db.conn
        self.conn.execute("PRAGMA journal_mode=WAL")
        # WAL + NORMAL survives a killed process (only power loss can drop the last
        # commits); one fsync per document would make crawls and ingests disk-bound.
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA busy_timeout=30000")
        search.register(self.conn)
        schema.create(self.conn)
        self.crawl = CrawlLog(self.conn)
        # An archive written before `figures` existed: derive it at the next finish().
        if (self.conn.execute("SELECT 1 FROM reports LIMIT 1").fetchone()
                and not self.conn.execute("SELECT 1 FROM figures LIMIT 1").fetchone()):
            derived.mark_all(self.conn)
        else:
            derived.catch_up(self.conn)

    def finish(self, progress: Callable[[int, int], None] | None = None) -> dict:
        """Bring publications, figures, search and site counts up to date;
        `progress(done, total)` after each chunk of reports."""
        return derived.refresh(self.conn, progress)

    def close(self) -> None:
        if self.conn.execute("SELECT 1 FROM pending LIMIT 1").fetchone():
            self.finish()
        self.conn.close()

    @contextmanager
    def batch(self):
        """Everything written inside is committed together, or not at all (an exception
        rolls it back). The archiver of the shared frontier applies each worker message
        this way, with the marker that says it was applied: a crash never leaves half a
        message in the archive, and a message applied twice is recognised."""
        conn = self.conn
        conn.held += 1
        try:
            yield self
        except BaseException:
            conn.held -= 1
            if not conn.held:
                conn.rollback()
            raise
        conn.held -= 1
        if not conn.held:
            conn.commit()

    def __enter__(self) -> "Archive":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---------------------------------------------------------------- documents
    def add_document(self, data: bytes, *, type: str, original_name: str | None = None, **fetch: Any) -> tuple[str, bool]:
        """Store bytes and record them. Returns (sha256, is_new). Same bytes twice: no-op."""
        digest = self.raw.put(data)
        return self.record_document(digest, len(data), type=type, original_name=original_name, **fetch)

    def record_document(self, digest: str, size: int, *, type: str, original_name: str | None = None,
                        **fetch: Any) -> tuple[str, bool]:
        """Record bytes already in the raw store (a crawl worker put them there, by their
        sha256). Returns (sha256, is_new); a document already recorded is left as it is."""
        if self.conn.execute("SELECT 1 FROM documents WHERE sha256 = ?", (digest,)).fetchone():
            return digest, False
        row = {"sha256": digest, "size": size, "type": type, "original_name": original_name,
               "stored_at": now(), **fetch}
        self.conn.execute(f"INSERT INTO documents ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                          list(row.values()))
        self.conn.commit()
        return digest, True

    def document(self, digest: str) -> dict | None:
        rows = list(self.db.query("SELECT * FROM documents WHERE sha256 = ?", [digest]))
        return rows[0] if rows else None

    def documents(self) -> Iterable[dict]:
        return self.db.query("SELECT * FROM documents ORDER BY stored_at, sha256")

    def attached(self, publications: list[str]) -> dict[str, list[tuple[str, str | None, str | None, str | None]]]:
        """Per publication (a detail page's URL): the attachments a report may be made of
        beside its main document — images (an article whose body is its report's pages)
        and workbooks (its tables published as a separate spreadsheet) — as (url,
        sha256 of the current bytes or None, the fetch error or None, type), and the
        attachments that failed to come (type unknown: the parser keeps those its page
        shows as images)."""
        out: dict[str, list] = {}
        if not publications:
            return out
        for pub, url, sha, error, kind in self.conn.execute(
                "SELECT f.parent_url, f.url, f.sha256, f.error, d.type FROM fetches f "
                "LEFT JOIN documents d ON d.sha256 = f.sha256 "
                "WHERE f.role = 'attachment' AND f.parent_url IN (SELECT value FROM json_each(?)) "
                "AND (d.type IN ('image', 'xlsx', 'xls') OR f.sha256 IS NULL) ORDER BY f.first_seen, f.url",
                (json.dumps(publications),)):
            out.setdefault(pub, []).append((url, sha, error, kind))
        return out

    def outdated_by_attachments(self) -> list[str]:
        """Main documents whose report was parsed before an image or workbook of their
        publication arrived (a page image that failed and came on the next crawl, a
        workbook fetched after its unchanged page): their reports are parsed again."""
        return [r[0] for r in self.conn.execute("""
            SELECT DISTINCT r.id FROM reports r JOIN documents d ON d.sha256 = r.id
            JOIN fetches f ON f.parent_url = r.publication AND f.role = 'attachment'
            JOIN documents a ON a.sha256 = f.sha256
            WHERE a.type IN ('image', 'xlsx', 'xls') AND d.type IN ('html', 'pdf', 'docx', 'doc', 'ofd', 'rtf', 'txt')
              AND a.stored_at > r.parsed_at ORDER BY d.stored_at""")]

    def has_report(self, digest: str) -> bool:
        return self.conn.execute("SELECT 1 FROM reports WHERE id = ?", (digest,)).fetchone() is not None

    def record_failure(self, digest: str | None, original_name: str | None, stage: str, reason: str) -> None:
        self.conn.execute("INSERT INTO failures (sha256, original_name, stage, reason, at) VALUES (?, ?, ?, ?, ?)",
                          (digest, original_name, stage, reason, now()))
        self.conn.commit()

    # ---------------------------------------------------------------- reparse checkpoint
    def reparse_todo(self, restart: bool = False) -> tuple[list[str], int]:
        """(documents still to parse, size of the whole reparse). An unfinished reparse is
        resumed; otherwise (or with `restart`) every document is queued, oldest first."""
        with self.conn:
            if restart:
                self.conn.execute("DELETE FROM reparse_todo")
            if not self.conn.execute("SELECT 1 FROM reparse_todo LIMIT 1").fetchone():
                total = self.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
                self.conn.execute("INSERT INTO reparse_todo (sha256, total) "
                                  "SELECT sha256, ? FROM documents ORDER BY stored_at, sha256", (total,))
        rows = self.conn.execute("SELECT sha256, total FROM reparse_todo ORDER BY rowid").fetchall()
        return [r[0] for r in rows], (rows[0][1] if rows else 0)

    def reparse_left(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM reparse_todo").fetchone()[0]

    def reparse_done(self, digests: list[str]) -> None:
        with self.conn:
            self.conn.executemany("DELETE FROM reparse_todo WHERE sha256 = ?", [(d,) for d in digests])

    # ---------------------------------------------------------------- reports
    def write_report(self, digest: str, report: Report) -> None:
        """Replace everything stored for document `digest` with this parse, atomically."""
        self.write_reports([(digest, report)])

    def write_reports(self, batch: Iterable[tuple[str, Report]]) -> int:
        """Replace the parses of many documents in one transaction; returns how many.
        Their derived rows follow at the next `finish()`."""
        batch = list(batch)
        ids = [digest for digest, _ in batch]
        docs = {r[0]: r for r in self.conn.execute(
            "SELECT sha256, site, url FROM documents WHERE sha256 IN (SELECT value FROM json_each(?))", (json.dumps(ids),))}
        rows, sections, cells, old, issues = [], [], [], [], []
        for digest, report in batch:
            _, site, url = docs.get(digest, (digest, None, None))
            rows.append(_report_row(digest, report, site, url))
            sections += [(digest, s.no, s.title, s.text) for s in report.sections]
            for c in report.cells:
                src = json.dumps(c.source, ensure_ascii=False) if c.source else None
                if c.table == "old":
                    old.append((digest, c.row, c.col, c.value, c.raw, c.reason, c.label, c.unit, src))
                else:
                    cells.append((digest, c.table, c.row, c.col, c.value, c.raw, c.reason, src))
            issues += [(digest, i.kind, i.code, i.table, i.row, i.col, i.lhs, i.rhs, i.message,
                        json.dumps(i.cells, ensure_ascii=False) if i.cells else None,
                        json.dumps(i.evidence, ensure_ascii=False) if i.evidence else None) for i in report.issues]
        if not rows:
            return 0
        cols = list(rows[0])
        upsert = (f"INSERT INTO reports ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "
                  f"ON CONFLICT(id) DO UPDATE SET "
                  + ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id" and c not in _DERIVED_REPORT_COLS))
        with self.conn:  # one transaction: old rows go only when the new ones are written
            self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS replacing (report TEXT PRIMARY KEY)")
            self.conn.execute("DELETE FROM replacing")
            self.conn.executemany("INSERT OR IGNORE INTO replacing VALUES (?)", [(i,) for i in ids])
            for table in ("sections", "cells", "old", "issues"):
                self.conn.execute(f"DELETE FROM {table} WHERE report IN (SELECT report FROM replacing)")
            self.conn.executemany(upsert, [list(r.values()) for r in rows])
            self.conn.executemany("INSERT INTO sections (report, no, title, text) VALUES (?, ?, ?, ?)", sections)
            self.conn.executemany("INSERT OR REPLACE INTO cells (report, table_no, row, col, value, raw, reason, source)"
                                  " VALUES (?,?,?,?,?,?,?,?)", cells)
            self.conn.executemany("INSERT OR REPLACE INTO old (report, row, col, value, raw, reason, label, unit, source)"
                                  " VALUES (?,?,?,?,?,?,?,?,?)", old)
            self.conn.executemany("INSERT INTO issues (report, kind, code, table_no, row, col, lhs, rhs, message, cells,"
                                  " evidence) VALUES (?,?,?,?,?,?,?,?,?,?,?)", issues)
            self.conn.execute("INSERT OR IGNORE INTO pending SELECT report FROM replacing")
        return len(rows)

    def search(self, q: str, limit: int = 20) -> list[dict]:
        sql = """SELECT s.report, s.section_no, s.heading, nianbao_snippet(s.text, :q) AS snippet, r.title
                 FROM search_fts JOIN search s ON s.id = search_fts.rowid JOIN reports r ON r.id = s.report
                 WHERE search_fts MATCH nianbao_fts_query(:q) ORDER BY rank LIMIT :limit"""
        cur = self.conn.execute(sql, {"q": q, "limit": limit})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]


def _report_row(digest: str, report: Report, site: str | None, url: str | None) -> dict[str, Any]:
    return {
        "id": digest,
        "status": report.status,
        "reason": report.reason,
        "agency": report.agency,
        "report_year": report.report_year,
        "title": report.title,
        "agency_titled": report.agency_titled,
        "agency_id": report.agency_id,
        "adcode": report.adcode,
        "province": report.province,
        "city": report.city,
        "county": report.county,
        "region_from": "agency" if report.adcode else None,
        "container": report.container,
        "template_t2": report.templates.get("2"),
        "template_t3": report.templates.get("3"),
        "template_t4": report.templates.get("4"),
        "template_old": report.templates.get("old"),
        "cells_found": sum(1 for c in report.cells if c.value is not None),
        "cells_missing": sum(1 for c in report.cells if c.value is None and c.reason),
        "rules_broken": sum(1 for i in report.issues if i.kind == "rule"),
        "published": report.meta.get("published"),
        "site": site,
        "url": url,
        "publication": None,
        "is_primary": 0,
        "parser_version": PARSER_VERSION,
        "parsed_at": now(),
        "meta": json.dumps(report.meta, ensure_ascii=False, default=str),
    }
