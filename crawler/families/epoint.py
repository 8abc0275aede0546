"""Epoint 国泰新点 WebBuilder (EWB): the column page (/…/govInfoPub.html?categorynum=…&deptcode=…)
is a shell; the site's script /js/webBuilderCommon.js declares
`var siteInfo = {projectName: "/EWB-FRONT", siteGuid: "…"}`; the list is
POST {projectName}/rest/lightfrontaction/getgovinfolist with a JSON body
{deptcode, categorynum, siteGuid, pageIndex (0-based), pageSize} answering
{"custom": {"total": N, "data": [{infourl, title, realtitle, infodate, …}]}, "status": {…}}.
Attachments are download scripts (…downloadZtbAttach.jspx?attachGuid=…), not file names.

Three hops, each a list page: column → the script (asked with the column's categorynum
and deptcode in its query string, which a static file ignores) → the API. The API's URL
is the same for every page, so each page's parameters are repeated in its query string:
the server reads the JSON body and ignores them, while the archive keeps one URL per
page and this parser knows which page an answer belongs to."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from .base import Detail, Link, ListPage, PageRequest, as_count, detail_with_body, norm_date, page_size

NAME = "epoint"
API_LIST = True
SCRIPT = "/js/webBuilderCommon.js"
API_TAIL = "/rest/lightfrontaction/getgovinfolist"
PAGE_SIZE = 15
JSON_HEADERS = {"Content-Type": "application/json;charset=UTF-8", "X-Requested-With": "XMLHttpRequest"}
_SITEINFO = re.compile(r"\bsiteInfo\s*=\s*\{(.*?)\}", re.S)
_ATTACH = re.compile(r"attachGuid=", re.I)


def detect(url: str, text: str) -> bool:
    path = urlsplit(url).path
    return (path.endswith(API_TAIL) or path.endswith(SCRIPT) or "govInfoPub" in path
            or "webBuilderCommon.js" in text or "lightfrontaction" in text)


def _site_info(js: str) -> dict[str, str]:
    m = _SITEINFO.search(js)
    if not m:
        return {}
    return {k: a or b for k, a, b in re.findall(r"""["']?(\w+)["']?\s*:\s*(?:"([^"]*)"|'([^']*)')""", m.group(1))}


def api_request(project: str, params: dict[str, str]) -> PageRequest:
    """The list API under `project` (an absolute URL: the site's origin + projectName)."""
    body = {"deptcode": params.get("deptcode", ""), "categorynum": params.get("categorynum", ""),
            "siteGuid": params.get("siteGuid", ""), "pageIndex": int(params.get("pageIndex", 0)),
            "pageSize": int(params.get("pageSize", PAGE_SIZE))}
    url = f"{project.rstrip('/')}{API_TAIL}?{urlencode({k: str(v) for k, v in body.items()})}"
    return PageRequest(url, "POST", body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
                       headers=dict(JSON_HEADERS))


def parse_list(url: str, text: str) -> ListPage:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    asked = dict(parse_qsl(parts.query, keep_blank_values=True))
    if parts.path.endswith(API_TAIL):
        return _api_page(url, origin + parts.path[: -len(API_TAIL)], asked, text)
    if parts.path.endswith(SCRIPT):
        info = _site_info(text)
        if not info.get("siteGuid"):
            return ListPage()
        project = urljoin(origin + "/", info.get("projectName") or "/EWB-FRONT")  # a path, or a full URL
        return ListPage(pages=[api_request(project, {**asked, "siteGuid": info["siteGuid"], "pageIndex": "0"})])
    # The column page: its categorynum/deptcode travel on to the script's request.
    keep = {k: asked.get(k, "") for k in ("categorynum", "deptcode")}
    if not keep["categorynum"]:
        m = re.search(r"""categorynum["']?\s*[:=]\s*["'](\d+)["']""", text, re.I)
        keep["categorynum"] = m.group(1) if m else ""
    if not keep["categorynum"]:
        return ListPage()
    m = re.search(r"""src\s*=\s*["']([^"']*webBuilderCommon\.js)[^"']*["']""", text)
    script = urljoin(url, m.group(1)) if m else origin + SCRIPT
    return ListPage(pages=[PageRequest(f"{script}?{urlencode(keep)}")])


def _api_page(url: str, project: str, asked: dict, text: str) -> ListPage:
    data = json.loads(text.lstrip("\ufeff \t\r\n"))
    custom = data.get("custom") if isinstance(data, dict) else None
    if isinstance(custom, str):  # some sites send custom as a JSON string
        custom = json.loads(custom or "{}")
    custom = custom or {}
    rows = custom.get("data") or []
    links = [Link(urljoin(url, r["infourl"]), re.sub(r"\s+", "", r.get("realtitle") or r.get("title") or ""),
                  norm_date(str(r.get("infodate") or r.get("infoDate") or "")))
             for r in rows if r.get("infourl")]
    page = ListPage(links=links, total=as_count(custom.get("total", custom.get("count"))))
    index, size = int(asked.get("pageIndex") or 0), int(asked.get("pageSize") or PAGE_SIZE)
    if page.total is not None and index == 0:
        pages = range(1, -(-page.total // page_size(size, len(rows), page.total)))
    elif page.total is None and len(rows) >= size:  # no count: one more page while pages come back full
        pages = range(index + 1, index + 2)
    else:
        pages = range(0)
    page.pages = [api_request(project, {**asked, "pageIndex": str(i)}) for i in pages]
    return page


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text, r'id="(mainContent|infocontent|zoom)"|class="[^"]*article-info',
                            extra_href=_ATTACH)
