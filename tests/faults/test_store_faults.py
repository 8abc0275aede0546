"""Faults on the archive's side of a crawl: the raw store's disk fills up, another
process holds SQLite's write lock, a report changes and changes back; and the exit
status a scheduler sees when a site is incomplete. Real HTTP, real SQLite, a real
(small) tmpfs when this runs as root."""
from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from enospc import RAW_STORE_FULL
from portal_faults import crawl, fetch, q, rows, site, stored_urls, write_sites

from nianbao.devkit.portals import faults as F
from nianbao.devkit.portals import start_portals, stop_portals
from nianbao.pipeline.store import Archive

pytestmark = pytest.mark.timeout(300)


@pytest.fixture
def portal():
    (p,) = start_portals(["trs_old"], n_reports=6, n_other=1, seed=600, first_host=200, forms=("html",))
    yield p
    stop_portals([p])


def _expected(p) -> set[str]:
    return {e["url"] for e in p.expected_reports()}


# ---------------------------------------------------------------- disk full

# Without root (no tmpfs), the crawl runs as `python -c RAW_STORE_FULL` (tests/enospc.py).
def _mount_tmpfs(where: Path, size: str) -> bool:
    if os.geteuid() != 0 or os.environ.get("NIANBAO_TEST_NO_TMPFS"):
        return False
    where.mkdir(parents=True, exist_ok=True)
    return subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                          capture_output=True).returncode == 0


def test_disk_full_while_writing_raw_bytes(tmp_path, portal, reliability):
    p = portal
    db, raw = tmp_path / "archive.db", tmp_path / "raw"
    sites = write_sites(tmp_path / "sites", [p])
    mounted = _mount_tmpfs(raw, "48k")  # a list page or two and a few reports, not all
    try:
        if mounted:
            how = "tmpfs of 48 KiB"
            res = crawl(db, sites)
        else:
            how = "ENOSPC hook in the crawl process"
            res = crawl(db, sites, python=[sys.executable, "-c", RAW_STORE_FULL],
                        env={**os.environ, "NIANBAO_TEST_RAW_BUDGET": "48000"})
        assert res.code in (1, 3), res.out + res.err[-2000:]
        # Every stored document is whole: its bytes hash to its name.
        docs = q(db, "SELECT sha256, size FROM documents")
        for sha, size in docs:
            data = (raw / sha[:2] / sha[2:4] / sha).read_bytes()
            assert hashlib.sha256(data).hexdigest() == sha and len(data) == size
        assert not [f for f in raw.rglob("*") if ".tmp" in f.name]  # no half file left behind
        full = rows(db, "SELECT url, role, error FROM fetches WHERE error LIKE '%No space left%'")
        assert full, q(db, "SELECT url, error FROM fetches")
        assert all(fetch(db, f["url"])["sha256"] is None for f in full if f["role"] == "detail")
        s = site(db, p.name)
        assert s["status"] in ("partial", "failed") and "No space left" in s["reason"], s
        stored = stored_urls(db, p.name, "detail")
        assert stored | {f["url"] for f in full} >= _expected(p)  # every report is stored or its failure recorded
        # Space comes back: the next crawl stores what the full disk refused, nothing twice.
        if mounted:
            subprocess.run(["mount", "-o", "remount,size=16m", str(raw)], check=True)
            res2 = crawl(db, sites)
        else:
            res2 = crawl(db, sites)
        assert res2.code == 0, res2.out + res2.err[-2000:]
        assert stored_urls(db, p.name, "detail") == _expected(p)
        assert q(db, "SELECT COUNT(*) FROM documents WHERE role = 'detail'") == [(len(_expected(p)),)]
        assert site(db, p.name)["status"] == "ok"
    finally:
        if mounted:
            subprocess.run(["umount", str(raw)], capture_output=True)
    reliability("disk full while writing raw bytes", "no half-written raw file; the fetch recorded failed "
                "(ENOSPC); the crawl goes on; the next crawl stores the rest",
                f"{how}: {len(docs)} documents whole, {len(full)} fetches 'No space left on device', site "
                f"{s['status']}; after space returned: {len(_expected(p))}/{len(_expected(p))} reports, site ok")


# ---------------------------------------------------------------- SQLite locked

def test_sqlite_locked_by_another_writer(tmp_path, portal, reliability):
    p = portal
    db = tmp_path / "archive.db"
    Archive(db).close()  # an archive in WAL mode, as every archive is
    sites = write_sites(tmp_path / "sites", [p])
    hold, held = 4.0, threading.Event()

    def writer():
        con = sqlite3.connect(db, isolation_level=None)
        con.execute("BEGIN IMMEDIATE")  # the write lock, held while the crawl runs
        con.execute("INSERT INTO failures (stage, reason, at) VALUES ('test', 'lock holder', 'now')")
        held.set()
        time.sleep(hold)
        con.execute("COMMIT")
        con.close()

    t = threading.Thread(target=writer)
    t.start()
    held.wait(10)
    res = crawl(db, sites)
    t.join()
    assert res.code == 0, res.out + res.err[-3000:]
    assert res.took > hold * 0.8  # it waited for the lock …
    assert stored_urls(db, p.name, "detail") == _expected(p)  # … and lost nothing
    assert site(db, p.name)["status"] == "ok"
    assert q(db, "SELECT COUNT(*) FROM failures WHERE stage = 'test'") == [(1,)]  # nor did the other writer
    assert q(db, "PRAGMA integrity_check") == [("ok",)]
    reliability("SQLite locked by another writer", "the crawl waits (busy_timeout), nothing lost on either side",
                f"lock held {hold:.0f} s; crawl took {res.took:.1f} s, exit 0, "
                f"{len(_expected(p))}/{len(_expected(p))} reports, integrity_check ok")


# ---------------------------------------------------------------- changed, then reverted

def test_changed_then_reverted_report(tmp_path, reliability):
    (p,) = start_portals(["trs_old"], n_reports=2, n_other=0, seed=610, first_host=201, forms=("html",))
    try:
        db = tmp_path / "archive.db"
        sites = write_sites(tmp_path / "sites", [p])
        it = p.reports()[0]
        url = p.base_url + p.detail_path(it)
        shas = []
        for step in ("first", "changed", "reverted"):
            if step == "changed":
                p.change(it)
            elif step == "reverted":
                it.version -= 1  # the agency takes the correction back: the old bytes again
            res = crawl(db, sites, "--workers", "1", command="run")
            assert res.code == 0, res.out + res.err[-2000:]
            shas.append(fetch(db, url)["sha256"])
        a, b, a2 = shas
        assert a != b and a2 == a
        f = fetch(db, url)
        assert f["versions"] == 3  # A, B, A: three versions seen
        assert {s for (s,) in q(db, "SELECT sha256 FROM documents WHERE url = ?", url)} == {a, b}  # both kept, once each
        prim = q(db, "SELECT id FROM reports WHERE publication = ? AND is_primary = 1", url)
        assert len(prim) == 1  # no duplicate primaries …
        assert prim[0][0] == a  # … and it is what the URL serves now (it was the older row: derived.py)
    finally:
        stop_portals([p])
    reliability("changed-then-reverted report", "both versions kept, one primary report, the current bytes",
                f"versions {f['versions']}, 2 documents, 1 primary (the reverted-to version)")


# ---------------------------------------------------------------- exit status

def test_incomplete_site_exits_3(tmp_path, portal, reliability):
    """A partial crawl must not look like success to a scheduler: exit 3 (1 is failed)."""
    p = portal
    p.faults[("list", None)] = F.status(500)
    res = crawl(tmp_path / "archive.db", write_sites(tmp_path / "sites", [p]))
    assert res.code == 3, res.out + res.err[-2000:]
    assert f"{p.name}: partial" in res.out and "1 site(s) incomplete" in res.err
    reliability("exit status of an incomplete crawl", "exit 3 (partial), the site and its gap printed",
                f"exit {res.code}; {res.out.splitlines()[1][:100]}")


# ---------------------------------------------------------------- a JOBDIR kept on a schedule

def test_scheduled_crawls_with_one_jobdir_see_changes(tmp_path, reliability):
    """operations.md runs every crawl with the same --jobdir: the seen-requests file of a
    finished crawl must not filter the next crawl's pages (found by the kill trials)."""
    (p,) = start_portals(["trs_old"], n_reports=2, n_other=0, seed=620, first_host=202, forms=("html",))
    try:
        db, job = tmp_path / "archive.db", tmp_path / "job"
        sites = write_sites(tmp_path / "sites", [p])
        assert crawl(db, sites, "--jobdir", str(job)).code == 0
        it = p.reports()[0]
        p.change(it)
        res = crawl(db, sites, "--jobdir", str(job))
        assert res.code == 0, res.out + res.err[-2000:]
        url = p.base_url + p.detail_path(it)
        assert fetch(db, url)["versions"] == 2  # the corrected report was fetched and kept beside the first
        assert q(db, "SELECT changed FROM runs ORDER BY id DESC LIMIT 1") == [(1,)]
    finally:
        stop_portals([p])
    reliability("second scheduled crawl with the same JOBDIR", "the finished job's state is dropped; the "
                "corrected report is fetched", "run 2: changed 1, versions 2")


def test_sqlite_locked_past_the_wait_stops_the_crawl_loudly(tmp_path, portal, reliability):
    """A lock held longer than the crawl waits (NIANBAO_DB_WAIT, 1 s here): the crawl
    stops with exit 1 and says why, instead of dropping documents one by one; the next
    crawl stores everything."""
    p = portal
    p.delay = 0.3  # a crawl long enough to be caught in the middle
    db = tmp_path / "archive.db"
    sites = write_sites(tmp_path / "sites", [p])
    done = threading.Event()

    def writer():
        while not done.is_set() and len(p.requests) < 3:  # robots.txt, the column, a report page: lock now
            time.sleep(0.01)
        con = sqlite3.connect(db, isolation_level=None, timeout=30)
        con.execute("BEGIN IMMEDIATE")
        time.sleep(5)
        con.execute("ROLLBACK")
        con.close()

    t = threading.Thread(target=writer)
    t.start()
    Archive(db).close()
    res = crawl(db, sites, "-s", "NIANBAO_DB_WAIT=1", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1")
    done.set()
    t.join()
    assert res.code == 1, res.out + res.err[-2000:]
    assert "archive unavailable: database is locked" in res.err
    got = stored_urls(db, p.name, "detail")
    assert got < _expected(p)
    res2 = crawl(db, sites)
    assert res2.code == 0, res2.out + res2.err[-2000:]
    assert stored_urls(db, p.name, "detail") == _expected(p)
    assert q(db, "PRAGMA integrity_check") == [("ok",)]
    reliability("SQLite locked longer than the crawl waits", "the crawl stops with exit 1 and the reason; "
                "nothing half-recorded; the next crawl stores the rest",
                f"exit {res.code} ('archive unavailable: database is locked') after {len(got)} reports; "
                f"next crawl: {len(_expected(p))}/{len(_expected(p))}, integrity ok")
