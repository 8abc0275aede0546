"""Saved-page tests per CMS family (as city-scrapers does): real pages from
tests/fixtures/portals (real pages, see its README) and pages saved from the mock portals, parsed offline."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from nianbao.crawler import discovery, families
from nianbao.crawler.antibot import detect_wall
from nianbao.crawler.families import base, gkmlpt, hanweb, static, trs_new, trs_old
from nianbao.pipeline import titles

FIX = Path(__file__).parent / "fixtures" / "portals"


def page(name: str, encoding: str = "utf-8") -> str:
    return base.decode((FIX / name).read_bytes(), None if encoding == "auto" else f"text/html; charset={encoding}")


def expected(family: str) -> list[dict]:
    return json.loads((FIX / f"mock_{family}_expected.json").read_text(encoding="utf-8"))


def origin(family: str) -> str:
    url = expected(family)[0]["url"]
    return url[: url.index("/", 8)]


def report_links(lp) -> dict[str, base.Link]:
    return {l.url: l for l in lp.links if titles.is_report_title(l.title)}


# ---------------------------------------------------------------- real pages

def test_real_trs_old_list_ordos():
    url = "http://www.ordos.gov.cn/egb/xxgk/xxgknb/index.html"
    text = page("trs_list_ordos_egb_xxgknb_index.html")
    assert families.detect(url, text) is trs_old
    lp = trs_old.parse_list(url, text)
    reports = report_links(lp)
    assert "http://www.ordos.gov.cn/egb/xxgk/xxgknb/202009/t20200903_2748784.html" in reports
    assert len(reports) == 4
    # the column mixes news items in: none of them is taken for a report
    assert not any("会议" in l.title or "大会" in l.title for l in reports.values())
    assert [p.url for p in lp.pages] == ["http://www.ordos.gov.cn/egb/xxgk/xxgknb/index_1.html"]


def test_real_trs_pager_56_pages_handan():
    url = "http://hdzfxxgk.hd.gov.cn/jinqixxgk/index.html"
    lp = trs_old.parse_list(url, page("trs_xxgk_list_handan_jinqixxgk.jsp.html"))
    assert len(lp.pages) == 55
    assert lp.pages[-1].url == "http://hdzfxxgk.hd.gov.cn/jinqixxgk/index_55.html"


def test_real_detail_meta_handan():
    d = base.detail_meta(page("trs_xxgk_detail_handan_metaheader.jsp.html"))
    assert d.index_no == "000014348/2020-35147"
    assert d.publisher == "邯郸市教育局"
    assert d.published == "2020-08-02"  # PubDate written 2020年08月02日


def test_real_home_discovery_handan():
    col = discovery.find_column("http://hdzfxxgk.hd.gov.cn/", page("trs_xxgk_home_handan_hdzfxxgk.jsp.html"))
    assert col == "http://hdzfxxgk.hd.gov.cn/zfxxgknb/"


def test_real_other_cms_detail_baoding():
    text = page("other_cms_detail_baoding_content.html")
    assert families.detect("http://www.baoding.gov.cn/content-169-224.html", text) is static
    d = static.parse_detail("http://www.baoding.gov.cn/content-169-224.html", text)
    assert d.published == "2021-04-09" and d.publisher == "保定市人民政府网"
    assert d.report_year is None  # a news item, not a report


# ---------------------------------------------------------------- mock pages, one family each

def test_trs_old_mock():
    exp = expected("trs_old")
    url = origin("trs_old") + "/zfxxgknb/index.html"
    lp = trs_old.parse_list(url, page("mock_trs_old_list_index.html"))
    assert [p.url for p in lp.pages] == [origin("trs_old") + "/zfxxgknb/index_1.html"]
    lp1 = trs_old.parse_list(origin("trs_old") + "/zfxxgknb/index_1.html", page("mock_trs_old_list_index_1.html"))
    assert lp1.pages == []  # only the first page fans out
    assert set(report_links(lp)) | set(report_links(lp1)) == {e["url"] for e in exp}
    e = next(e for e in exp if e["attachment_url"])
    d = trs_old.parse_detail(e["url"], page("mock_trs_old_detail_attachment.html"))
    assert (d.title, d.published, d.publisher, d.index_no, d.report_year) == (
        e["title"], e["published"], e["publisher"], e["index_no"], e["report_year"])
    assert [a.url for a in d.attachments] == [e["attachment_url"]]
    assert d.attachments[0].fallback.startswith(origin("trs_old") + "/protect/")


def test_trs_new_mock_probes_both_numberings_and_keeps_oldsrc():
    exp = expected("trs_new")
    url = origin("trs_new") + "/xxgk/zfxxgknb/list.shtml"
    lp = trs_new.parse_list(url, page("mock_trs_new_list.shtml"))
    assert families.detect(url, page("mock_trs_new_list.shtml")) is trs_new
    pages = [p.url.rsplit("/", 1)[1] for p in lp.pages]
    assert pages[0] == "list_1.shtml" and "list_2.shtml" in pages
    e = next(e for e in exp if e["attachment_url"])  # the page saved for the fixture
    d = trs_new.parse_detail(e["url"], page("mock_trs_new_detail_attachment.shtml"))
    assert d.title == e["title"] and d.index_no == e["index_no"]
    att = d.attachments[0]
    assert att.url.endswith("." + e["form"]) and att.fallback and "/protect/" in att.fallback
    assert "oldsrc" not in att.url.lower()  # href read as href, not as the tail of OLDSRC=


def test_hanweb_mock_cdata_records_and_post_paging():
    exp = expected("hanweb")
    url = origin("hanweb") + "/col/col33718/index.html"
    text = page("mock_hanweb_col_index.html")
    assert families.detect(url, text) is hanweb
    lp = hanweb.parse_list(url, text)
    assert len(lp.links) == 4  # the CDATA records an HTML parser alone would not see
    assert lp.pages and all(p.method == "POST" for p in lp.pages)
    first = lp.pages[0]
    assert "/module/web/jpage/dataproxy.jsp?startrecord=5&" in first.url
    assert first.formdata["columnid"] == "33718" and first.formdata["unitid"] == "212860"
    xml = hanweb.parse_list(first.url, page("mock_hanweb_dataproxy.xml"))
    assert set(report_links(lp)) | set(report_links(xml)) == {e["url"] for e in exp}
    e = next(e for e in exp if e["attachment_url"])
    d = hanweb.parse_detail(e["url"], page("mock_hanweb_detail_attachment.html"))
    assert d.publisher == e["publisher"] and d.published == e["published"]
    assert "/module/download/downfile.jsp?" in d.attachments[0].url


def test_gkmlpt_mock_config_api_and_escaped_body():
    exp = expected("gkmlpt")
    url = origin("gkmlpt") + "/gkmlpt/index"
    lp = gkmlpt.parse_list(url, page("mock_gkmlpt_index.html"))
    assert [p.url for p in lp.pages] == [origin("gkmlpt") + "/gkmlpt/api/all/721?page=1&sid=662021"]
    api = gkmlpt.parse_list(lp.pages[0].url, page("mock_gkmlpt_api_page1.json"))
    assert len(api.links) == 5 and [p.url.rsplit("?", 1)[1] for p in api.pages] == ["page=2&sid=662021"]
    e = next(e for e in exp if e["form"] == "html")
    d = gkmlpt.parse_detail(e["url"], page("mock_gkmlpt_detail_html.html"))
    assert d.body_is_derived and "<table" in d.body_html and d.attachments == []
    assert (d.title, d.index_no, d.published) == (e["title"], e["index_no"], e["published"])
    e = next(e for e in exp if e["attachment_url"])
    d = gkmlpt.parse_detail(e["url"], page("mock_gkmlpt_detail_attachment.html"))
    assert [a.url for a in d.attachments] == [e["attachment_url"]]


def test_gbk_static_without_http_charset():
    raw = (FIX / "mock_gbk_list_index.htm").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = base.decode(raw, "text/html")  # no charset in the header: the meta tag decides
    exp = expected("static")
    url = origin("static") + "/xxgk/nb/index.htm"
    lp = static.parse_list(url, text)
    titles = {l.title for l in lp.links}
    assert {e["title"] for e in exp if e["url"] in {l.url for l in lp.links}} <= titles
    assert any(p.url.endswith("/xxgk/nb/index_1.htm") for p in lp.pages)
    e = next(e for e in exp if e["attachment_url"])
    d = static.parse_detail(e["url"], base.decode((FIX / "mock_gbk_detail_attachment.htm").read_bytes(), "text/html"))
    assert d.title == e["title"] and d.publisher == e["publisher"]
    assert [a.url for a in d.attachments] == [e["attachment_url"]]


# ---------------------------------------------------------------- shared rules

@pytest.mark.parametrize("title,ok", [
    ("XX市2023年政府信息公开工作年度报告", True),
    ("2023年XX市教育局政府信息公开工作年度报告", True),
    ("XX区二〇二三年政府信息公开年报", True),
    ("关于做好2023年度政府信息公开工作年度报告编制工作的通知", False),
    ("2023年政府信息公开工作要点", False),
    ("政府信息公开年报", False),  # the column link, no year
])
def test_report_titles(title, ok):
    assert titles.is_report_title(title) is ok


def test_report_year_from_title_not_date():
    assert titles.title_year("XX市2019年政府信息公开工作年度报告") == 2019
    assert titles.title_year("二〇二一年XX县政府信息公开年报") == 2021


def test_sane_names():
    assert base.sane_name("../../etc/passwd") == "passwd"
    assert base.sane_name('a<b>:"c".pdf') == "a_b___c_.pdf"
    long = "年" * 300 + ".pdf"
    assert len(base.sane_name(long)) <= 120 and base.sane_name(long).endswith(".pdf")


@pytest.mark.parametrize("status,headers,body,word", [
    (412, {}, b"<script>$_ts=window['$_ts'];if(!$_ts)$_ts=window['$_ts']={};</script>", "瑞数"),
    (521, {}, b"<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+'__jsl_clearance'</script>", "加速乐"),
    (307, {"set-cookie": "wzws_cid=abc; path=/", "location": "/WZWSREL3p4"}, b"", "WZWS"),
    (200, {}, "<html>请开启JavaScript并刷新该页</html>".encode(), "WZWS"),
])
def test_walls_detected(status, headers, body, word):
    assert word in detect_wall(status, headers, body)


def test_ordinary_errors_are_not_walls():
    assert detect_wall(404, {}, b"<h1>404</h1>") is None
    assert detect_wall(412, {}, b"Precondition Failed") is None
    assert detect_wall(200, {}, page("mock_trs_old_list_index.html").encode()) is None


def test_site_overrides_narrow_links_and_attachments():
    from nianbao.crawler import overrides
    url = "http://www.ordos.gov.cn/egb/xxgk/xxgknb/index.html"
    text = page("trs_list_ordos_egb_xxgknb_index.html")
    inside = overrides.links_within(url, text, "table.gl_list")
    everywhere = trs_old.parse_list(url, text).links
    assert inside and len(inside) < len(everywhere)
    assert {l.url for l in inside if titles.is_report_title(l.title)} == set(report_links(trs_old.parse_list(url, text)))
    e = next(e for e in expected("trs_old") if e["attachment_url"])
    det = page("mock_trs_old_detail_attachment.html")
    assert overrides.attachments_within(e["url"], det, "div.footer") == []
    assert [a.url for a in overrides.attachments_within(e["url"], det, "p.insertfileTag")] == [e["attachment_url"]]


def test_gbk_page_without_any_charset_declaration():
    raw = "<html><body><a href='a.htm'>某县2023年政府信息公开工作年度报告</a></body></html>".encode("gbk")
    assert "某县2023年政府信息公开工作年度报告" in base.decode(raw, "text/html")
    assert base.decode("<p>鍗曚綅</p>".encode("utf-8"), None) == "<p>鍗曚綅</p>"  # valid UTF-8 stays UTF-8


def test_a_column_page_is_its_own_column_even_beside_a_menu_link():
    """Given the column itself, discovery keeps it: the side menu's 「信息公开年报」 link
    (another page of the same portal) must not win over the page that lists the reports."""
    url = "http://www.ordos.gov.cn/egb/xxgk/xxgknb/index.html"
    assert discovery.column_on(url, page("trs_list_ordos_egb_xxgknb_index.html")) == url
    home = "http://hdzfxxgk.hd.gov.cn/"
    assert discovery.column_on(home, page("trs_xxgk_home_handan_hdzfxxgk.jsp.html")) == "http://hdzfxxgk.hd.gov.cn/zfxxgknb/"
    for menu_first in (True, False):  # the menu before or after the list, as templates place it
        menu = '<ul class="left-menu"><li><a href="/pt/zfxxgknb/nlist.htm">政府信息公开年报</a></li></ul>'
        rows = "".join(f'<li><a href="./2024{m:02d}/t2024{m:02d}01_{m}.html">平潭综合实验区{y}年政府信息公开工作年度报告</a>'
                       f"<span>2024-{m:02d}-01</span></li>" for m, y in ((1, 2023), (2, 2022), (3, 2021)))
        body = (menu + f"<ul class='list'>{rows}</ul>") if menu_first else (f"<ul class='list'>{rows}</ul>" + menu)
        col = "http://www.pingtan.gov.cn/pt/zwgk/zfxxgknb/index.htm"
        assert discovery.column_on(col, f"<html><body>{body}</body></html>") == col
