"""Crawl fault injection: one mock portal per fault kind, each with its fault table set,
all crawled (and parsed) by one real `nianbao run` over HTTP; then one test per kind
says what must have happened — retried, recorded in `fetches`/`failures`, the site's
status and reason, nothing lost that was served, nothing invented that was not.

A site is `ok` only when every page it lists was read; a lost list page, report page
or attachment makes it `partial` (the reason names it), a column or robots.txt that
cannot be read makes it `failed`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import pytest
from portal_faults import crawl, fetch, hits, q, rows, site, stored_urls, write_sites

from nianbao.devkit.portals import faults as F
from nianbao.devkit.portals import start_portals, stop_portals

pytestmark = pytest.mark.timeout(300)

RETRIES = 2  # portal_faults.FAST_FAULTS
FIRST_HOST = 160  # 127.0.0.160 … one host per kind


@dataclass
class Kind:
    family: str = "trs_old"
    n_reports: int = 6
    n_other: int = 1
    forms: tuple = ("html",)
    setup: Callable = lambda p, ctx: None
    config: dict = field(default_factory=dict)


def _first_detail(p):
    return p.detail_path(p.reports()[0])


def _att_report(p):
    return next(it for it in p.reports() if it.form != "html")


KINDS: dict[str, Kind] = {
    "robots_503": Kind(setup=lambda p, ctx: p.faults.update({("robots", None): F.status(503)})),
    "robots_reset": Kind(setup=lambda p, ctx: p.faults.update({("robots", None): F.reset()})),
    "robots_403": Kind(setup=lambda p, ctx: p.faults.update({("robots", None): F.status(403)})),
    "list1_500": Kind(setup=lambda p, ctx: p.faults.update({("list1", None): F.status(500)})),
    "list1_404": Kind(setup=lambda p, ctx: p.faults.update({("list1", None): F.status(404)})),
    "listN_500": Kind(setup=lambda p, ctx: p.faults.update({("list", None): F.status(500)})),
    "listN_503": Kind(setup=lambda p, ctx: p.faults.update({("list", None): F.status(503)})),
    "listN_404": Kind(setup=lambda p, ctx: p.faults.update({("list", None): F.status(404)})),
    "detail_500": Kind(setup=lambda p, ctx: p.faults.update({(_first_detail(p), None): F.status(500)})),
    "detail_404": Kind(setup=lambda p, ctx: p.faults.update({(_first_detail(p), None): F.status(404)})),
    "detail_all_503": Kind(n_reports=3, setup=lambda p, ctx: p.faults.update({("detail", None): F.status(503)})),
    "detail_503_transient": Kind(setup=lambda p, ctx: p.faults.update(
        {("detail", 1): F.status(503), ("detail", 2): F.status(503)})),
    "attachment_500": Kind(n_reports=2, n_other=0, forms=("docx", "html"),
                           setup=lambda p, ctx: p.faults.update({("attachment", None): F.status(500)})),
    "attachment_404": Kind(n_reports=2, n_other=0, forms=("docx", "html"),
                           setup=lambda p, ctx: p.faults.update({("attachment", None): F.status(404)})),
    "attachment_soft404": Kind(n_reports=2, n_other=0, forms=("docx", "html"),
                               setup=lambda p, ctx: p.faults.update({("attachment", None): F.soft404()})),
    "reset_transient": Kind(setup=lambda p, ctx: p.faults.update({("detail", 1): F.reset()})),
    "reset": Kind(setup=lambda p, ctx: p.faults.update({(_first_detail(p), None): F.reset()})),
    "slow_drip": Kind(setup=lambda p, ctx: p.faults.update({(_first_detail(p), None): F.drip(0.4, limit=20)})),
    "truncated_body": Kind(setup=lambda p, ctx: p.faults.update({(_first_detail(p), None): F.truncate()})),
    "wrong_content_length": Kind(setup=lambda p, ctx: p.faults.update({(_first_detail(p), None): F.bad_length()})),
    "redirect_loop": Kind(setup=lambda p, ctx: p.faults.update({(_first_detail(p), None): F.redirect_loop()})),
    "offsite_redirect": Kind(setup=lambda p, ctx: p.faults.update(
        {(_first_detail(p), None): F.redirect(ctx["evil"].base_url + ctx["evil"].column_path)})),
    "soft404_detail": Kind(setup=lambda p, ctx: p.faults.update({(_first_detail(p), None): F.soft404()})),
    "charset_gbk_as_utf8": Kind(family="static", setup=lambda p, ctx: p.faults.update(
        {(role, None): F.charset_lie("gbk", "utf-8") for role in ("list1", "list", "detail")})),
    "charset_utf8_as_gbk": Kind(setup=lambda p, ctx: p.faults.update(
        {(role, None): F.charset_lie("utf-8", "gbk") for role in ("list1", "list", "detail")})),
    "gzip_bomb": Kind(setup=lambda p, ctx: p.faults.update({(_first_detail(p), None): F.gzip_bomb()})),
    "endless_pager": Kind(family="static", n_reports=3, n_other=0, config={"max_pages": 12},
                          # no "共N条": only max_pages bounds it (the count bounds it first: test_columns.py)
                          setup=lambda p, ctx: p.quirks.update({"endless_pager", "no_count"})),
    "duplicate_publication": Kind(family="static", n_reports=3, n_other=0,
                                  setup=lambda p, ctx: p.duplicate(p.reports()[0], "/xxgk/nb/copy/content_dup.htm")),
    "duplicate_other_chrome": Kind(family="static", n_reports=3, n_other=0, setup=lambda p, ctx: p.duplicate(
        p.reports()[0], "/xxgk/nb/tzgg/content_dup.htm", same_bytes=False)),
}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults")
    portals, extra = {}, {}
    # The target of the off-site redirect: a host the crawl must never ask.
    (evil,) = start_portals(["trs_old"], n_reports=1, n_other=0, seed=499, first_host=FIRST_HOST - 1, forms=("html",))
    ctx = {"evil": evil}
    try:
        for i, (name, k) in enumerate(KINDS.items()):
            (p,) = start_portals([k.family], n_reports=k.n_reports, n_other=k.n_other, seed=500 + i,
                                 first_host=FIRST_HOST + i, forms=k.forms)
            p.name = name
            portals[name] = p
            extra[name] = k.config
            k.setup(p, ctx)
        db = tmp / "archive.db"
        res = crawl(db, write_sites(tmp / "sites", portals.values(), extra), "--workers", "2", command="run")
        yield {"db": db, "portals": portals, "res": res, "evil": evil}
    finally:
        stop_portals([*portals.values(), evil])


def _expected_urls(p) -> set[str]:
    return {e["url"] for e in p.expected_reports()}


def _check_partial(db, name, url_part: str, why: str):
    s = site(db, name)
    assert s["status"] == "partial", s
    assert url_part in s["reason"] and why in s["reason"], s
    return s


# ---------------------------------------------------------------- the crawl as a whole

def test_the_crawl_says_it_failed(world, reliability):
    res = world["res"]
    assert res.code == 1, res.out + res.err[-3000:]  # some sites failed outright
    assert "site(s) failed" in res.err and "site(s) incomplete" in res.err
    statuses = dict(q(world["db"], "SELECT name, status FROM sites"))
    assert not [n for n, s in statuses.items() if s == "ok" and n not in OK_KINDS], statuses
    reliability("crawl with faulted sites", "exit 1, no faulted site `ok`", f"exit {res.code}; statuses {statuses}")


OK_KINDS = {"robots_403", "detail_503_transient", "reset_transient", "charset_gbk_as_utf8", "charset_utf8_as_gbk",
            "duplicate_publication", "duplicate_other_chrome"}


# ---------------------------------------------------------------- robots.txt

def test_robots_5xx_is_complete_disallow(world, reliability):
    db, p = world["db"], world["portals"]["robots_503"]
    s = site(db, "robots_503")
    assert s["status"] == "failed" and "robots.txt unreachable (HTTP 503)" in s["reason"] and "RFC 9309" in s["reason"], s
    assert {path for _, path, _ in p.requests} == {"/robots.txt"}  # nothing else asked
    assert hits(p, "/robots.txt") == RETRIES + 1  # retried first
    assert not stored_urls(db, "robots_503", "detail")
    reliability("robots.txt 503", "retried, then disallow all (RFC 9309 §2.3.1.4); site failed with the reason",
                f"{hits(p, '/robots.txt')} robots requests, no other; site {s['status']}: {s['reason']}")


def test_robots_unreachable_is_complete_disallow(world, reliability):
    db, p = world["db"], world["portals"]["robots_reset"]
    s = site(db, "robots_reset")
    assert s["status"] == "failed" and "robots.txt unreachable" in s["reason"], s
    assert {path for _, path, _ in p.requests} == {"/robots.txt"}
    reliability("robots.txt connection reset", "disallow all; site failed with the reason",
                f"only robots.txt asked ({hits(p, '/robots.txt')}×); site {s['status']}: {s['reason']}")


def test_robots_4xx_is_allow_all(world, reliability):
    db, p = world["db"], world["portals"]["robots_403"]
    s = site(db, "robots_403")
    assert s["status"] == "ok", s
    assert stored_urls(db, "robots_403", "detail") == _expected_urls(p)
    reliability("robots.txt 403", "no rules (allow all, RFC 9309 §2.3.1.3); every report fetched",
                f"site {s['status']}, {len(_expected_urls(p))}/{len(_expected_urls(p))} reports")


# ---------------------------------------------------------------- list pages

@pytest.mark.parametrize("kind,status,tries", [("list1_500", 500, RETRIES + 1), ("list1_404", 404, 1)])
def test_column_failing_fails_the_site(world, reliability, kind, status, tries):
    db, p = world["db"], world["portals"][kind]
    s = site(db, kind)
    assert s["status"] == "failed" and f"HTTP {status}" in s["reason"], s
    assert hits(p, p.column_path) == tries
    assert fetch(db, p.column_url)["error"] == f"HTTP {status}"
    reliability(f"list page 1 (column) {status}", f"{'retried, ' if tries > 1 else ''}site failed, exit 1",
                f"{tries} request(s); site {s['status']}: {s['reason']}")


@pytest.mark.parametrize("kind,status,tries", [("listN_500", 500, RETRIES + 1), ("listN_503", 503, RETRIES + 1),
                                               ("listN_404", 404, 1)])
def test_list_page_n_failing_is_a_recorded_gap(world, reliability, kind, status, tries):
    """Issue 12 item 3: a list page answering 500 other than the first was dropped
    silently (run failed 0, site ok, reports missing)."""
    db, p = world["db"], world["portals"][kind]
    page2 = p.base_url + "/zfxxgknb/index_1.html"
    f = fetch(db, page2)
    assert f is not None and f["error"] == f"HTTP {status}", f
    assert hits(p, "/zfxxgknb/index_1.html") == tries
    s = _check_partial(db, kind, page2, f"HTTP {status}")
    got = stored_urls(db, kind, "detail")
    assert got < _expected_urls(p) and got  # page 1's reports kept, page 2's missing — and said so
    reliability(f"list page N {status}", "retried where retryable; fetch error recorded; site partial with the "
                "page named; exit non-zero", f"{tries} request(s); fetches.error {f['error']!r}; site partial: "
                f"{s['reason'][:90]}")


# ---------------------------------------------------------------- detail pages

@pytest.mark.parametrize("kind,status,tries", [("detail_500", 500, RETRIES + 1), ("detail_404", 404, 1)])
def test_one_detail_failing_is_a_recorded_gap(world, reliability, kind, status, tries):
    db, p = world["db"], world["portals"][kind]
    url = p.base_url + _first_detail(p)
    assert fetch(db, url)["error"] == f"HTTP {status}"
    assert hits(p, _first_detail(p)) == tries
    _check_partial(db, kind, url, f"HTTP {status}")
    assert stored_urls(db, kind, "detail") == _expected_urls(p) - {url}
    reliability(f"detail page {status}", "recorded failure, other reports kept, site partial",
                f"{tries} request(s); error HTTP {status}; {len(_expected_urls(p)) - 1} others stored; site partial")


def test_all_detail_pages_failing_is_a_failed_site(world, reliability):
    """Issue 12 item 3: detail pages that all fail made the site `empty`."""
    db, p = world["db"], world["portals"]["detail_all_503"]
    s = site(db, "detail_all_503")
    assert s["status"] == "failed" and "report pages failed" in s["reason"], s
    errs = [f["error"] for f in rows(db, "SELECT error FROM fetches WHERE site = ? AND role = 'detail'", "detail_all_503")]
    assert errs == ["HTTP 503"] * len(_expected_urls(p))
    reliability("every detail page 503", "site failed (not empty), every page's failure recorded",
                f"site {s['status']}: {s['reason'][:80]}; {len(errs)} fetch errors")


@pytest.mark.parametrize("kind", ["detail_503_transient", "reset_transient"])
def test_transient_faults_are_retried_and_recovered(world, reliability, kind):
    db, p = world["db"], world["portals"][kind]
    s = site(db, kind)
    assert s["status"] == "ok", s
    assert stored_urls(db, kind, "detail") == _expected_urls(p)
    assert not q(db, "SELECT url FROM fetches WHERE site = ? AND error IS NOT NULL", kind)
    path = _first_detail(p)
    assert hits(p, path) >= 2  # the first answer was the fault, then a retry
    reliability(kind.replace("_", " "), "retried; every report stored; nothing recorded as failed; site ok",
                f"{hits(p, path)} requests for a faulted page; site ok; 0 fetch errors")


@pytest.mark.parametrize("kind,why", [
    ("reset", "connection lost"), ("slow_drip", "took longer than"), ("truncated_body", "body cut short"),
    ("wrong_content_length", "body cut short"), ("redirect_loop", "redirect loop"),
    ("offsite_redirect", "redirected off the site"), ("soft404_detail", "soft 404"), ("gzip_bomb", "DOWNLOAD_MAXSIZE"),
])
def test_broken_answers_are_recorded_not_stored(world, reliability, kind, why):
    db, p = world["db"], world["portals"][kind]
    url = p.base_url + _first_detail(p)
    f = fetch(db, url)
    assert f is not None and f["error"] and why.lower() in f["error"].lower(), f
    assert f["sha256"] is None  # nothing stored under that URL: no half page, no error page, no foreign page
    assert not q(db, "SELECT 1 FROM documents WHERE url = ? OR final_url LIKE ?", url, url + "%")
    s = _check_partial(db, kind, url, "")
    assert stored_urls(db, kind, "detail") == _expected_urls(p) - {url}  # the crawl went on
    extra = ""
    if kind in ("reset", "slow_drip", "truncated_body", "wrong_content_length"):
        # Scrapy's retries (Twisted also retries a reset on a reused connection once)
        assert RETRIES + 1 <= hits(p, _first_detail(p)) <= 2 * (RETRIES + 1)
        extra = f"; {hits(p, _first_detail(p))} tries"
    if kind == "offsite_redirect":
        assert world["evil"].requests == []  # the other host was never asked
        extra = "; the other host got 0 requests"
    if kind == "gzip_bomb":
        assert world["res"].max_rss_mb < 1500, world["res"].max_rss_mb  # stopped at the cap, not at 2 GiB
        extra = f"; peak RSS of the crawl {world['res'].max_rss_mb:.0f} MB for a 2 GiB bomb"
    reliability(kind.replace("_", " "), "fetch recorded as failed with the cause, nothing stored for the URL, "
                "site partial, the crawl goes on", f"error {f['error'][:70]!r}; site {s['status']}{extra}")


# ---------------------------------------------------------------- attachments

@pytest.mark.parametrize("kind,why", [("attachment_500", "HTTP 500"), ("attachment_404", "HTTP 404"),
                                      ("attachment_soft404", "not a document")])
def test_failed_attachment_is_a_failure_of_its_publication(world, reliability, kind, why):
    db, p = world["db"], world["portals"][kind]
    it = _att_report(p)
    att, detail = p.base_url + p.attachment_path(it), p.base_url + p.detail_path(it)
    f = fetch(db, att)
    assert f["error"] and why in f["error"] and f["parent_url"] == detail, f
    assert not stored_urls(db, kind, "attachment")
    (fail,) = rows(db, "SELECT * FROM failures WHERE original_name = ?", att)
    (dsha,) = q(db, "SELECT sha256 FROM documents WHERE url = ?", detail)[0]
    assert fail["sha256"] == dsha and detail in fail["reason"]  # charged to the publication's page
    _check_partial(db, kind, att, why)
    if kind == "attachment_500":
        assert hits(p, p.attachment_path(it)) == RETRIES + 1
    reliability(f"attachment {why}", "failure recorded against its publication (fetches.parent_url, failures), "
                "site partial", f"fetches.error {f['error'][:60]!r}; failures row on the detail page; site partial")


@pytest.mark.parametrize("kind", ["attachment_500", "attachment_404"])
def test_no_empty_ok_report_for_a_publication_whose_attachment_failed(world, reliability, kind):
    """The parser side: a 'see attachment' page with 0 cells is never ok."""
    db, p = world["db"], world["portals"][kind]
    detail = p.base_url + p.detail_path(_att_report(p))
    got = rows(db, "SELECT status, cells_found, is_primary FROM reports WHERE publication = ?", detail)
    assert got, "the detail page was stored and parsed"
    assert not [r for r in got if r["is_primary"] and r["status"] == "ok" and not r["cells_found"]], got
    reliability(f"{kind.replace('_', ' ')}: the publication", "no `ok` primary report with 0 cells counted",
                f"reports of the publication: {got}")


# ---------------------------------------------------------------- what pages say about themselves

@pytest.mark.parametrize("kind", ["charset_gbk_as_utf8", "charset_utf8_as_gbk"])
def test_charset_lies_are_read_right(world, reliability, kind):
    db, p = world["db"], world["portals"][kind]
    s = site(db, kind)
    assert s["status"] == "ok", s
    assert stored_urls(db, kind, "detail") == _expected_urls(p)  # list titles read right: every report followed
    titles = dict(q(db, "SELECT url, title FROM fetches WHERE site = ? AND role = 'detail'", kind))
    assert {titles[e["url"]] for e in p.expected_reports()} == {e["title"] for e in p.expected_reports()}
    parsed = {t for (t,) in q(db, "SELECT title FROM reports WHERE site = ? AND is_primary = 1", kind)}
    assert parsed == {e["title"] for e in p.expected_reports()}  # and the parser read the stored bytes right too
    real, claimed = kind.split("_")[1], kind.split("_")[3]
    reliability(f"charset lie ({real} bytes, says {claimed})", "every report found, titles read right",
                f"{len(titles)}/{len(_expected_urls(p))} reports, titles equal")


def test_endless_pager_stops_at_the_cap(world, reliability):
    db, p = world["db"], world["portals"]["endless_pager"]
    lists = [path for _, path, _ in p.requests if path.startswith("/xxgk/nb/index")]
    assert len(lists) <= 12 + 1, len(lists)  # max_pages list pages beyond the column, no more
    s = _check_partial(db, "endless_pager", "", "pager did not end after 12 list pages")
    assert stored_urls(db, "endless_pager", "detail") == _expected_urls(p)
    reliability("endless pager", "stops at max_pages, says so (site partial), keeps what it found",
                f"{len(lists)} list pages fetched; site partial: {s['reason'][:80]}")


def test_duplicate_publication_is_counted_once(world, reliability):
    db, p = world["db"], world["portals"]["duplicate_publication"]
    it = p.reports()[0]
    a, b = p.base_url + p.detail_path(it), p.base_url + "/xxgk/nb/copy/content_dup.htm"
    fa, fb = fetch(db, a), fetch(db, b)
    assert fa["sha256"] and fa["sha256"] == fb["sha256"]  # both addresses kept, one document
    assert q(db, "SELECT COUNT(*) FROM documents WHERE sha256 = ?", fa["sha256"]) == [(1,)]
    primaries = q(db, "SELECT COUNT(*) FROM reports WHERE site = ? AND is_primary = 1", "duplicate_publication")[0][0]
    assert primaries == len(p.reports())  # not one more
    assert site(db, "duplicate_publication")["status"] == "ok"
    reliability("duplicate publication (same report at two URLs)", "both URLs recorded, one document, counted once",
                f"2 fetches → 1 sha256; {primaries} primary reports for {len(p.reports())} reports")


def test_duplicate_publication_in_other_chrome_is_counted_once(world, reliability):
    """The same report in a second column: other page bytes, the same agency, year and
    figures. Both pages are kept; the figures count once."""
    db, p = world["db"], world["portals"]["duplicate_other_chrome"]
    it = p.reports()[0]
    a, b = p.base_url + p.detail_path(it), p.base_url + "/xxgk/nb/tzgg/content_dup.htm"
    fa, fb = fetch(db, a), fetch(db, b)
    assert fa["sha256"] and fb["sha256"] and fa["sha256"] != fb["sha256"]  # two documents, both kept
    both = rows(db, "SELECT id, publication, is_primary, status FROM reports WHERE id IN (?, ?)", fa["sha256"], fb["sha256"])
    assert len(both) == 2 and sum(r["is_primary"] for r in both) == 1, both
    primaries = q(db, "SELECT COUNT(*) FROM reports WHERE site = ? AND is_primary = 1", "duplicate_other_chrome")[0][0]
    assert primaries == len(p.reports())
    reliability("duplicate publication in another column's chrome", "both pages kept and parsed, the report "
                "counted once", f"2 documents, 2 reports, 1 primary; {primaries} primary for {len(p.reports())} reports")
