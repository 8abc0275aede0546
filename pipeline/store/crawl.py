"""Crawl bookkeeping in the archive: what the crawler did, beside what it brought.

- runs     one row per crawl: started, finished, status, pages, new, changed,
           unchanged, failed, blocked (sites), the JOBDIR if resumable; expected /
           reached: the records the crawled columns say they hold (summed over the
           columns that state a count) and how many of those columns' records it reached
- fetches  one row per URL ever fetched (detail pages, attachments, list pages): the
           current sha256, validators for conditional requests (ETag, Last-Modified),
           versions seen, the metadata read from the detail page, the last error
- sites    one row per configured site: family, status (ok | partial | empty | blocked |
           robots | failed), reason, last run, detail pages found (`reports` is derived);
           expected: the record count the column states (TRS recordCount, Hanweb
           totalRecord, gkmlpt total, 共N条; NULL when it states none), reached: the
           distinct records its list pages showed this run. reached < expected is
           `partial`, its reason starting "reached/expected: …"
"""
from __future__ import annotations

import json
import sqlite3
from typing import Any

from .timeutil import now

RUN_COUNTERS = ("pages", "new", "changed", "unchanged", "failed", "blocked")


def _row(cur: sqlite3.Cursor) -> dict | None:
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


class CrawlLog:
    """The archive's crawl tables; one per Archive (its connection, its writer)."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    # ------------------------------------------------------------ runs
    def start_run(self, sites: list[str], jobdir: str | None = None, *, sweep: bool = True) -> int:
        # A run still 'running' was killed: say so instead of leaving it open forever.
        # Not the cycles of the shared frontier: they run for days, several at once, and
        # their archiver closes them.
        if sweep:
            self.conn.execute("UPDATE runs SET status = 'interrupted' WHERE status = 'running' "
                              "AND id NOT IN (SELECT run_id FROM frontier_cycles)")
        cur = self.conn.execute("INSERT INTO runs (started, status, sites, jobdir) VALUES (?, 'running', ?, ?)",
                                (now(), json.dumps(sites, ensure_ascii=False), jobdir))
        self.conn.commit()
        return cur.lastrowid

    def count(self, run_id: int, field: str, n: int = 1) -> None:
        """Add to a run counter; committed with the next record (or at the end of the run)."""
        if field not in RUN_COUNTERS:
            raise ValueError(f"no run counter {field!r}")
        self.conn.execute(f"UPDATE runs SET {field} = {field} + ? WHERE id = ?", (n, run_id))

    def set_count(self, run_id: int, field: str, n: int) -> None:
        """Set a run counter kept elsewhere (Scrapy's stats); committed like `count`."""
        if field not in RUN_COUNTERS:
            raise ValueError(f"no run counter {field!r}")
        self.conn.execute(f"UPDATE runs SET {field} = ? WHERE id = ?", (n, run_id))

    def set_completeness(self, run_id: int, expected: int | None, reached: int | None) -> None:
        """The run's records: stated by its columns (expected) and reached."""
        self.conn.execute("UPDATE runs SET expected = ?, reached = ? WHERE id = ?", (expected, reached, run_id))

    def finish_run(self, run_id: int, status: str, note: str | None = None) -> None:
        self.conn.execute("UPDATE runs SET finished = ?, status = ?, note = ? WHERE id = ?", (now(), status, note, run_id))
        self.conn.commit()

    def run(self, run_id: int) -> dict:
        return _row(self.conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)))

    def last_run_with_jobdir(self, jobdir: str) -> dict | None:
        return _row(self.conn.execute("SELECT * FROM runs WHERE jobdir = ? ORDER BY id DESC LIMIT 1", (jobdir,)))

    # ------------------------------------------------------------ fetches
    def fetch(self, url: str) -> dict | None:
        return _row(self.conn.execute("SELECT * FROM fetches WHERE url = ?", (url,)))

    def record_fetch(self, url: str, *, run_id: int | None, sha256: str | None, changed: bool, **cols: Any) -> None:
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

    def record_error(self, url: str, site: str | None, role: str | None, run_id: int | None, error: str,
                     parent_url: str | None = None) -> None:
        """A fetch that failed for good; an attachment keeps its detail page (`parent_url`),
        the publication that is missing its document."""
        if self.fetch(url) is None:
            self.conn.execute("INSERT INTO fetches (url, site, role, first_seen, last_fetched, run_id, error, parent_url) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", (url, site, role, now(), now(), run_id, error, parent_url))
        else:
            self.conn.execute("UPDATE fetches SET error = ?, last_fetched = ?, run_id = ?, "
                              "parent_url = COALESCE(?, parent_url) WHERE url = ?", (error, now(), run_id, parent_url, url))
        self.conn.commit()

    # ------------------------------------------------------------ WARC files
    def note_warc_file(self, name: str, run_id: int | None) -> None:
        """A WARC file an item names, recorded with its run at once (size and count follow
        when it is closed): a crawl killed before then still lists every file its rows name."""
        self.conn.execute("INSERT OR IGNORE INTO warc_files (name, run_id) VALUES (?, ?)", (name, run_id))

    def record_warc_files(self, run_id: int | None, files: list[tuple[str, int, int]]) -> None:
        """The WARC files a run wrote: (name, size, records) each (store/warc.py)."""
        self.conn.executemany("INSERT OR REPLACE INTO warc_files (name, run_id, size, records, closed) "
                              "VALUES (?, ?, ?, ?, ?)", [(n, run_id, size, recs, now()) for n, size, recs in files])
        self.conn.commit()

    # ------------------------------------------------------------ sites
    def set_site(self, name: str, **cols: Any) -> None:
        if "reports" in cols:
            raise ValueError("sites.reports is derived (store/derived.py)")
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
        return _row(self.conn.execute("SELECT * FROM sites WHERE name = ?", (name,)))

    def sites_of_run(self, run_id: int) -> list[dict]:
        cur = self.conn.execute("SELECT * FROM sites WHERE last_run = ? ORDER BY name", (run_id,))
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur.fetchall()]
