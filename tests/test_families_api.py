"""Saved-page tests of the list-API families (chinatax, JPaaS, TrueCMS, Epoint), as
tests/test_families.py does for the page-based ones: pages saved from the mock portals
(devkit/portals/snapshot.py) parsed offline, chained as a crawl would chain them, then
the same answers rewritten in other layouts (whitespace, key order, quotes, extra
fields, callback names) that real sites of each family produce."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from nianbao.crawler import discovery, families
from nianbao.crawler.families import base, chinatax, epoint, hanweb, jpaas, truecms
from nianbao.pipeline import titles

FIX = Path(__file__).parent / "fixtures" / "portals"


def raw(name: str) -> str:
    return base.decode((FIX / name).read_bytes(), "text/html; charset=utf-8")


def fixture(family: str) -> dict:
    return json.loads((FIX / f"mock_{family}_expected.json").read_text(encoding="utf-8"))


def reports(links) -> set[str]:
    return {link.url for link in links if titles.is_report_title(link.title)}


def crawl_offline(family: str):
    """Column page → every list request the parser makes, answered from the saved files
    in the order the snapshot saved them. Returns the links, totals and requests seen."""
    fx = fixture(family)
    fam = families.get(family)
    answers = sorted(FIX.glob(f"mock_{family}_api_*"), key=lambda p: int(re.search(r"_(\d+)\.", p.name).group(1)))
    lp = fam.parse_list(fx["column_url"], raw(f"mock_{family}_column.html"))
    links, totals, asked = list(lp.links), {lp.total} - {None}, []
    todo = list(lp.pages)
    while todo:
        req = todo.pop(0)
        asked.append(req)
        if req.url.split("?")[0].endswith(".js"):
            text = raw(f"mock_{family}_script.js")
        else:
            text = answers.pop(0).read_text(encoding="utf-8")
        page = fam.parse_list(req.url, text)
        links += page.links
        totals |= {page.total} - {None}
        todo += page.pages
    assert not answers, "the parser asked for fewer pages than the site served"
    return links, totals, asked


@pytest.mark.parametrize("family", ["chinatax", "jpaas", "truecms", "epoint"])
def test_saved_column_is_detected_read_to_its_total_and_is_a_column(family):
    fx = fixture(family)
    column = raw(f"mock_{family}_column.html")
    assert families.detect(fx["column_url"], column).NAME == family
    assert discovery.is_column(fx["column_url"], column)  # discovery takes the page itself
    links, totals, asked = crawl_offline(family)
    assert {link.url for link in links} == set(fx["column"])  # every record, each page asked once
    assert len(links) == len(fx["column"])
    assert totals == {len(fx["column"])}  # ListPage.total: the column's own count
    assert reports(links) == {r["url"] for r in fx["reports"]}


@pytest.mark.parametrize("family", ["chinatax", "jpaas", "truecms", "epoint"])
def test_saved_detail_page_metadata_and_attachment(family):
    e = next(r for r in fixture(family)["reports"] if r["attachment_url"])
    d = families.get(family).parse_detail(e["url"], raw(f"mock_{family}_detail_attachment.html"))
    assert (d.title, d.published, d.publisher, d.index_no, d.report_year) == (
        e["title"], e["published"], e["publisher"], e["index_no"], e["report_year"])
    assert [a.url for a in d.attachments] == [e["attachment_url"]]


# ---------------------------------------------------------------- chinatax

def test_chinatax_requests_post_the_form_and_name_the_page_in_the_url():
    fx = fixture("chinatax")
    (first,) = chinatax.parse_list(fx["column_url"], raw("mock_chinatax_column.html")).pages
    assert first.method == "POST" and first.url.split("?")[0].endswith("/getFileListByCodeId")
    assert first.formdata == {"codeId": "", "channelId": "61eaab3127b040d4950fff177f09e561", "page": "1",
                              "size": "20", "relateSubChannels": "true"}
    assert {k: v[0] for k, v in parse_qs(urlsplit(first.url).query, keep_blank_values=True).items()} == first.formdata
    _, _, asked = crawl_offline("chinatax")
    assert [r.formdata["page"] for r in asked] == ["1", "2", "3"]  # the server capped size at 3: 7 records, 3 pages


@pytest.mark.parametrize("script", [
    'var channelId = "{c}";',
    "var channelId='{c}'; var codeId='c100006';",
    '<script>\n  var  config = {{ channelId : "{c}", relateSubChannels: false }};\n</script>',
    '<div data-x="1"></div><script>window.channelId="{c}"</script>',
])
def test_chinatax_column_page_variants(script):
    c = "0ac34e96afbb4be28844f18eef412421"
    text = ("<html><body><ul id='list'></ul><script>/* getFileListByCodeId */</script>"
            f"{script.format(c=c)}</body></html>")
    assert families.detect("https://www.chinatax.gov.cn/chinatax/n810214/c102384r/index.html", text) is chinatax
    (req,) = chinatax.parse_list("https://www.chinatax.gov.cn/chinatax/n810214/c102384r/index.html", text).pages
    assert req.formdata["channelId"] == c and req.url.startswith("https://www.chinatax.gov.cn/getFileListByCodeId?")
    if "c100006" in script:
        assert req.formdata["codeId"] == "c100006"
    if "false" in script:
        assert req.formdata["relateSubChannels"] == "false"


def _tax_answer(rows, total, *, indent=None, extra=False, bom=False):
    data = {"results": {"data": {"results": rows, "total": total}}, "code": 200}
    if extra:
        data["results"]["data"]["channelName"] = "政府信息公开年报"
        data["msg"] = "ok"
    text = json.dumps(data, ensure_ascii=False, indent=indent)
    return ("\ufeff" if bom else "") + "\n  " + text + "\n"


API = "https://www.chinatax.gov.cn/getFileListByCodeId?codeId=&channelId=abc12345abc&page=1&size=2&relateSubChannels=true"


@pytest.mark.parametrize("indent,extra,bom", [(None, False, False), (2, True, False), (1, False, True)])
def test_chinatax_answer_layouts(indent, extra, bom):
    rows = [{"publishedTimeStr": "2024-01-30 10:00:00", "redirectUrl": "",
             "titleHtml": '国家税务总局<span style="color:red">2023</span>年政府信息公开工作年度报告',
             "url": "http://www.chinatax.gov.cn/chinatax/n810214/c102384r/c5217000/content.html"},
            {"titleHtml": "国家税务总局2022年政府信息公开工作年度报告", "redirectUrl": "https://other.gov.cn/x.html",
             "url": "http://www.chinatax.gov.cn/chinatax/n810214/c102384r/c5100000/content.html",
             "publishedTimeStr": "2023-01-30 10:00:00", "domainMetaList": []}]
    lp = chinatax.parse_list(API, _tax_answer(rows, 5, indent=indent, extra=extra, bom=bom))
    assert [link.title for link in lp.links] == ["国家税务总局2023年政府信息公开工作年度报告",
                                                 "国家税务总局2022年政府信息公开工作年度报告"]
    assert lp.links[1].url == "https://other.gov.cn/x.html"  # redirectUrl wins when set
    assert lp.links[0].date == "2024-01-30" and lp.total == 5
    assert [parse_qs(urlsplit(p.url).query)["page"][0] for p in lp.pages] == ["2", "3"]
    assert all(p.formdata["channelId"] == "abc12345abc" for p in lp.pages)


def test_chinatax_answer_without_a_total_asks_the_next_page_only_while_full():
    row = {"titleHtml": "某局2023年政府信息公开工作年度报告", "url": "/a/content.html"}
    full = chinatax.parse_list(API, json.dumps({"code": 200, "results": {"data": {"results": [row, row]}}}))
    assert full.total is None and [p.formdata["page"] for p in full.pages] == ["2"]
    short = chinatax.parse_list(API.replace("page=1", "page=2"),
                                json.dumps({"code": 200, "results": {"data": {"results": [row]}}}))
    assert short.pages == []


# ---------------------------------------------------------------- JPaaS

def test_jpaas_pages_go_inside_paramjson():
    _, _, asked = crawl_offline("jpaas")
    for n, req in enumerate(asked, 1):
        q = {k: v[0] for k, v in parse_qs(urlsplit(req.url).query).items()}
        assert "pageNo" not in q  # a bare pageNo is ignored by the platform
        assert json.loads(q["paramJson"])["pageNo"] == n
        assert (q["webId"], q["parseType"], q["pageType"]) == ("3630", "bulidstatic", "column")


QD = {"webId": "29e9522dc89d4e088a953d8cede72f4c", "pageId": "dedefc44460a4338ac649d95f0ed8023",
      "tplSetId": "5c30fb89ae5e48b9aefe3cdf49853830", "tagId": "内容区域", "pageType": "column"}


@pytest.mark.parametrize("tag", [
    '<script id="a1" src="/module/jpaas/AuthorizedRead/unitbuild.js" url="/api-gateway/jpaas-publish-server/front/page/'
    'build/unit" queryData="{qd1}"></script>',
    "<script queryData='{qd2}' url='/api-gateway/jpaas-publish-server/front/page/build/unit'\n   src='unitbuild.js'>"
    "</script>",
    '<script src="unitbuild.js" url="/api-gateway/jpaas-publish-server/front/page/build/unit"\n'
    ' queryData="{qd3}"></script>',
    '<script>var unit = {{ url: "/api-gateway/jpaas-publish-server/front/page/build/unit", queryData: null }};\n'
    '  var webId = "{webId}"; var pageId = "{pageId}"; var tplSetId = "{tplSetId}"; var tagId = "{tagId}";</script>',
])
def test_jpaas_column_page_variants(tag):
    qd1 = json.dumps(QD, ensure_ascii=False).replace('"', "'")
    qd2 = json.dumps({**QD, "editType": "null", "extra": 1}, ensure_ascii=False, indent=1)
    qd3 = json.dumps(dict(reversed(QD.items())), ensure_ascii=False).replace('"', "&quot;")
    text = "<html><body><div class='list'>" + tag.format(qd1=qd1, qd2=qd2, qd3=qd3, **QD) + "</div></body></html>"
    url = "https://www.samr.gov.cn/xw/zj/index.html"
    assert families.detect(url, text) is jpaas
    (req,) = jpaas.parse_list(url, text).pages
    q = {k: v[0] for k, v in parse_qs(urlsplit(req.url).query).items()}
    assert req.url.startswith("https://www.samr.gov.cn/api-gateway/jpaas-publish-server/front/page/build/unit?")
    assert {k: q[k] for k in ("webId", "pageId", "tplSetId", "tagId")} == {k: QD[k] for k in ("webId", "pageId",
                                                                                              "tplSetId", "tagId")}
    assert json.loads(q["paramJson"]) == {"pageNo": 1, "pageSize": "15"}


UNIT = ("https://www.samr.gov.cn/api-gateway/jpaas-publish-server/front/page/build/unit?webId=w&pageId=p&tplSetId=t"
        "&paramJson=%7B%22pageNo%22%3A1%2C%22pageSize%22%3A%2215%22%7D")
LIS = "".join(f'<li> <a title="某局{2015 + i}年政府信息公开工作年度报告"\n'
              f' href="/art/2024/1/{i + 1}/art_1_{i}.html">某局…</a><span>2024-01-{i + 1:02d}</span></li>\n'
              for i in range(15))


@pytest.mark.parametrize("pager,total", [
    ('<div class="pagination">共 <b>40</b> 条 <a data-page="2">2</a></div>', 40),
    ("<div class='page-box' data-total='40'><a href='javascript:;' data-page=\"3\">末页</a></div>", 40),
    ('<div class="pagination"><span>共40条</span></div>', 40),
    ('<div class="pagination"><a data-page="1">1</a><a data-page="2">2</a><a data-page="3">3</a></div>', None),
    ('<div class="page"><a href="?pageNo=2">下一页</a> <a href="?pageNo=3">3</a> <a href="?pageNo=3">尾页</a>'
     "共40条</div>", 40),
])
def test_jpaas_answer_layouts(pager, total):
    for data in ({"html": "<ul>" + LIS + "</ul>" + pager}, '<div class="page-list"><ul>' + LIS + "</ul></div>" + pager):
        body = json.dumps({"data": data, "success": True, "code": "200", "extra": [1, 2]}, ensure_ascii=False, indent=2)
        lp = jpaas.parse_list(UNIT, body)
        assert len(reports(lp.links)) == len(lp.links) == 15  # the pager's links are no entries
        assert lp.total == total
        assert [json.loads(parse_qs(urlsplit(p.url).query)["paramJson"][0])["pageNo"] for p in lp.pages] == [2, 3]


def test_jpaas_error_answer_is_an_empty_page_not_a_crash():
    lp = jpaas.parse_list(UNIT, json.dumps({"success": False, "code": "500", "message": "参数错误", "data": None}))
    assert lp.links == [] and lp.pages == [] and lp.total is None


# ---------------------------------------------------------------- TrueCMS

def test_truecms_column_is_not_taken_for_hanweb_and_asks_with_a_referer():
    fx = fixture("truecms")
    text = raw("mock_truecms_column.html")
    assert hanweb.detect(fx["column_url"], text)  # it looks like a Hanweb jpage too: order matters
    assert families.detect(fx["column_url"], text) is truecms
    lp = truecms.parse_list(fx["column_url"], text)
    assert len(lp.links) == 6 and lp.total == 7  # the #initData records, the page's totalRecord
    (req,) = lp.pages
    assert req.headers == {"Referer": fx["column_url"]}
    q = {k: v[0] for k, v in parse_qs(urlsplit(req.url).query).items()}
    assert (q["startrecord"], q["endrecord"], q["perpage"]) == ("7", "12", "3")  # perPage × groupSize, as the page asks
    assert q["columnId"] == "593f0397-04d7-44c3-8339-240a77a793ce" and q["callback"]


GM = "https://www.shrd.gov.cn/TrueCMS/messageController/getMessage.do?startrecord=1&endrecord=20&perpage=20&columnId=x"
REC = ("<record><![CDATA[<li><a href='/shrd/fggb/content/{u}.html' title='某区{y}年政府信息公开工作年度报告'>某区…</a>"
       "<span>{y}-01-20</span></li>]]></record>")


@pytest.mark.parametrize("wrap", [
    "jsonpCallback({j})",
    "jQuery18304159871_1700000000000( {j} );",
    "cb({j});\n",
    "  {j}  ",  # no callback named: plain JSON
])
def test_truecms_jsonp_layouts(wrap):
    xml = ("<datastore>\n <totalrecord> 279 </totalrecord>\n <recordset>\n  "
           + "\n  ".join(REC.format(u=f"a{y}", y=y) for y in (2021, 2022)) + "\n </recordset>\n</datastore>")
    j = json.dumps({"total": 279, "result": xml}, ensure_ascii=False)
    lp = truecms.parse_list(GM, wrap.replace("{j}", j))
    assert lp.total == 279 and reports(lp.links) == {"https://www.shrd.gov.cn/shrd/fggb/content/a2021.html",
                                                      "https://www.shrd.gov.cn/shrd/fggb/content/a2022.html"}
    assert lp.pages == []  # windows are planned from the column page, once


@pytest.mark.parametrize("cfg", [
    "proxyUrl:'/truecms/messageController/getMessage.do', perPage:20, groupSize:1, totalRecord:45, "
    "ajaxParam:{columnId:'c1'}",
    'totalRecord : 45 ,\n perPage : 20 ,\n groupSize : 1 ,\n proxyUrl : "/truecms/messageController/getMessage.do" ,\n'
    ' ajaxParam : { columnId : "c1" }',
])
def test_truecms_column_config_variants(cfg):
    text = ("<div id='initData' style='display:none'><ul>" + "".join(
        f"<li><a href='/x/content/{i}.html' title='某区{2000 + i}年政府信息公开工作年度报告'>…</a></li>"
        for i in range(20))
        + "</ul></div><script>$('#msgList').jpage({" + cfg + "});</script>")
    url = "https://www.haimen.gov.cn/hmsgtj/zfxxgknb/zfxxgknb.html"
    assert families.detect(url, text) is truecms
    lp = truecms.parse_list(url, text)
    starts = [parse_qs(urlsplit(p.url).query)["startrecord"][0] for p in lp.pages]
    assert starts == ["21", "41"] and lp.total == 45
    assert all(urlsplit(p.url).path == "/truecms/messageController/getMessage.do" for p in lp.pages)


# ---------------------------------------------------------------- Epoint

def test_epoint_chain_column_script_api():
    fx = fixture("epoint")
    (script,) = epoint.parse_list(fx["column_url"], raw("mock_epoint_column.html")).pages
    assert urlsplit(script.url).path == "/js/webBuilderCommon.js"
    assert parse_qs(urlsplit(script.url).query)["categorynum"] == ["003001003"]
    (api,) = epoint.parse_list(script.url, raw("mock_epoint_script.js")).pages
    assert api.method == "POST" and api.headers["Content-Type"].startswith("application/json")
    assert urlsplit(api.url).path == "/EWB-FRONT/rest/lightfrontaction/getgovinfolist"
    assert json.loads(api.body) == {"deptcode": "", "categorynum": "003001003",
                                    "siteGuid": "7eb5f7f1-9041-43ad-8e13-8fcb82ea831a", "pageIndex": 0, "pageSize": 15}
    _, _, asked = crawl_offline("epoint")
    assert [json.loads(r.body)["pageIndex"] for r in asked[1:]] == [0, 1, 2]  # 0-based, the server capped size at 3


@pytest.mark.parametrize("js", [
    'var siteInfo = {"projectName": "/EWB-FRONT", "siteGuid": "g-1"};',
    "var siteInfo={projectName:'/EWB-FRONT',siteGuid:'g-1',siteName:'某市'}",
    "var webInfo = 1;\nvar siteInfo = {\n\tsiteGuid : \"g-1\",\n\tprojectName : \"/EWB-FRONT\",\n\tother: 'x'\n};",
])
def test_epoint_site_info_variants(js):
    url = "http://www.xz.gov.cn/js/webBuilderCommon.js?categorynum=003001003&deptcode=001"
    (api,) = epoint.parse_list(url, js).pages
    body = json.loads(api.body)
    assert (body["siteGuid"], body["categorynum"], body["deptcode"]) == ("g-1", "003001003", "001")
    assert api.url.startswith("http://www.xz.gov.cn/EWB-FRONT/rest/lightfrontaction/getgovinfolist?")


EAPI = ("http://www.xz.gov.cn/EWB-FRONT/rest/lightfrontaction/getgovinfolist?deptcode=&categorynum=003&siteGuid=g"
        "&pageIndex=0&pageSize=2")


@pytest.mark.parametrize("as_string,extra", [(False, False), (True, False), (False, True)])
def test_epoint_answer_layouts(as_string, extra):
    rows = [{"title": "某局2023年政府…", "infourl": "/zwgk/003/20240125/a.html",
             "realtitle": "某局2023年政府信息公开工作年度报告", "infodate": "2024-01-25"},
            {"infodate": "2023-01-20 09:00:00", "infourl": "/zwgk/003/20230120/b.html",
             "title": "某局2022年政府信息公开工作年度报告"}]
    custom = {"data": rows, "total": 5} if not extra else {"total": "5", "data": rows, "pagecount": 3, "x": None}
    body = {"status": {"code": 200, "text": ""},
            "custom": json.dumps(custom, ensure_ascii=False) if as_string else custom}
    lp = epoint.parse_list(EAPI, json.dumps(body, ensure_ascii=False, indent=2 if extra else None))
    assert [link.title for link in lp.links] == ["某局2023年政府信息公开工作年度报告",
                                                 "某局2022年政府信息公开工作年度报告"]
    assert [link.date for link in lp.links] == ["2024-01-25", "2023-01-20"] and lp.total == 5
    assert [json.loads(p.body)["pageIndex"] for p in lp.pages] == [1, 2]


def test_epoint_error_and_no_total():
    assert epoint.parse_list(EAPI, '{"custom":"","status":{"code":500,"text":"参数错误"}}').links == []
    rows = [{"infourl": f"/zwgk/{i}.html", "title": "t"} for i in range(2)]
    lp = epoint.parse_list(EAPI, json.dumps({"custom": {"data": rows}}))
    assert lp.total is None and [json.loads(p.body)["pageIndex"] for p in lp.pages] == [1]


# ---------------------------------------------------------------- the mocks behave like the real CMSs

def test_mocks_refuse_what_the_real_sites_refuse():
    from nianbao.devkit.portals import start_portals, stop_portals

    ps = start_portals(["truecms", "jpaas", "epoint"], n_reports=2, n_other=1, seed=640, first_host=170,
                       forms=("html",))
    tc, jp, ep = ps
    try:
        def get(url, data=None, headers=None):
            req = urllib.request.Request(url, data=data, headers=headers or {})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return r.status, r.read().decode()
            except urllib.error.HTTPError as e:
                return e.code, ""

        api = tc.base_url + "/TrueCMS/messageController/getMessage.do?startrecord=1&endrecord=2&perpage=2&callback=cb" \
            "&columnId=593f0397-04d7-44c3-8339-240a77a793ce"
        assert get(api)[0] == 404  # no Referer
        status, text = get(api, headers={"Referer": tc.column_url})
        assert status == 200 and text.startswith("cb(") and "<totalrecord>3</totalrecord>" in text
        wide = api.replace("endrecord=2", "endrecord=50")
        assert "<record>" not in get(wide, headers={"Referer": tc.column_url})[1]  # wider than the site's window
        # JPaaS: a bare pageNo is page 1 again
        (first,) = jpaas.parse_list(jp.column_url, get(jp.column_url)[1]).pages
        jp.per_page = 1
        bare = first.url.split("&paramJson=")[0] + "&pageNo=2"
        second = first.url.replace("%22pageNo%22%3A1", "%22pageNo%22%3A2")
        assert get(bare)[1] == get(first.url)[1] != get(second)[1]
        # Epoint: a form body gets no data, the JSON body does
        url = ep.base_url + "/EWB-FRONT/rest/lightfrontaction/getgovinfolist"
        guid = "7eb5f7f1-9041-43ad-8e13-8fcb82ea831a"
        assert '"code": 500' in get(url, data=f"siteGuid={guid}&categorynum=003001003".encode())[1]
        wrapped = json.dumps({"params": {"siteGuid": guid, "categorynum": "003001003", "pageIndex": 0, "pageSize": 5}})
        assert json.loads(get(url, data=wrapped.encode(), headers={"Content-Type": "application/json"})[1])[
            "custom"]["total"] == 3
    finally:
        stop_portals(ps)


@pytest.mark.parametrize("family,url", [
    ("chinatax", API), ("jpaas", UNIT), ("truecms", GM), ("epoint", EAPI),
])
@pytest.mark.parametrize("answer", ["<html><body>对不起，页面不存在</body></html>", '{"code":200,"results":{"da'])
def test_an_unreadable_api_answer_raises_for_the_spider_to_record(family, url, answer):
    with pytest.raises(ValueError):
        families.get(family).parse_list(url, answer)


def test_an_empty_column_counts_zero_and_asks_nothing_more():
    tax = chinatax.parse_list(API, '{"code":200,"results":{"data":{"total":0,"results":[]}}}')
    ewb = epoint.parse_list(EAPI, '{"custom":{"total":"0","data":[]},"status":{"code":200}}')
    assert (tax.total, tax.pages, ewb.total, ewb.pages) == (0, [], 0, [])


def test_epoint_project_name_may_be_a_full_url():
    js = 'var siteInfo = {projectName: "http://api.xz.gov.cn/EWB-FRONT/", siteGuid: "g"};'
    (api,) = epoint.parse_list("http://www.xz.gov.cn/js/webBuilderCommon.js?categorynum=003&deptcode=", js).pages
    assert api.url.startswith("http://api.xz.gov.cn/EWB-FRONT/rest/lightfrontaction/getgovinfolist?")
