"""Hanweb 大汉 JCMS: the first records hide in `<script type="text/xml">` CDATA (an HTML
parser sees none); the rest come from POST dataproxy.jsp?startrecord=&endrecord=&perpage=
with the column's ajaxParam as form; attachments via downfile.jsp (302 to /attach/)."""
from __future__ import annotations

import re
from urllib.parse import quote, urljoin

from .base import Detail, ListPage, PageRequest, detail_with_body, js_number, links_in

NAME = "hanweb"
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_JPAGE = re.compile(r"\.jpage\(\s*\{(.*?)\}\s*\)", re.S)
_DOWNFILE = re.compile(r"/module/download/downfile\.jsp\?")
GROUP = 3  # pages per request, as jpage's groupSize


def detect(url: str, text: str) -> bool:
    return bool(_JPAGE.search(text)) or "<datastore>" in text or "/art/" in url and "ZJEG_RSS" in text


def _js_object(src: str) -> dict[str, str]:
    return {k: (v1 if v1 != "" else v2).strip() for k, v1, v2 in
            re.findall(r"(\w+)\s*:\s*(?:'([^']*)'|([^,}'\s]+))", src)}


def parse_list(url: str, text: str) -> ListPage:
    records = "".join(_RECORD.findall(text))
    page = ListPage(links=links_in(url, "<ul>" + records + "</ul>") if records else [])
    m = _JPAGE.search(text)
    if not m:
        # A dataproxy.jsp answer names the column's count too (<totalrecord>).
        tm = re.search(r"<totalrecord>\s*(\d+)\s*</totalrecord>", text, re.I)
        page.total = int(tm.group(1)) if tm else None
        return page
    cfg = _js_object(m.group(1))
    params: dict[str, str] = {}
    pm = re.search(r"ajaxParam\s*:\s*(param_\w+)", m.group(1))
    if pm:
        om = re.search(r"var\s+%s\s*=\s*\{(.*?)\}" % re.escape(pm.group(1)), text, re.S)
        params = _js_object(om.group(1)) if om else {}
    else:
        om = re.search(r"ajaxParam\s*:\s*\{(.*?)\}", m.group(1), re.S)
        params = _js_object(om.group(1)) if om else {}
    total = js_number(m.group(1), "totalRecord") or 0
    page.total = js_number(m.group(1), "totalRecord")
    per = min(int(cfg.get("perPage", "15") or 15), 100)
    proxy = urljoin(url, cfg.get("proxyUrl", "/module/web/jpage/dataproxy.jsp"))
    shown = len(_RECORD.findall(text))
    form = {k: v for k, v in params.items() if k != "sourceContentType" or v}
    form.setdefault("col", "1")
    form.setdefault("appid", "1")
    step = per * GROUP
    keys = ("appid", "webid", "path", "columnid", "unitid", "permissiontype")
    get_q = "&".join(f"{k}={quote(str(form[k]), safe='/')}" for k in keys if k in form)
    for start in range(shown + 1, total + 1, step):
        end = min(start + step - 1, total)
        # Some sites ignore startrecord and honour only page=: the GET pages are the fallback.
        fallback = [PageRequest(f"{proxy}?page={p}&{get_q}", via="dataproxy.jsp")
                    for p in range((start - 1) // per + 1, (end - 1) // per + 2)]
        page.pages.append(PageRequest(f"{proxy}?startrecord={start}&endrecord={end}&perpage={per}", "POST", form,
                                      fallback=fallback, via="dataproxy.jsp"))
    return page


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text, r'id="zoom"', extra_href=_DOWNFILE)
