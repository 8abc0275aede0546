"""Serving while the archive changes (issue 12, item 2): a real `nianbao ingest` of
generated reports writes into the archive that a real Datasette serves, while every
kind of page is asked for over HTTP and in headless Chromium. No page may fail, and once
the write is done, every count the site shows equals the count in the archive."""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from known_archive import SAMPLES
from nianbao.devkit import generate, synth
from nianbao.pipeline import store
from nianbao.pipeline.site import metadata, server

pytestmark = pytest.mark.browser

TABLES = ["reports", "documents", "cells", "sections", "issues", "figures", "old", "search", "failures"]
VIEWS = ["t3_wide", "totals_by_year", "agency_series", "series_comparable", "document_versions"]
PARAMS = {"fulltext": {"q": "公开"}, "agency_history": {"agency": "人民政府"}, "missing_reports": {"year": "2023"},
          "broken_rules": {"year": ""}, "cross_checks": {"kind": "", "year": ""}, "comparable_series": {"agency_id": "", "year": ""},
          "province_overview": {"year": "2023"}}
FORMATS = ["html", "docx", "html"]


def fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def why(body: bytes) -> str:
    """The error a failed page states (Datasette's message), for the assertion text."""
    text = body.decode("utf-8", "replace")
    m = re.search(r"database disk image is malformed|[^<>\n]{0,100}(?:rror|too big|too long)[^<>\n]{0,100}", text)
    return m.group(0).strip() if m else text[:200]


def every_page(db_path) -> list[str]:
    """One URL of every kind the site serves (ids taken from the archive as it is before the write)."""
    con = sqlite3.connect(db_path)
    rid, = con.execute("SELECT id FROM reports WHERE is_primary = 1 AND id IN (SELECT report FROM cells) LIMIT 1"
                       ).fetchone()
    table, row, col = con.execute("SELECT table_no, row, col FROM cells WHERE report = ? LIMIT 1", [rid]).fetchone()
    aid, = con.execute("SELECT agency_id FROM reports WHERE agency_id IS NOT NULL AND is_primary = 1 LIMIT 1").fetchone()
    pdf, = con.execute("SELECT sha256 FROM documents WHERE original_name = 'hongze.pdf'").fetchone()
    province, = con.execute("SELECT province FROM reports WHERE province IS NOT NULL LIMIT 1").fetchone()
    con.close()
    q = urllib.parse.quote
    pages = ["/", "/archive", "/-/metadata.json", "/search?q=" + q("公开"), "/search?q=" + q("复议 诉讼"), "/charts",
             "/charts?province=" + q(province), f"/report/{rid}", f"/report/{rid}/cell/{table}/{row}/{col}",
             f"/agency/{q(aid)}", f"/raw/{rid}", f"/report/{pdf}/page/1.png", "/archive/reports?report_year=2023",
             "/archive/reports.json?_facet=status&_facet=report_year", "/archive.json",
             "/archive/cells.csv?_size=100"]
    pages += [f"/archive/{t}" for t in TABLES + VIEWS] + [f"/archive/{t}.json?_size=5" for t in TABLES + VIEWS]
    for name in metadata.QUERIES:
        pages.append(f"/archive/{name}" + ("?" + urllib.parse.urlencode(PARAMS[name]) if name in PARAMS else ""))
    return pages


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    d = tmp_path_factory.mktemp("live")
    db = d / "archive.db"
    a = store.Archive(db)
    synth.load(a, synth.reports(11, 120))
    a.add_document((SAMPLES / "huaian-hongze-2023.pdf").read_bytes(), type="pdf", original_name="hongze.pdf")
    a.close()
    batches = []
    for b in range(2):  # two ingests: two write transactions, two derived refreshes
        folder = d / f"incoming{b}"
        folder.mkdir()
        for i in range(20):
            seed = 5000 + 100 * b + i
            fmt = FORMATS[i % len(FORMATS)]
            (folder / f"r{seed}.{fmt}").write_bytes(generate.render(generate.random_report(seed), fmt))
        batches.append(folder)
    proc, url = server.start(db)
    yield {"db": db, "url": url, "batches": batches, "pages": every_page(db)}
    server.stop(proc)


def counts(db) -> dict[str, int]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def test_pages_stay_up_and_counts_follow_while_ingest_writes(live, reliability):
    from playwright.sync_api import sync_playwright
    from test_site_browser import ARGS, ARTIFACTS, CHROMIUM

    base, pages = live["url"], live["pages"]
    before = counts(live["db"])
    writing = threading.Event()
    writing.set()
    http_errors: list[tuple[str, int, bytes]] = []
    http_done = [0]

    def hammer():
        # Over HTTP, one request at a time (the expensive routes allow two at once per client).
        while True:
            last_round = not writing.is_set()
            for p in pages:
                status, body = fetch(base + p)
                http_done[0] += 1
                if status != 200:
                    http_errors.append((p, status, why(body)))
            if last_round:
                return

    ingest_rc: list[int] = []

    def write():
        try:
            for folder in live["batches"]:
                done = subprocess.run([sys.executable, "-m", "nianbao", "ingest", str(folder), "--db", str(live["db"]),
                                       "--quiet", "--workers", "1"], check=False, capture_output=True, text=True, timeout=600)
                ingest_rc.append(done.returncode)
                assert done.returncode == 0, done.stdout + done.stderr
        finally:
            writing.clear()

    browser_errors: list[tuple[str, object]] = []
    browser_done = 0
    html_pages = [p for p in pages if ".json" not in p and ".csv" not in p and ".png" not in p and "/raw/" not in p]
    t0 = time.monotonic()
    threads = [threading.Thread(target=hammer), threading.Thread(target=write)]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page()
        for t in threads:
            t.start()
        while writing.is_set() or browser_done < len(html_pages):
            p = html_pages[browser_done % len(html_pages)]
            resp = pg.goto(base + p)
            browser_done += 1
            text = pg.content()
            if resp is None or resp.status != 200 or "malformed" in text:
                browser_errors.append((p, resp.status if resp else None))
        for t in threads:
            t.join()
        # After the write: what Chromium shows is what the archive holds.
        after = counts(live["db"])
        pg.goto(base + "/archive/reports")
        shown = pg.locator("h3").first.inner_text()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "live-reports-after-ingest.png"), full_page=False)
        browser.close()
    seconds = time.monotonic() - t0

    assert ingest_rc == [0, 0]
    assert not http_errors, http_errors[:5]
    assert not browser_errors, browser_errors[:5]
    assert after["reports"] > before["reports"] and after["documents"] == before["documents"] + 40
    assert f"{after['reports']} rows" in shown, shown
    # Every table's count on the site equals the archive's.
    for t in TABLES:
        status, body = fetch(f"{base}/archive/{t}.json?_size=0")
        assert status == 200
        assert json.loads(body)["filtered_table_rows_count"] == after[t], t
    reliability("serve while `nianbao ingest` writes the same archive (HTTP and Chromium)",
                "every page 200, no 'malformed'; counts after the write equal the archive's",
                f"{http_done[0]} HTTP requests and {browser_done} Chromium page loads over {seconds:.0f} s: "
                f"{len(http_errors) + len(browser_errors)} errors; {len(TABLES)} table counts equal "
                f"(reports {before['reports']} → {after['reports']})", group="site")


def test_facets_views_and_counts_match_the_archive_after_the_write(live):
    """Runs after the write above: facet counts, views and the database page's table counts
    come from the archive as it is now, not from a snapshot taken at start."""

    base, db = live["url"], live["db"]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    con.row_factory = sqlite3.Row
    try:
        status, body = fetch(f"{base}/archive/reports.json?_facet=report_year&_facet=status&_size=0")
        assert status == 200
        facets = json.loads(body)["facet_results"]
        for col in ("report_year", "status"):
            want = {str(k): n for k, n in con.execute(f"SELECT {col}, COUNT(*) FROM reports GROUP BY {col}")}
            got = {str(r["value"]): r["count"] for r in facets[col]["results"]}
            assert got == {k: v for k, v in want.items() if k != "None"}, col
        for view in ("totals_by_year", "figures"):
            rows = json.loads(fetch(f"{base}/archive/{view}.json?_shape=array&_size=max")[1])
            assert len(rows) == con.execute(f"SELECT COUNT(*) FROM {view}").fetchone()[0]
        totals = json.loads(fetch(f"{base}/archive/totals_by_year.json?_shape=array")[1])
        assert totals == [dict(r) for r in con.execute("SELECT * FROM totals_by_year")]
        tables = {t["name"]: t["count"] for t in json.loads(fetch(f"{base}/archive.json")[1])["tables"]}
        for t in TABLES:
            assert tables[t] in (None, con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]), t
    finally:
        con.close()


def test_served_live_not_immutable(live):

    dbs = json.loads(fetch(live["url"] + "/-/databases.json")[1])
    assert dbs[0]["is_mutable"] is True
    con = sqlite3.connect(live["db"])
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    con.close()


def test_an_older_archive_in_rollback_mode_is_brought_up_to_date_before_serving(tmp_path):
    """An archive copied with journal_mode=DELETE, written by a nianbao from before
    year_totals and the series_comparable table: `serve` switches it to WAL and fills
    what today's pages read, before Datasette opens it."""
    from nianbao.devkit import synth
    from nianbao.pipeline.store import Archive

    db = tmp_path / "archive.db"
    a = Archive(db)
    synth.load(a, synth.reports(3, 30))
    want = a.conn.execute("SELECT * FROM totals_by_year ORDER BY report_year").fetchall()
    series = a.conn.execute("SELECT COUNT(*) FROM series_comparable").fetchone()[0]
    a.close()
    con = sqlite3.connect(db)
    con.executescript("DROP TABLE year_totals; DROP TABLE pending_years; DROP TABLE series_comparable;"
                      "CREATE VIEW series_comparable AS SELECT 1 AS agency_id;")
    con.execute("PRAGMA journal_mode=DELETE")
    con.close()
    args = server.command(db, server.free_port())
    assert "--immutable" not in args and str(db.resolve()) in args
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("SELECT * FROM totals_by_year ORDER BY report_year").fetchall() == want
    assert series and con.execute("SELECT COUNT(*) FROM series_comparable").fetchone()[0] == series
    con.close()