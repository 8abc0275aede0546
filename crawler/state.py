"""The crawler's own tables beside the archive's documents (same archive.db):

- runs     one row per crawl: started, finished, status, pages, new, changed,
           unchanged, failed, blocked (sites), the JOBDIR if resumable
- fetches  one row per URL ever fetched (detail pages, attachments, list pages): the
           current sha256, validators for conditional requests (ETag, Last-Modified),
           versions seen, the metadata read from the detail page, the last error
- sites    one row per configured site: family, status (ok | blocked | robots |
           failed), reason, last run
- view document_versions: every stored version of every URL, oldest first
"""
from __future__ import annotations

import json
from typing import Any

from pipeline.store import Archive, now

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY,
  started TEXT NOT NULL,
  finished TEXT,
  status TEXT NOT NULL,            -- running | finished | shutdown | interrupted
  sites TEXT,                      -- JSON list of site names
  jobdir TEXT,
  pages INTEGER NOT NULL DEFAULT 0,      -- responses received (list, detail, attachment)
  new INTEGER NOT NULL DEFAULT 0,        -- URLs stored for the first time
  changed INTEGER NOT NULL DEFAULT 0,    -- URLs whose bytes changed: a new version stored
  unchanged INTEGER NOT NULL DEFAULT 0,  -- 304 or same bytes
  failed INTEGER NOT NULL DEFAULT 0,     -- requests that failed for good
  blocked INTEGER NOT NULL DEFAULT 0,    -- sites found behind an anti-bot wall
  note TEXT
);
CREATE TABLE IF NOT EXISTS fetches (
  url TEXT PRIMARY KEY,
  site TEXT,
  role TEXT,
  sha256 TEXT,
  final_url TEXT,
  http_status INTEGER,
  content_type TEXT,
  etag TEXT,
  last_modified TEXT,
  parent_url TEXT,
  first_seen TEXT,
  last_fetched TEXT,
  last_changed TEXT,
  versions INTEGER NOT NULL DEFAULT 0,
  run_id INTEGER,
  title TEXT,
  published TEXT,
  publisher TEXT,
  index_no TEXT,
  report_year INTEGER,
  error TEXT
);
CREATE INDEX IF NOT EXISTS fetches_site ON fetches(site);
CREATE INDEX IF NOT EXISTS fetches_parent ON fetches(parent_url);
CREATE TABLE IF NOT EXISTS sites (
  name TEXT PRIMARY KEY,
  start_url TEXT,
  family TEXT,
  agency TEXT,
  status TEXT,
  reason TEXT,
  last_run INTEGER,
  last_checked TEXT,
  reports INTEGER
);
CREATE VIEW IF NOT EXISTS document_versions AS
SELECT url, sha256, role, site, http_status, etag, last_modified, fetched_at, size, parent_sha256
FROM documents WHERE url IS NOT NULL ORDER BY url, fetched_at;
"""


class CrawlState:
    """Owned by the spider (reactor thread): one SQLite connection, no sharing."""

    def __init__(self, archive: Archive):
        self.archive = archive
        self.conn = archive.conn
        self.conn.executescript(SCHEMA)
        self.conn.commit()
        # WAL + NORMAL survives a killed process (only power loss can drop the last
        # commits); one fsync per document would make the crawl disk-bound.
        self.conn.execute("PRAGMA synchronous=NORMAL")

    # ------------------------------------------------------------ runs
    def start_run(self, sites: list[str], jobdir: str | None = None) -> int:
        # A run still 'running' was killed: say so instead of leaving it open forever.
        self.conn.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running'")
        cur = self.conn.execute("INSERT INTO runs (started, status, sites, jobdir) VALUES (?, 'running', ?, ?)",
                                (now(), json.dumps(sites, ensure_ascii=False), jobdir))
        self.conn.commit()
        return cur.lastrowid

    def count(self, run_id: int, field: str, n: int = 1) -> None:
        assert field in ("pages", "new", "changed", "unchanged", "failed", "blocked")
        self.conn.execute(f"UPDATE runs SET {field} = {field} + ? WHERE id = ?", (n, run_id))
        # committed with the next document or fetch record (or at the end of the run)

    def finish_run(self, run_id: int, status: str, note: str | None = None) -> None:
        self.conn.execute("UPDATE runs SET finished = ?, status = ?, note = ? WHERE id = ?", (now(), status, note, run_id))
        self.conn.commit()

    def run(self, run_id: int) -> dict:
        cur = self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,))
        return dict(zip([d[0] for d in cur.description], cur.fetchone()))

    # ------------------------------------------------------------ fetches
    def fetch(self, url: str) -> dict | None:
        cur = self.conn.execute("SELECT * FROM fetches WHERE url = ?", (url,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None

    def record_fetch(self, url: str, *, run_id: int, sha256: str | None, changed: bool, **cols: Any) -> None:
        t = now()
        prev = self.fetch(url)
        if prev is None:
            row = {"url": url, "first_seen": t, "last_fetched": t, "last_changed": t if sha256 else None,
                   "versions": 1 if sha256 else 0, "sha256": sha256, "run_id": run_id, **cols}
            self.conn.execute(f"INSERT INTO fetches ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                              list(row.values()))
        else:
            row = {"last_fetched": t, "run_id": run_id, **{k: v for k, v in cols.items() if v is not None or k == "error"}}
            if sha256:
                row["sha256"] = sha256
            if changed:
                row["last_changed"] = t
                row["versions"] = (prev["versions"] or 0) + 1
            self.conn.execute(f"UPDATE fetches SET {', '.join(k + ' = ?' for k in row)} WHERE url = ?",
                              [*row.values(), url])
        self.conn.commit()

    def record_error(self, url: str, site: str | None, role: str | None, run_id: int, error: str) -> None:
        if self.fetch(url) is None:
            self.conn.execute("INSERT INTO fetches (url, site, role, first_seen, last_fetched, run_id, error) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)", (url, site, role, now(), now(), run_id, error))
        else:
            self.conn.execute("UPDATE fetches SET error = ?, last_fetched = ?, run_id = ? WHERE url = ?",
                              (error, now(), run_id, url))
        self.conn.commit()

    # ------------------------------------------------------------ sites
    def set_site(self, name: str, **cols: Any) -> None:
        cols = {"last_checked": now(), **cols}
        if self.conn.execute("SELECT 1 FROM sites WHERE name = ?", (name,)).fetchone():
            self.conn.execute(f"UPDATE sites SET {', '.join(k + ' = ?' for k in cols)} WHERE name = ?",
                              [*cols.values(), name])
        else:
            row = {"name": name, **cols}
            self.conn.execute(f"INSERT INTO sites ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                              list(row.values()))
        self.conn.commit()

    def site(self, name: str) -> dict | None:
        cur = self.conn.execute("SELECT * FROM sites WHERE name = ?", (name,))
        row = cur.fetchone()
        return dict(zip([d[0] for d in cur.description], row)) if row else None
