"""TrueCMS (南通 / 上海人大 sites): the column page renders its first records into a
hidden `#initData` list and configures a jQuery jpage pager with the column's own
`totalRecord`, `perPage`, `groupSize`, `proxyUrl` (…/TrueCMS/messageController/getMessage.do,
`/truecms/` on some sites) and `ajaxParam: {columnId: '…'}`. Further records come from
GET getMessage.do?startrecord=&endrecord=&perpage=&columnId=&callback=NAME as JSONP
NAME({"result":"<datastore><totalrecord>N</totalrecord><recordset><record><![CDATA[<li>…]]>…"}).
The API answers 404 without a Referer, and a window wider than the site's own
(perPage × groupSize) comes back empty on some sites: ask exactly as the page would."""
from __future__ import annotations

import json
import re
from urllib.parse import urlencode, urljoin, urlsplit

from .base import Detail, ListPage, PageRequest, detail_with_body, links_in

NAME = "truecms"
API_LIST = True
CALLBACK = "jsonpCallback"
_API = re.compile(r"messageController/getMessage\.do", re.I)
_JPAGE = re.compile(r"\.jpage\(\s*\{(.*?)\}\s*\)\s*;?", re.S)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_JSONP = re.compile(r"^\s*[\w$.]*\s*\(\s*(.*?)\s*\)\s*;?\s*$", re.S)


def detect(url: str, text: str) -> bool:
    return bool(_API.search(urlsplit(url).path)) or bool(_API.search(text) and _JPAGE.search(text))


def _option(cfg: str, key: str) -> str | None:
    m = re.search(r"""\b%s\s*:\s*(?:'([^']*)'|"([^"]*)"|([^,}\s]+))""" % key, cfg)
    if not m:
        return None
    return next(g for g in m.groups() if g is not None).strip()


def _init_data(text: str) -> str:
    """The first records: the hidden #initData block (a <ul> per page group)."""
    m = re.search(r"""<(div|ul)[^>]*\bid\s*=\s*["']initData["'][^>]*>""", text)
    if not m:
        return ""
    end = text.find("<script", m.end())
    return text[m.end(): end if end > 0 else None]


def payload(text: str) -> str:
    """The datastore XML inside the JSONP (any callback name) or plain JSON answer."""
    m = _JSONP.match(text)
    inner = m.group(1) if m and not text.lstrip().startswith("{") else text
    data = json.loads(inner)
    return data.get("result") or "" if isinstance(data, dict) else ""


def parse_list(url: str, text: str) -> ListPage:
    if _API.search(urlsplit(url).path):
        xml = payload(text)
        total = re.search(r"<totalrecord>\s*(\d+)\s*</totalrecord>", xml)
        records = "".join(_RECORD.findall(xml))
        return ListPage(links=links_in(url, "<ul>" + records + "</ul>") if records else [],
                        total=int(total.group(1)) if total else None)
    m = _JPAGE.search(text)
    shown = _init_data(text)
    page = ListPage(links=links_in(url, shown) if shown.strip() else [])
    if not m:
        return page
    cfg = m.group(1)
    column = _option(cfg, "columnId")
    total = _option(cfg, "totalRecord")
    page.total = int(total) if total and total.isdigit() else None
    if not column or page.total is None:
        return page
    per = int(_option(cfg, "perPage") or 10)
    group = int(_option(cfg, "groupSize") or 3)
    api = urljoin(url, _option(cfg, "proxyUrl") or "/TrueCMS/messageController/getMessage.do")
    step = per * group
    for start in range(len(page.links) + 1, page.total + 1, step):
        q = {"startrecord": start, "endrecord": start + step - 1, "perpage": per, "columnId": column,
             "callback": CALLBACK}
        page.pages.append(PageRequest(f"{api}?{urlencode(q)}", headers={"Referer": url}))
    return page


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text, r'id="(zoom|Zoom|content|con)"|class="[^"]*(article|content)')
