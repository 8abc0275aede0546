"""End-to-end crawls of the list-API families (chinatax, JPaaS, TrueCMS, Epoint) over real
HTTP: one `nianbao crawl` subprocess against the four mock portals, each paging its
column through its own API (POST form, GET with paramJson, JSONP with a Referer, POST JSON
behind a script's siteInfo). Small columns with small pages: several API pages each,
seconds in all."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dbq import q
from nianbao.crawler import families
from nianbao.crawler.families import base
from nianbao.devkit.portals import API_FAMILIES, start_portals, stop_portals
from nianbao.pipeline.store.raw import RawStore

pytestmark = pytest.mark.timeout(180)




@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api-families")
    ps = start_portals(API_FAMILIES, n_reports=3, n_other=2, seed=610, first_host=150, forms=("docx", "html"))
    try:
        for p in ps:  # small server-side pages, so every column takes several API calls
            p.per_page = 2
        ps[API_FAMILIES.index("truecms")].group_size = 1  # TrueCMS: windows of perPage × groupSize records
        sites = tmp / "sites"
        sites.mkdir()
        for p in ps:
            cfg = p.site_config()
            if p.family in ("truecms", "epoint"):  # left to detection: TrueCMS pages also look like a Hanweb jpage
                cfg["family"] = "auto"
            (sites / f"{p.name}.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        db = tmp / "archive.db"
        proc = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--fast", "--db", str(db),
                               "--sites", str(sites)], capture_output=True, text=True, timeout=150)
        yield {"ps": {p.family: p for p in ps}, "db": db, "proc": proc}
    finally:
        stop_portals(ps)


def list_entries(db: Path, site: str, family: str) -> tuple[set[str], set[int]]:
    """Every entry the stored list pages name, and the totals they state: what the crawl
    reached of the column, read back from the archive's own bytes."""
    raw = RawStore(db.parent / "raw")
    fam = families.get(family)
    urls, totals = set(), set()
    rows = q(db, "SELECT url, sha256, content_type FROM documents WHERE site = ? AND role = 'list'", site)
    for url, sha, ctype in rows:
        lp = fam.parse_list(url, base.decode(raw.get(sha), ctype))
        urls |= {link.url for link in lp.links}
        if lp.total is not None:
            totals.add(lp.total)
    return urls, totals


@pytest.mark.parametrize("family", API_FAMILIES)
def test_api_family_crawl_archives_every_report_and_reaches_the_column_count(crawl, family):
    p, db, proc = crawl["ps"][family], crawl["db"], crawl["proc"]
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    exp = {e["url"]: e for e in p.expected_reports()}
    got = {r[0]: r[1:] for r in q(db, "SELECT url, title, published, publisher, index_no, report_year FROM fetches "
                                      "WHERE site = ? AND role = 'detail' AND sha256 IS NOT NULL", p.name)}
    assert set(got) == set(exp), family  # every report, none of the notices beside them
    for url, e in exp.items():
        assert got[url] == (e["title"], e["published"], e["publisher"], e["index_no"], e["report_year"]), url
        if e["attachment_url"]:
            att = q(db, "SELECT d.final_url, d.type FROM documents d JOIN documents p ON d.parent_sha256 = p.sha256 "
                        "WHERE d.role = 'attachment' AND p.url = ?", url)
            assert att == [(e["attachment_url"], e["form"])], url
    status, reason, fam = q(db, "SELECT status, reason, family FROM sites WHERE name = ?", p.name)[0]
    assert status == "ok", reason
    assert fam == family  # detected where the YAML said auto
    # reached == total: the stored list pages name every record of the column, and the
    # column's own count (the API's total) says exactly that many.
    reached, totals = list_entries(db, p.name, family)
    column = {p.base_url + p.detail_path(it) for it in p.column.items}
    assert reached == column and totals == {len(column)}
    cols = {r[1] for r in q(db, "PRAGMA table_info(sites)")}
    if {"expected", "reached"} <= cols:  # the per-column accounting (issue 11, columns part)
        assert q(db, "SELECT expected, reached FROM sites WHERE name = ?", p.name)[0] == (len(column), len(column))
    # several API pages each, every one answered 200
    api = [(m, path, st) for m, path, st in p.requests if any(k in path for k in (
        "getFileListByCodeId", "jpaas-publish-server", "getMessage.do", "getgovinfolist"))]
    assert len(api) >= 2 and all(st == 200 for _, _, st in api), api


def test_truecms_api_got_a_referer_and_epoint_a_json_body(crawl):
    """The two headers/body hooks the spider gained for these families, seen by the servers:
    without a Referer TrueCMS answers 404; without a JSON body Epoint answers no data."""
    tc = crawl["ps"]["truecms"]
    assert not [r for r in tc.requests if "getMessage.do" in r[1] and r[2] != 200]
    ep = crawl["ps"]["epoint"]
    posts = [path for m, path, st in ep.requests if "getgovinfolist" in path and m == "POST"]
    assert len(posts) == -(-len(ep.column.items) // ep.per_page)  # each page once, and all of them
    db = crawl["db"]
    raw = RawStore(db.parent / "raw")
    for (sha,) in q(db, "SELECT sha256 FROM documents WHERE site = ? AND role = 'list' AND url LIKE '%getgovinfolist%'",
                    ep.name):
        assert json.loads(raw.get(sha))["status"]["code"] == 200


def test_an_unreadable_api_answer_is_a_gap_not_a_success(tmp_path):
    """Page 2 of the chinatax API answers an HTML error page with 200: the page is kept,
    the site is partial with the reason, and the crawl exits 3 (never `ok` on half a column)."""
    from nianbao.devkit.portals import faults

    (p,) = start_portals(["chinatax"], n_reports=3, n_other=2, seed=620, first_host=155, forms=("html",))
    try:
        p.per_page = 2
        p.faults[("/getFileListByCodeId", 2)] = faults.soft404()
        sites = tmp_path / "sites"
        sites.mkdir()
        (sites / "tax.yaml").write_text(yaml.safe_dump(p.site_config(), allow_unicode=True), encoding="utf-8")
        db = tmp_path / "a.db"
        proc = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--fast", "--db", str(db), "--sites",
                               str(sites)], capture_output=True, text=True, timeout=150)
        assert proc.returncode == 3, proc.stdout[-2000:] + proc.stderr[-3000:]
        status, reason = q(db, "SELECT status, reason FROM sites WHERE name = ?", p.name)[0]
        assert status == "partial" and "unreadable chinatax list answer" in reason, reason
        kept = q(db, "SELECT COUNT(*) FROM documents WHERE site = ? AND role = 'list' AND url LIKE '%page=2%'", p.name)
        assert kept == [(1,)]  # the raw bytes of the bad answer are in the archive
    finally:
        stop_portals([p])


def test_discovery_from_the_home_page_finds_an_api_column(tmp_path):
    """`nianbao crawl --url HOME`: home → 政府信息公开 → the Epoint column shell (nothing
    listed in its HTML) is taken as the column, detected, and read through its script and API."""
    (p,) = start_portals(["epoint"], n_reports=2, n_other=1, seed=630, first_host=156, forms=("html",))
    try:
        db = tmp_path / "a.db"
        proc = subprocess.run([sys.executable, "-m", "nianbao", "crawl", "--fast", "--db", str(db),
                               "--url", p.home_url], capture_output=True, text=True, timeout=150)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
        assert q(db, "SELECT status, family, start_url FROM sites") == [("ok", "epoint", p.column_url)]
        got = {u for (u,) in q(db, "SELECT url FROM documents WHERE role = 'detail'")}
        assert got == {e["url"] for e in p.expected_reports()}
    finally:
        stop_portals([p])
