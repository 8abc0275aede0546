"""End-to-end crawls of the mock portals over real HTTP on 127.0.0.x, each crawl a
`nianbao` subprocess (a fresh reactor every time), into a temporary archive."""
from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dbq import q, rows
from nianbao.devkit.portals import start_portals, stop_portals

pytestmark = pytest.mark.timeout(240)


def nb(*args: str, timeout: float = 180, code: int = 0) -> subprocess.CompletedProcess:
    p = subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == code, p.stdout[-2000:] + p.stderr[-4000:]
    return p


def sites_dir(tmp: Path, portals) -> Path:
    d = tmp / "sites"
    d.mkdir(exist_ok=True)
    for p in portals:
        (d / f"{p.name}.yaml").write_text(yaml.safe_dump(p.site_config(), allow_unicode=True), encoding="utf-8")
    return d




def last_run(db: Path) -> dict:
    return rows(db, "SELECT * FROM runs ORDER BY id DESC LIMIT 1")[0]


def downloads(portal, since: int = 0) -> list[str]:
    """Paths the portal answered with 200 and a body, list pages and robots.txt aside."""
    return [path for m, path, st in portal.requests[since:] if st == 200 and "/robots.txt" not in path]


# ---------------------------------------------------------------- one crawl of every family

@pytest.fixture(scope="module")
def portals():
    ps = start_portals(n_reports=4, n_other=3, seed=100, first_host=41)
    yield ps
    stop_portals(ps)


@pytest.fixture(scope="module")
def crawled(portals, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("crawl")
    db = tmp / "archive.db"
    out = nb("run", "--fast", "--archive", str(db), "--sites-dir", str(sites_dir(tmp, portals)), "--workers", "2")
    return {"db": db, "tmp": tmp, "out": out.stdout}


def test_every_family_finds_exactly_its_reports(portals, crawled):
    db = crawled["db"]
    for p in portals:
        exp = {e["url"]: e for e in p.expected_reports()}
        got = {r[0]: r for r in q(db, "SELECT url, title, published, publisher, index_no, report_year FROM fetches "
                                      "WHERE site = ? AND role = 'detail' AND sha256 IS NOT NULL", p.name)}
        assert set(got) == set(exp), p.name  # the reports, and none of the notices or news beside them
        for url, e in exp.items():
            assert got[url][1:] == (e["title"], e["published"], e["publisher"], e["index_no"], e["report_year"]), url
    run = last_run(db)
    assert run["status"] == "finished" and run["failed"] == 0 and run["blocked"] == 0


def test_documents_keep_fetch_facts_and_parent_links(portals, crawled):
    db = crawled["db"]
    for p in portals:
        for e in p.expected_reports():
            det = q(db, "SELECT sha256, http_status, content_type, etag, last_modified, fetched_at, site FROM documents "
                        "WHERE url = ? AND role = 'detail'", e["url"])
            assert len(det) == 1
            sha, status, ctype, etag, lm, fetched, site = det[0]
            assert status == 200 and ctype.startswith("text/html") and etag and lm and fetched and site == p.name
            if e["attachment_url"]:
                att = q(db, "SELECT type, parent_sha256, final_url, original_name FROM documents WHERE role = 'attachment' "
                            "AND parent_sha256 = ?", sha)
                assert len(att) == 1, e["url"]
                kind, parent, final, name = att[0]
                assert kind == e["form"] and final == e["attachment_url"] and name.endswith("." + e["form"])
    # list pages are kept too
    assert q(db, "SELECT COUNT(*) FROM documents WHERE role = 'list'")[0][0] >= 2 * len(portals)


def test_hanweb_attachments_follow_the_302(portals, crawled):
    hw = next(p for p in portals if p.family == "hanweb")
    rows = q(crawled["db"], "SELECT url, final_url FROM documents WHERE site = ? AND role = 'attachment'", hw.name)
    assert rows and all("/module/download/downfile.jsp?" in u and "/attach/0/" in f for u, f in rows)


def test_trs_new_dead_href_falls_back_to_oldsrc(portals, crawled):
    tn = next(p for p in portals if p.family == "trs_new")
    oldsrc = [e for e in tn.expected_reports() if e["attachment_url"] and "/protect/" in e["attachment_url"]]
    assert oldsrc
    got = q(crawled["db"], "SELECT url FROM documents WHERE role = 'attachment' AND site = ?", tn.name)
    assert oldsrc[0]["attachment_url"] in {u for (u,) in got}


def test_gbk_site_has_no_http_charset_and_is_read_right(portals, crawled):
    gbk = next(p for p in portals if p.family == "static")
    ctypes = q(crawled["db"], "SELECT DISTINCT content_type FROM documents WHERE site = ? AND role = 'detail'", gbk.name)
    assert ctypes == [("text/html",)]
    titles = {t for (t,) in q(crawled["db"], "SELECT title FROM fetches WHERE site = ? AND role = 'detail'", gbk.name)}
    assert titles == {e["title"] for e in gbk.expected_reports()}


def test_one_primary_report_per_publication_with_the_right_figures(portals, crawled):
    db = crawled["db"]
    for p in portals:
        for e in p.expected_reports():
            prim = q(db, "SELECT r.id, r.status, r.agency, r.report_year, d.role, r.published FROM reports r "
                         "JOIN documents d ON d.sha256 = r.id WHERE r.publication = ? AND r.is_primary = 1", e["url"])
            assert len(prim) == 1, (p.name, e["url"])
            rid, status, agency, year, role, published = prim[0]
            assert published, e["url"]
            # A row broken across a PDF page can still cost a few cells (extraction_incomplete,
            # never a wrong number): the figures below are the real check.
            assert status in (e["status"], "extraction_incomplete"), (p.name, e["url"], status)
            assert (agency, year) == (e["agency"], e["report_year"])
            assert role == ("attachment" if e["attachment_url"] else ("body" if p.family == "gkmlpt" else "detail"))
            cells = {(t, r, c): v for t, r, c, v in q(db, "SELECT table_no, row, col, value FROM cells WHERE report = ?", rid)}
            want = {(c["table"], c["row"], c["col"]): c["value"] for c in e["cells"]}
            assert {k: cells.get(k) for k in want} == want, (p.name, e["url"])
            sources = q(db, "SELECT COUNT(*) FROM reports WHERE publication = ?", e["url"])[0][0]
            assert sources >= (2 if e["attachment_url"] else 1)  # both sources kept


def test_second_crawl_downloads_nothing(portals, crawled):
    db = crawled["db"]
    marks = {p.name: len(p.requests) for p in portals}
    nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(crawled["tmp"] / "sites"))
    run = last_run(db)
    assert (run["new"], run["changed"], run["failed"]) == (0, 0, 0) and run["unchanged"] > 0
    for p in portals:
        again = downloads(p, marks[p.name])
        details = {e["url"][len(p.base_url):] for e in p.expected_reports()}
        atts = {e["attachment_url"][len(p.base_url):] for e in p.expected_reports() if e["attachment_url"]}
        assert not (set(again) & (details | atts)), (p.name, again)  # 304 for every known document


def test_changed_report_is_a_new_version_beside_the_old(portals, crawled):
    db = crawled["db"]
    p = next(p for p in portals if p.family == "trs_old")
    item = next(it for it in p.reports() if it.form == "html")
    url = p.base_url + p.detail_path(item)
    p.change(item)
    nb("run", "--fast", "--archive", str(db), "--sites-dir", str(crawled["tmp"] / "sites"), "--workers", "2")
    run = q(db, "SELECT new, changed FROM runs ORDER BY id DESC LIMIT 1")[0]
    assert run == (0, 1)
    versions = q(db, "SELECT sha256, fetched_at FROM document_versions WHERE url = ?", url)
    assert len(versions) == 2
    assert q(db, "SELECT versions FROM fetches WHERE url = ?", url) == [(2,)]
    newest = versions[-1][0]
    prim = q(db, "SELECT id FROM reports WHERE publication = ? AND is_primary = 1", url)
    assert prim == [(newest,)]  # the old version is kept, not primary


# ---------------------------------------------------------------- politeness and walls

def test_robots_disallow_all_is_obeyed(tmp_path):
    ps = start_portals(["trs_old"], n_reports=2, n_other=1, seed=200, first_host=61, robots="all",
                       forms=("html",))
    try:
        db = tmp_path / "a.db"
        nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(sites_dir(tmp_path, ps)), code=3)  # incomplete
        assert [path for _, path, _ in ps[0].requests] == ["/robots.txt"]
        assert q(db, "SELECT status FROM sites") == [("robots",)]
        assert q(db, "SELECT COUNT(*) FROM documents")[0][0] == 0
    finally:
        stop_portals(ps)


def test_robots_disallowing_admin_only_does_not_stop_the_crawl(tmp_path):
    ps = start_portals(["trs_new"], n_reports=2, n_other=1, seed=201, first_host=62, robots="admin", forms=("html",))
    try:
        db = tmp_path / "a.db"
        out = nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(sites_dir(tmp_path, ps)))
        got = {u for (u,) in q(db, "SELECT url FROM documents WHERE role = 'detail'")}
        assert got == {e["url"] for e in ps[0].expected_reports()}, out.stdout
        assert ps[0].requests[0][1] == "/robots.txt"  # asked before anything else
        (ua,) = ps[0].user_agents
        assert ua.startswith("nianbao/") and "http" in ua  # names itself and where to read about it
    finally:
        stop_portals(ps)


def test_anti_bot_walls_are_reported_not_retried(tmp_path):
    ps = []
    try:
        for i, wall in enumerate(("rs", "jsl", "wzws")):
            ps += start_portals(["hanweb"], n_reports=1, n_other=1, seed=210 + i, first_host=63 + i, wall=wall,
                                forms=("html",))
            ps[-1].name = f"walled-{wall}"
        db = tmp_path / "a.db"
        nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(sites_dir(tmp_path, ps)), code=3)  # incomplete
        sites = dict((n, (s, r)) for n, s, r in q(db, "SELECT name, status, reason FROM sites"))
        assert sites["walled-rs"][0] == "blocked" and "瑞数" in sites["walled-rs"][1]
        assert sites["walled-jsl"][0] == "blocked" and "加速乐" in sites["walled-jsl"][1]
        assert sites["walled-wzws"][0] == "blocked" and "WZWS" in sites["walled-wzws"][1]
        assert last_run(db)["blocked"] == 3
        for p in ps:
            assert len(p.requests) <= 2, p.requests  # robots.txt and the column: no loop, no retries
    finally:
        stop_portals(ps)


def test_default_settings_are_polite_per_host_but_crawl_hosts_in_parallel(tmp_path):
    ps = start_portals(["trs_old", "static"], n_reports=4, n_other=2, seed=280, first_host=95, delay=0.2,
                       forms=("html",))
    try:
        db = tmp_path / "a.db"
        nb("crawl", "--archive", str(db), "--sites-dir", str(sites_dir(tmp_path, ps)))  # no --fast: the defaults
        for p in ps:
            assert 1 <= p.max_inflight <= 2, p.max_inflight
        a, b = ps
        # the two hosts were crawled at the same time, not one after the other
        assert a.times[0] < b.times[-1] and b.times[0] < a.times[-1]
        assert last_run(db)["new"] == 8
    finally:
        stop_portals(ps)


def test_503_is_retried_with_backoff(tmp_path):
    ps = start_portals(["trs_old"], n_reports=2, n_other=0, seed=240, first_host=64 + 10, forms=("html",))
    try:
        p = ps[0]
        p.flaky = 2
        db = tmp_path / "a.db"
        t = time.time()
        nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(sites_dir(tmp_path, ps)),
           "-s", "RETRY_BACKOFF_BASE=0.2")
        took = time.time() - t
        run = last_run(db)
        assert (run["new"], run["failed"]) == (2, 0)
        for e in p.expected_reports():
            path = e["url"][len(p.base_url):]
            assert [st for _, pa, st in p.requests if pa == path] == [503, 503, 200]
        assert took > 1.0  # Retry-After: 1 was honoured, not an instant burst
    finally:
        stop_portals(ps)


def test_error_page_served_as_pdf_is_not_stored_as_a_report(tmp_path):
    ps = start_portals(["trs_old"], n_reports=2, n_other=0, seed=250, first_host=85, forms=("docx", "html"))
    try:
        p = ps[0]
        p.soft404 = True
        db = tmp_path / "a.db"
        nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(sites_dir(tmp_path, ps)), code=3)  # partial
        (e,) = [e for e in p.expected_reports() if e["attachment_url"]]
        assert q(db, "SELECT COUNT(*) FROM documents WHERE role = 'attachment'") == [(0,)]
        (err,) = q(db, "SELECT error FROM fetches WHERE url = ?", e["attachment_url"])
        assert "not a document" in err[0] and "html" in err[0]
        assert last_run(db)["failed"] == 1
    finally:
        stop_portals(ps)


def test_family_variants(tmp_path):
    """trs_new numbering from _2, gkmlpt with one API page, hanweb honouring only page=,
    trs_old paged by createPageHTML()."""
    ps = start_portals(["trs_new", "gkmlpt", "hanweb", "trs_old"], n_reports=5, n_other=4, seed=260, first_host=90,
                       forms=("html",))
    try:
        ps[0].quirks.add("from_2")
        ps[1].quirks.add("one_page")
        ps[2].quirks.add("page_only")
        ps[3].quirks.add("create_page")
        db = tmp_path / "a.db"
        nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(sites_dir(tmp_path, ps)))
        for p in ps:
            got = {u for (u,) in q(db, "SELECT url FROM documents WHERE role = 'detail' AND site = ?", p.name)}
            assert got == {e["url"] for e in p.expected_reports()}, p.name
        assert last_run(db)["failed"] == 0  # probing a page that does not exist is not a failure
    finally:
        stop_portals(ps)


def test_size_cap_refuses_big_attachments(tmp_path):
    ps = start_portals(["static"], n_reports=1, n_other=0, seed=270, first_host=89, forms=("docx",))
    try:
        db = tmp_path / "a.db"
        nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(sites_dir(tmp_path, ps)),
           "-s", "DOWNLOAD_MAXSIZE=4000", code=3)  # partial: the attachment is missing
        (e,) = ps[0].expected_reports()
        assert q(db, "SELECT COUNT(*) FROM documents WHERE role = 'attachment'") == [(0,)]
        (err,) = q(db, "SELECT error FROM fetches WHERE url = ?", e["attachment_url"])[0]
        assert "4000" in err or "size" in err.lower()
    finally:
        stop_portals(ps)


# ---------------------------------------------------------------- discovery

def test_discovery_from_home_page(tmp_path):
    ps = start_portals(["gkmlpt", "trs_old"], n_reports=2, n_other=2, seed=220, first_host=70, forms=("html",))
    try:
        for p in ps:
            db = tmp_path / f"{p.family}.db"
            nb("crawl", "--fast", "--archive", str(db), "--url", p.home_url)
            got = {u for (u,) in q(db, "SELECT url FROM documents WHERE role = 'detail'")}
            assert got == {e["url"] for e in p.expected_reports()}, p.name
            assert q(db, "SELECT family, start_url FROM sites") == [(p.family, p.column_url)]
        hw = start_portals(["hanweb"], n_reports=5, n_other=2, seed=221, first_host=72, forms=("html",))
        ps += hw
        db = tmp_path / "hanweb-column.db"  # the column URL itself: records hidden in CDATA, pages by POST
        nb("crawl", "--fast", "--archive", str(db), "--url", hw[0].column_url)
        got = {u for (u,) in q(db, "SELECT url FROM documents WHERE role = 'detail'")}
        assert got == {e["url"] for e in hw[0].expected_reports()}
        assert q(db, "SELECT family FROM sites") == [("hanweb",)]
        d = tmp_path / "new-sites"
        out = nb("sites", "add", ps[1].home_url, "--name", "found-by-probe", "--dir", str(d))
        cfg = yaml.safe_load((d / "found-by-probe.yaml").read_text(encoding="utf-8"))
        assert (cfg["start_url"], cfg["family"]) == (ps[1].column_url, "trs_old"), out.stdout
        listed = nb("sites", "list", "--sites-dir", str(d)).stdout
        assert "found-by-probe" in listed
    finally:
        stop_portals(ps)


def test_unreachable_column_is_a_failed_site_and_a_failed_command(tmp_path):
    """A column that cannot be fetched is never `empty`: the site is `failed` with the
    reason, and `nianbao crawl` exits 1 (the summary says which site)."""
    ps = start_portals(["trs_old"], n_reports=2, n_other=1, seed=230, first_host=74, forms=("html",))
    try:
        import socket

        with socket.socket() as s:  # a port nobody listens on
            s.bind(("127.0.0.1", 0))
            dead = s.getsockname()[1]
        d = tmp_path / "sites"
        d.mkdir()
        (d / "gone.yaml").write_text(f"name: gone\nstart_url: http://127.0.0.1:{dead}/zfxxgknb/\nfamily: trs_old\n")
        (d / "moved.yaml").write_text(f"name: moved\nstart_url: {ps[0].base_url}/no-such-column/\nfamily: trs_old\n")
        (d / "fine.yaml").write_text(yaml.safe_dump(ps[0].site_config(), allow_unicode=True), encoding="utf-8")
        db = tmp_path / "a.db"
        p = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--fast", "--db", str(db), "--sites", str(d),
                            "-s", "RETRY_TIMES=1"], capture_output=True, text=True, timeout=180)
        assert p.returncode == 1, p.stdout + p.stderr
        rows = dict((n, (st, why)) for n, st, why in q(db, "SELECT name, status, reason FROM sites"))
        assert rows[ps[0].name][0] == "ok"
        assert rows["gone"][0] == "failed" and "refused" in rows["gone"][1].lower()
        assert rows["moved"][0] == "failed" and "404" in rows["moved"][1]
        assert "gone: failed" in p.stdout and "moved: failed" in p.stdout and "2 site(s) failed" in p.stderr
        # a home page that answers 404 (discovery) fails the same way
        p = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--fast", "--db", str(tmp_path / "b.db"),
                            "--url", f"{ps[0].base_url}/no-such-home/"], capture_output=True, text=True, timeout=180)
        assert p.returncode == 1 and q(tmp_path / "b.db", "SELECT status FROM sites") == [("failed",)]
    finally:
        stop_portals(ps)


# ---------------------------------------------------------------- kill and resume

def _start_crawl(db, sites, jobdir):
    return subprocess.Popen([sys.executable, "-m", "nianbao", "crawl", "--fast", "--archive", str(db),
                             "--sites-dir", str(sites), "--jobdir", str(jobdir), "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1",
                             "-s", "CONCURRENT_REQUESTS=1"],  # else the downloader holds every request and finishes them
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_details(db: Path, n: int, proc, limit: float = 60) -> None:
    t = time.time()
    while time.time() - t < limit:
        assert proc.poll() is None, "the crawl finished before it could be interrupted"
        if db.exists():
            try:
                if q(db, "SELECT COUNT(*) FROM documents WHERE role = 'detail'")[0][0] >= n:
                    return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.05)
    raise AssertionError("no progress")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["graceful", "killed"])
def test_interrupted_crawl_resumes_without_duplicates(tmp_path, sig):
    ps = start_portals(["trs_old"], n_reports=6, n_other=2, seed=230, first_host=75 + (sig == signal.SIGKILL),
                       delay=0.15, forms=("html",))
    try:
        p = ps[0]
        db, jobdir, sites = tmp_path / "a.db", tmp_path / "job", sites_dir(tmp_path, ps)
        proc = _start_crawl(db, sites, jobdir)
        _wait_for_details(db, 2, proc)
        proc.send_signal(sig)
        proc.wait(timeout=60)
        before = {u[len(p.base_url):] for (u,) in q(db, "SELECT url FROM documents WHERE role = 'detail'")}
        assert 2 <= len(before) < 6
        time.sleep(0.5)  # let the server finish answering the request the dead crawl left in flight
        mark = len(p.requests)
        nb("crawl", "--fast", "--archive", str(db), "--sites-dir", str(sites), "--jobdir", str(jobdir))
        rows = q(db, "SELECT url, COUNT(*) FROM documents WHERE role = 'detail' GROUP BY url")
        assert {u for u, _ in rows} == {e["url"] for e in p.expected_reports()}
        assert all(n == 1 for _, n in rows)
        again = [path for path in downloads(p, mark) if "/t20" in path]
        assert len(again) == len(set(again)) and not set(again) & before  # nothing stored is downloaded again
        assert before | set(again) == {e["url"][len(p.base_url):] for e in p.expected_reports()}
        statuses = [s for (s,) in q(db, "SELECT status FROM runs ORDER BY id")]
        assert statuses[-1] == "finished"
        # The resumed crawl still knows the records of the list pages read before the stop.
        assert q(db, "SELECT status, expected, reached FROM sites") == [("ok", 8, 8)]
        assert statuses[0] == ("shutdown" if sig == signal.SIGINT else "interrupted")
    finally:
        stop_portals(ps)
