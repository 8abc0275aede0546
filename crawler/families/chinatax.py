"""National-ministry "集约化" sites (国家税务总局 chinatax.gov.cn): the column page is a shell
whose script names the column (`var channelId = "…"`); its records come from
POST /getFileListByCodeId (form codeId, channelId, page, size, relateSubChannels) as JSON
{"code":200,"results":{"data":{"total":N,"results":[{titleHtml, url, redirectUrl,
publishedTimeStr, …}]}}}. The detail body is `#zoomcon` (older pages `#fontzoom`).

The API's URL is the same for every page, so each page's form is repeated in its query
string: the server reads the body and ignores the query, while the archive keeps one
URL per page and this parser knows which page (and column) an answer belongs to."""
from __future__ import annotations

import html as htmllib
import json
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from .base import Detail, Link, ListPage, PageRequest, as_count, detail_with_body, norm_date, page_size

NAME = "chinatax"
API_LIST = True
API_PATH = "/getFileListByCodeId"
SIZE = 20  # records per API page, as the site's own script asks
_CHANNEL = re.compile(r"""\bchannelId["']?\s*[:=]\s*["']([0-9A-Za-z_-]{8,})["']""")
_CODE = re.compile(r"""\bcodeId["']?\s*[:=]\s*["']([0-9A-Za-z_-]*)["']""")
_SUBS = re.compile(r"""\brelateSubChannels["']?\s*[:=]\s*["']?(true|false)""", re.I)


def detect(url: str, text: str) -> bool:
    if urlsplit(url).path.endswith(API_PATH):
        return True
    return "getFileListByCodeId" in text and bool(_CHANNEL.search(text))


def api_request(origin: str, form: dict[str, str]) -> PageRequest:
    return PageRequest(f"{origin}{API_PATH}?{urlencode(form)}", "POST", dict(form))


def _form(channel: str, page: int, *, code: str = "", size: int = SIZE, subs: str = "true") -> dict[str, str]:
    return {"codeId": code, "channelId": channel, "page": str(page), "size": str(size), "relateSubChannels": subs}


def _plain(title: str) -> str:
    """titleHtml may carry markup (a highlighted word, <br>): the text is the title."""
    return re.sub(r"\s+", "", htmllib.unescape(re.sub(r"<[^>]+>", "", title or "")))


def parse_list(url: str, text: str) -> ListPage:
    stripped = text.lstrip("\ufeff \t\r\n")
    if not urlsplit(url).path.endswith(API_PATH):
        # The column page: one API request for its first page, the form its script would send.
        m = _CHANNEL.search(text)
        if not m:
            return ListPage()
        code = _CODE.search(text)
        subs = _SUBS.search(text)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        form = _form(m.group(1), 1, code=code.group(1) if code else "",
                     subs=subs.group(1).lower() if subs else "true")
        return ListPage(pages=[api_request(origin, form)])
    data = json.loads(stripped)  # an error page instead of JSON raises: the spider records the gap
    body = ((data.get("results") or {}).get("data") or {}) if isinstance(data, dict) else {}
    rows = body.get("results") or []
    links = []
    for r in rows:
        target = (r.get("redirectUrl") or "").strip() or (r.get("url") or "").strip()
        if target:
            links.append(Link(urljoin(url, target), _plain(r.get("titleHtml") or r.get("title") or ""),
                              norm_date(r.get("publishedTimeStr") or r.get("publishedTime") or "")))
    page = ListPage(links=links, total=as_count(body.get("total")))
    asked = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    if asked.get("channelId") and asked.get("page", "1") == "1":
        # The first answer fans out every further page the column's own total implies.
        size = page_size(int(asked.get("size") or SIZE), len(rows), page.total)
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        if page.total is not None:
            last = -(-page.total // size)
        else:  # no count given: the next page, as long as pages come back full
            last = 2 if len(rows) >= size else 1
        for p in range(2, last + 1):
            page.pages.append(api_request(origin, {**asked, "page": str(p)}))
    elif asked.get("channelId") and page.total is None and len(rows) >= int(asked.get("size") or SIZE):
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
        page.pages.append(api_request(origin, {**asked, "page": str(int(asked["page"]) + 1)}))
    return page


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text, r'id="(zoomcon|fontzoom)"')
