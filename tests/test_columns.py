"""Completeness per column (issue 11): each family reads the count a column states about
itself, follows every mechanism the CMS offers to reach the rest, and the crawl compares
what it reached with that count. A column reached below its own count is `partial`
with the reason ("10/20: older records only behind list2.trsapi …"), never `ok`.

Unit tests run the family parsers on generated pages whose layout varies (quotes,
whitespace, attribute and key order, the count written in different forms); the crawl
tests use real HTTP against the mock portals (the TRS mock's 动静结合 quirk models the
saved 平潭综合实验区 column: 10 of 20 records static, the rest behind list2.trsapi)."""
from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nianbao.crawler import discovery, families
from nianbao.crawler.families import gkmlpt, hanweb, static, trs_new, trs_old
from nianbao.crawler.families.base import js_number, links_in, stated_count
from nianbao.devkit.portals import faults as F
from nianbao.devkit.portals import start_portals, stop_portals
from nianbao.devkit.portals.trs_old import API_PATH

pytestmark = pytest.mark.timeout(240)
URL = "http://www.pingtan.gov.cn/zfxxgk/zfxxgknb/index.htm"


# ---------------------------------------------------------------- the count, written many ways

@pytest.mark.parametrize("written, n", [
    ("recordCount: '20'", 20), ('recordCount:"20"', 20), ("recordCount : 20", 20), ('"recordCount": 20', 20),
    ("var recordCount = '20';", 20), ("recordCount=20", 20), ("recordCount:\n\t'1234'", 1234),
])
def test_js_number_reads_any_quoting(written, n):
    assert js_number(f"<script>x({{a: 1, {written}, b: 2}})</script>", "recordCount") == n
    assert js_number(f"<script>{written}</script>", "countnum") is None


@pytest.mark.parametrize("written, n", [
    ("共20条", 20), ("共 20 条记录", 20), ("共有<span class='n'>20</span>条信息", 20), ("共&nbsp;1,234&nbsp;条", None),
    ("总记录数：57", 57), ("记录总数: 57", 57), ("<!-- 共有<span>0</span>条 --> 共 8 条", 8), ("共5页", None),
])
def test_stated_count_forms(written, n):
    got = stated_count(f"<div class='page'>{written}</div>".replace("&nbsp;", " ") if n else f"<div>{written}</div>")
    assert got == n


def _fujian_page(layout: int, *, records=10, total="20", static_index=1, prepage=5, chnlid="23512"):
    """A TRS 动静结合 column page in one of several layouts."""
    quote = ["'", '"', ""][layout % 3]
    sp = [" ", "", "\n    "][layout % 3]
    rows = []
    for i in range(records):
        href = f"./2021{i % 12 + 1:02d}/t2021{i % 12 + 1:02d}1{i % 9}_{5000 + i}.htm"
        title = f"平潭综合实验区{2020 - i}年政府信息公开工作年度报告"
        if layout % 2:
            rows.append(f'<li><a target="_blank" href="{href}"><div class="li-text">{title}</div>'
                        f'<div class="li-btn">{2021 - i}-01-2{i % 9}</div></a></li>')
        else:
            rows.append(f"<li><a title='{title}' href='{href}'>{title[:12]}…</a>"
                        f"<span>{2021 - i}-01-2{i % 9}</span></li>")
    keys = [f"chnlid:{sp}{quote}{chnlid}{quote}", f"maxStaticIndex:{sp}{static_index}",
            f"pagebar:{sp}{{prepage:{sp}{prepage},{sp}recordCount:{sp}{quote}{total}{quote}}}"]
    keys = list(itertools.permutations(keys))[layout % 6]
    cfg = "listModel({" + ("," + sp).join(keys) + "})"
    return (f"<html><head><title>政府信息公开年报_平潭综合实验区</title></head><body>"
            f"<div class='left-menu'><a href='/zfxxgk/zfxxgknb/nlist.htm'>政府信息公开年报</a>"
            f"<a href='/zfxxgk/zfxxgkzn/'>政府信息公开指南</a></div>"
            f"<ul class='gl-ul'>{''.join(rows)}"
            f"<li ms-repeat='list'><a ms-attr-href='el.url'>{{{{el.title}}}}</a></li></ul>"
            f"<script>require(['list2.trsapi'],{sp}function(){{{sp}{cfg}{sp}}});</script></body></html>")


@pytest.mark.parametrize("layout", range(6))
def test_trs_dynamic_pager_states_its_count_and_asks_the_api_for_the_rest(layout):
    text = _fujian_page(layout)
    assert families.detect(URL, text) is trs_old
    page = trs_old.parse_list(URL, text)
    assert page.total == 20
    assert len(page.records) == 10 and all("/t2021" in u for u in page.records)  # the menu is no record
    static = [p for p in page.pages if p.via == "index_N"]
    api = [p for p in page.pages if p.via == "list2.trsapi"]
    assert [p.url for p in static] == ["http://www.pingtan.gov.cn/zfxxgk/zfxxgknb/index_1.htm"] and static[0].probe
    # pages 1 and 2 are the static files; pages 3 and 4 only the API has
    assert [p.url for p in api] == [f"http://www.pingtan.gov.cn/list2.trsapi?chnlid=23512&page={n}&prepage=5"
                                    for n in (3, 4)]
    if layout % 2:  # the date inside the anchor is the entry's date, not part of its title
        (third,) = [link for link in page.links if link.url.endswith("_5002.htm")]
        assert third.title == "平潭综合实验区2018年政府信息公开工作年度报告" and third.date == "2019-01-22"


def test_trs_dynamic_pager_names_what_it_cannot_follow():
    page = trs_old.parse_list(URL, _fujian_page(0, chnlid=""))
    assert page.total == 20 and not [p for p in page.pages if p.via == "list2.trsapi"]
    assert "list2.trsapi" in page.rest


def test_trs_api_page_is_read():
    body = json.dumps({"recordCount": "20", "data": [
        {"title": "平潭综合实验区2012年政府信息公开工作年度报告", "url": "/zfxxgk/zfxxgknb/201303/t20130301_1.htm",
         "time": "2013-03-01 10:00:00"}]}, ensure_ascii=False)
    page = trs_old.parse_list("http://www.pingtan.gov.cn/trsapi/list2?chnlid=1&page=3&prepage=5", body)
    assert page.total == 20 and page.pages == []
    assert [(link.url, link.date) for link in page.links] == [
        ("http://www.pingtan.gov.cn/zfxxgk/zfxxgknb/201303/t20130301_1.htm", "2013-03-01")]


FIX = Path(__file__).parent / "fixtures" / "portals"


def test_saved_trs_dynamic_pages():
    """The TRS mock's 动静结合 column page and one page of its list API, as saved."""
    url = "http://127.0.0.11:8011/zfxxgknb/index.htm"
    text = (FIX / "mock_trs_dynamic_list_index.htm").read_text(encoding="utf-8")
    page = trs_old.parse_list(url, text)
    assert (page.total, len(page.records)) == (20, 5)
    assert [p.url for p in page.pages] == ["http://127.0.0.11:8011/zfxxgknb/index_1.htm"] + [
        f"http://127.0.0.11:8011/trsapi/list2?chnlid=23512&page={n}&prepage=5" for n in (3, 4)]
    assert discovery.column_on(url, text) == url
    api = "http://127.0.0.11:8011/trsapi/list2?chnlid=23512&page=3&prepage=5"
    page = trs_old.parse_list(api, (FIX / "mock_trs_dynamic_api_page3.json").read_text(encoding="utf-8"))
    assert page.total == 20 and len(page.links) == 5 and all("/zfxxgknb/20" in link.url for link in page.links)


@pytest.mark.parametrize("countnum", ["var countnum= 6348;", "var countnum = '6348'", "countnum=6348;"])
def test_trs_old_countnum(countnum):
    text = (f"<table class='gl_list'><tr><td><a href='./202008/t20200805_1353179.html'>x</a></td></tr></table>"
            f"<script>{countnum}\nvar currentPage=0;\nvar countPage=56</script><a href='/'>首页</a>")
    page = trs_old.parse_list("http://hdzfxxgk.hd.gov.cn/zfxxgknb/index.html", text)
    assert page.total == 6348 and len(page.pages) == 55
    assert page.records == ["http://hdzfxxgk.hd.gov.cn/zfxxgknb/202008/t20200805_1353179.html"]


@pytest.mark.parametrize("call, total", [
    ("createPageHTML('page_div', 5, 1, 'list', 'shtml', 89);", 89),
    ('createPageHTML("page_div",5,1,"list","shtml","89")', 89),
    ("createPageHTML( 'page_div' ,\n 5 , 1 , 'list' , 'shtml' , 89 )", 89),
    ("createPageHTML('page_div', 5, 1, 'list', 'shtml'); 共 89 条", 89),
    ("createPageHTML('page_div', 5, 1, 'list', 'shtml');", None),
])
def test_trs_new_record_count(call, total):
    text = f"<ul><li><a href='./t20200101_1.shtml'>a</a></li></ul><script>{call}</script>"
    page = trs_new.parse_list("http://x.gov.cn/xxgk/list.shtml", text)
    assert page.total == total and len(page.pages) == 5


@pytest.mark.parametrize("cfg", [
    "totalRecord:57,perPage:19,proxyUrl:'/module/web/jpage/dataproxy.jsp'",
    "perPage: 19, totalRecord: '57', proxyUrl: \"/module/web/jpage/dataproxy.jsp\"",
    "\n  proxyUrl:'/module/web/jpage/dataproxy.jsp',\n  totalRecord : 57 ,\n  perPage:19",
])
def test_hanweb_total_record(cfg):
    text = (f"<div id='1'><script type='text/xml'><datastore><recordset><record><![CDATA[<li><a href='/art/2021/1/1/"
            f"art_1_1.html'>a</a></li>]]></record></recordset></datastore></script></div>"
            f"<script>$('#1').jpage({{{cfg},ajaxParam:{{columnid:1,unitid:'1',webid:1}}}});</script>")
    page = hanweb.parse_list("http://x.gov.cn/col/col1/index.html", text)
    assert page.total == 57 and page.pages and all(p.via == "dataproxy.jsp" for p in page.pages)
    xml = "<datastore><totalrecord> 57 </totalrecord><recordset></recordset></datastore>"
    assert hanweb.parse_list("http://x.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=2", xml).total == 57


def test_gkmlpt_totals():
    tree = [{"id": 1, "name": "政府信息公开", "children": [{"id": 721, "name": "政府信息公开年报", "post_count": 13}]}]
    index = f"<script>window._CONFIG = {json.dumps({'SID': '1', 'TREE': tree}, ensure_ascii=False)};</script>"
    page = gkmlpt.parse_list("http://x.gov.cn/gkmlpt/index", index)
    assert page.total is None and page.pages[0].via == "gkmlpt api"  # the API's total is the column's count
    sub = [{"id": 7210, "name": "2021年", "children": []}, {"id": 7211, "name": "2020年", "children": []}]
    tree[0]["children"][0]["children"] = sub
    index = f"<script>window._CONFIG = {json.dumps({'SID': '1', 'TREE': tree}, ensure_ascii=False)};</script>"
    page = gkmlpt.parse_list("http://x.gov.cn/gkmlpt/index", index)
    assert [(p.url.split("?")[0].rsplit("/", 1)[1], p.scope) for p in page.pages] == [
        ("721", None), ("7210", "sub-column 7210"), ("7211", "sub-column 7211")]
    api = json.dumps({"total": 13, "articles": [{"title": "t", "url": f"/c/{i}.html"} for i in range(5)]})
    page = gkmlpt.parse_list("http://x.gov.cn/gkmlpt/api/all/721?page=1&sid=1", api)
    assert page.total == 13 and len(page.pages) == 2


def test_static_count_and_entries_are_not_its_pager_or_menu():
    text = ("<div class='nav'><a href='/'>首页</a><a href='/xxgk/'>信息公开</a></div><ul>"
            "<li><a href='content_1.htm'>A</a></li><li><a href='content_2.htm'>B</a></li></ul>"
            "<div class='pages'>共 12 条 第1页/共6页 <a href='index.htm'>首页</a><a href='index_1.htm'>下一页</a>"
            "<a href='index_5.htm'>尾页</a></div>")
    page = static.parse_list("http://x.gov.cn/xxgk/nb/index.htm", text)
    assert page.total == 12
    assert page.records == ["http://x.gov.cn/xxgk/nb/content_1.htm", "http://x.gov.cn/xxgk/nb/content_2.htm"]


def test_links_in_reads_a_date_inside_the_anchor():
    for html in ("<a href='a.htm'><div>某局2020年政府信息公开工作年度报告</div><div>2021-01-29</div></a>",
                 "<a href='a.htm'>某局2020年政府信息公开工作年度报告 [2021年1月29日]</a>"):
        (link,) = links_in("http://x.gov.cn/", html)
        assert (link.title, link.date) == ("某局2020年政府信息公开工作年度报告", "2021-01-29")


# ---------------------------------------------------------------- discovery prefers the given column

@pytest.mark.parametrize("layout", range(3))
def test_discovery_prefers_the_given_column_over_its_side_menu(layout):
    text = _fujian_page(layout)
    assert discovery.column_on(URL, text) == URL
    # Even when the records only come from the list API (none written in the page):
    # the page calls itself the column and states its count.
    bare = _fujian_page(layout, records=0)
    assert discovery.column_on(URL, bare) == URL
    # A page that is not a column still leads to the column link.
    home = "<title>平潭综合实验区管委会</title><a href='/zfxxgk/zfxxgknb/nlist.htm'>政府信息公开年报</a>"
    assert discovery.column_on("http://www.pingtan.gov.cn/", home).endswith("/zfxxgknb/nlist.htm")


# ---------------------------------------------------------------- crawls over real HTTP

def nb(*args: str, timeout: float = 200) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "nianbao", *args], capture_output=True, text=True, timeout=timeout)


def rows(db: Path, sql: str, *args) -> list[dict]:
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute(sql, args)]
    finally:
        con.close()


def write_sites(d: Path, portals, extra: dict | None = None) -> Path:
    d.mkdir(exist_ok=True)
    for p in portals:
        cfg = {**p.site_config(), **(extra or {}).get(p.name, {})}
        (d / f"{p.name}.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Every family's mock (20 records each), the TRS 动静结合 column whole, with its
    API answering nothing, with its API gone, a static pager that never ends and a
    gkmlpt column split into one sub-category per year."""
    tmp = tmp_path_factory.mktemp("columns")
    ps = start_portals(n_reports=12, n_other=8, forms=("html",), seed=700, first_host=151)
    dyn = start_portals(["trs_old"] * 3 + ["static", "gkmlpt"], n_reports=12, n_other=8, forms=("html",), seed=710,
                        first_host=161)
    for p, name in zip(dyn, ["dynamic", "api-empty", "api-gone", "endless", "by-year"]):
        p.name = name
    for p in dyn[:3]:
        p.quirks.add("dynamic")
    dyn[1].quirks.add("api_empty")
    dyn[2].faults[(API_PATH, None)] = F.status(404)
    dyn[3].quirks.add("endless_pager")
    dyn[4].quirks.add("by_year")
    try:
        sites = write_sites(tmp / "sites", ps + dyn)
        db = tmp / "archive.db"
        res = nb("crawl", "--fast", "--db", str(db), "--sites", str(sites))
        yield {"db": db, "res": res, "portals": ps, "dyn": {p.name: p for p in dyn}, "sites": sites, "tmp": tmp}
    finally:
        stop_portals(ps + dyn)


def _site(db, name) -> dict:
    (row,) = rows(db, "SELECT * FROM sites WHERE name = ?", name)
    return row


def test_every_family_reaches_its_stated_count(world):
    for p in world["portals"]:
        s = _site(world["db"], p.name)
        assert (s["status"], s["expected"], s["reached"]) == ("ok", 20, 20), s


def test_trs_dynamic_column_is_reached_whole_through_the_api(world):
    db, p = world["db"], world["dyn"]["dynamic"]
    s = _site(db, "dynamic")
    assert (s["status"], s["expected"], s["reached"], s["reason"]) == ("ok", 20, 20, None), s
    api = [path for m, path, st in p.requests if path.startswith(API_PATH) and st == 200]
    assert len(api) == 2, p.requests  # pages 3 and 4: the static files hold pages 1 and 2
    got = {r["url"] for r in rows(db, "SELECT url FROM fetches WHERE site = 'dynamic' AND role = 'detail'")}
    assert got == {e["url"] for e in p.expected_reports()}  # the 2011–2015 reports too


@pytest.mark.parametrize("name, why", [("api-empty", "answered no records"), ("api-gone", "HTTP 404")])
def test_trs_dynamic_column_with_its_api_broken_is_partial_10_of_20(world, name, why):
    s = _site(world["db"], name)
    assert (s["status"], s["expected"], s["reached"]) == ("partial", 20, 10), s
    assert s["reason"].startswith("10/20: older records only behind list2.trsapi") and why in s["reason"], s
    out = world["res"].stdout
    assert f"{name}: partial (records 10/20): 10/20: older records only behind list2.trsapi" in out, out


def test_the_crawl_exits_3_and_the_run_counts_records(world):
    res = world["res"]
    assert res.returncode == 3, res.stdout + res.stderr[-3000:]
    (run,) = rows(world["db"], "SELECT * FROM runs")
    assert (run["expected"], run["reached"]) == (10 * 20, 8 * 20 + 2 * 10), run
    assert "records 180/200" in res.stdout


def test_endless_pager_is_bounded_by_the_columns_count(world):
    p = world["dyn"]["endless"]
    s = _site(world["db"], "endless")
    lists = [path for _, path, _ in p.requests if path.startswith("/xxgk/nb/index")]
    assert len(lists) <= 20 // p.per_page + 2, lists  # the count stops it, long before max_pages
    assert s["status"] == "ok" and (s["expected"], s["reached"]) == (20, 20), s
    assert "pager went on past the column's 20 records" in s["reason"]
    assert "endless: ok (records 20/20): pager went on past" in world["res"].stdout


def test_gkmlpt_column_split_by_year_is_read_through_every_sub_category(world):
    db, p = world["db"], world["dyn"]["by-year"]
    s = _site(db, "by-year")
    assert (s["status"], s["expected"], s["reached"]) == ("ok", 20, 20), s
    got = {r["url"] for r in rows(db, "SELECT url FROM fetches WHERE site = 'by-year' AND role = 'detail'")}
    assert got == {e["url"] for e in p.expected_reports()}


def test_sites_list_shows_records(world):
    out = nb("sites", "list", "--db", str(world["db"]), "--sites", str(world["sites"])).stdout
    line = next(x for x in out.splitlines() if x.startswith("api-gone\t"))
    assert "[partial: 10/20: older records only behind list2.trsapi" in line and "records 10/20]" in line
    assert "records 20/20]" in next(x for x in out.splitlines() if x.startswith("dynamic\t"))


def test_the_whole_column_alone_exits_0_and_discovery_keeps_the_given_column(world):
    p = world["dyn"]["dynamic"]
    db = world["tmp"] / "given.db"
    since = len(p.requests)
    res = nb("crawl", "--fast", "--db", str(db), "--url", p.column_url)
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    (s,) = rows(db, "SELECT * FROM sites")
    assert (s["status"], s["start_url"], s["expected"], s["reached"]) == ("ok", p.column_url, 20, 20), s
    assert not [x for x in p.requests[since:] if "nlist" in x[1]]  # the side menu's link was not taken


def test_unreachable_home_fails_with_exit_1(tmp_path):
    (p,) = start_portals(["trs_old"], n_reports=2, n_other=1, forms=("html",), seed=720, first_host=171)
    try:
        d = tmp_path / "sites"
        d.mkdir()
        (d / "home404.yaml").write_text(f"name: home404\nhome_url: {p.base_url}/gone/\ndiscover: true\n")
        (d / "nodns.yaml").write_text("name: nodns\nhome_url: http://no-such-host.invalid/\ndiscover: true\n")
        db = tmp_path / "a.db"
        res = nb("crawl", "--fast", "--db", str(db), "--sites", str(d), "-s", "RETRY_TIMES=0")
        assert res.returncode == 1, res.stdout + res.stderr[-2000:]
        got = {r["name"]: r for r in rows(db, "SELECT * FROM sites")}
        assert got["home404"]["status"] == "failed" and "404" in got["home404"]["reason"]
        assert got["nodns"]["status"] == "failed" and "dns" in got["nodns"]["reason"].lower()
        # A home page that leads to a 政府信息公开 page showing no column (an error page
        # served with 200): no column found is a failure, never `empty` with exit 0.
        p.faults[("/zwgk/index.html", None)] = F.soft404()
        res = nb("crawl", "--fast", "--db", str(tmp_path / "b.db"), "--url", p.home_url)
        (s,) = rows(tmp_path / "b.db", "SELECT * FROM sites")
        assert res.returncode == 1 and s["status"] == "failed" and "no 年报 column" in s["reason"], (s, res.stdout)
    finally:
        stop_portals([p])


def test_the_site_shows_expected_and_reached(world):
    """The Datasette site: the sites table carries the count and the reason, and its
    metadata says what the two columns mean."""
    import urllib.request

    from nianbao.pipeline.site import server

    proc, url = server.start(world["db"])
    try:
        def get(path):
            with urllib.request.urlopen(url + path, timeout=30) as r:
                return json.loads(r.read())

        got = {r["name"]: r for r in get("/archive/sites.json?_shape=array")}
        gone = got["api-gone"]
        assert (gone["status"], gone["expected"], gone["reached"]) == ("partial", 20, 10)
        assert got["api-gone"]["reason"].startswith("10/20: older records only behind list2.trsapi")
        cols = get("/-/metadata.json")["databases"]["archive"]["tables"]
        assert "栏目自称" in cols["sites"]["columns"]["expected"] and "partial" in cols["sites"]["columns"]["reached"]
        assert cols["runs"]["columns"]["expected"] and cols["runs"]["columns"]["reached"]
        (run,) = get("/archive/runs.json?_shape=array")
        assert (run["expected"], run["reached"]) == (200, 180)
    finally:
        server.stop(proc)
