"""TRS WCM old static generator: index.html, index_1.html … (0-based), the pager only
in JavaScript (`var countPage = N` or `createPageHTML(N, cur, "index", "html")`).

The 动静结合 ("static and dynamic") pager of newer TRS sites (Fujian's portals among
them): the generator writes only the first `maxStaticIndex + 1` pages as files
(index.htm, index_1.htm …); the rest of the column is served by a list API the page
loads through `list2.trsapi`, with the channel id (`chnlid`), the page size (`prepage`)
and the column's record count (`recordCount`) in the page's configuration:

    require(['list2.trsapi'], …); listModel({chnlid: '12345', maxStaticIndex: 1,
        url: '/trsapi/list2', pagebar: {prepage: 5, recordCount: '20'}})

Reading the static pages alone reaches `(maxStaticIndex + 1) * prepage` records at
most: the older ones are asked of the API, page by page (1-based), as the page's own
script does. The API's address is the configuration's `url`/`apiUrl` when it names
one, else `/list2.trsapi` beside the site root; it answers JSON: `recordCount` and a
list of records (`data`, `list` or `datas`: title, url, time)."""
from __future__ import annotations

import json
import re
from urllib.parse import urljoin, urlsplit

from .base import (TRS_DOC, Detail, Link, ListPage, PageRequest, detail_with_body, js_number, js_string,
                   links_in, norm_date, stated_count)

NAME = "trs_old"
API = "list2.trsapi"
_COUNT = re.compile(r"var\s+countPage\s*=\s*(\d+)")
_CREATE = re.compile(r"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["'](\w+)["']\s*,\s*["'](\w+)["']""")
_DYNAMIC = re.compile(r"maxStaticIndex|list2\.trsapi")
_PAGED = re.compile(r"_\d+\.\w+$")


def detect(url: str, text: str) -> bool:
    return bool(_COUNT.search(text) or _CREATE.search(text) or _DYNAMIC.search(text))


def pager(text: str) -> tuple[int, str, str]:
    """(page count, prefix, extension)."""
    m = _CREATE.search(text)
    if m:
        return int(m.group(1)), m.group(3), m.group(4)
    m = _COUNT.search(text)
    return (int(m.group(1)) if m else 1), "index", "html"


def column_total(text: str) -> int | None:
    """The record count the column states: `recordCount` (动静结合 pager), `countnum`
    (Handan's old pager), else the "共N条" a page writes for its readers."""
    for name in ("recordCount", "countnum", "totalRecord"):
        n = js_number(text, name)
        if n is not None:
            return n
    return stated_count(text)


def _records(links: list[Link]) -> list[str] | None:
    """The column's documents among a page's links (a TRS list page also links its
    menus and news boxes); None when none look like TRS documents (then all count)."""
    docs = [link.url for link in links if TRS_DOC.search(urlsplit(link.url).path)]
    return docs or None


def parse_list(url: str, text: str) -> ListPage:
    if text.lstrip().startswith(("{", "[")):
        return _api_page(url, text)
    links = links_in(url, text)
    page = ListPage(links=links, total=column_total(text), records=_records(links))
    path = urlsplit(url).path
    if _PAGED.search(path):  # only the first page fans out
        return page
    if _DYNAMIC.search(text):
        return _dynamic(url, text, page)
    count, prefix, ext = pager(text)
    page.pages = [PageRequest(urljoin(url, f"{prefix}_{k}.{ext}"), via="index_N") for k in range(1, count)]
    return page


def _dynamic(url: str, text: str, page: ListPage) -> ListPage:
    path = urlsplit(url).path
    name = path.rsplit("/", 1)[-1] or "index.html"
    prefix, _, ext = name.rpartition(".") if "." in name else ("index", ".", "html")
    static = js_number(text, "maxStaticIndex")
    static = 0 if static is None else static
    # The static files: index_1 … index_{maxStaticIndex} (some sites write them all into
    # the first page; a missing one is no gap, the count will tell).
    page.pages = [PageRequest(urljoin(url, f"{prefix}_{k}.{ext}"), probe=True, via="index_N")
                  for k in range(1, static + 1)]
    per = js_number(text, "prepage") or js_number(text, "pageSize") or len(page.record_urls()) or 10
    total = page.total
    chnlid = js_string(text, "chnlid") or str(js_number(text, "chnlid") or "")
    if total is None or not chnlid:
        page.rest = f"older records only behind {API} (no chnlid or recordCount on the page)"
        return page
    api = next((u for u in (js_string(text, "apiUrl"), js_string(text, "url")) if u and re.search(r"trsapi|list2", u)),
               "/" + API)
    npages = -(-total // per)
    for p in range(static + 2, npages + 1):
        page.pages.append(PageRequest(urljoin(url, f"{api}?chnlid={chnlid}&page={p}&prepage={per}"), via=API))
    return page


def _api_page(url: str, text: str) -> ListPage:
    """One page of the 动静结合 list API (JSON)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return ListPage()
    rows = data if isinstance(data, list) else next(
        (data[k] for k in ("data", "list", "datas", "docs") if isinstance(data.get(k), list)), [])
    links = []
    for r in rows:
        if not isinstance(r, dict):
            continue
        href = r.get("url") or r.get("docpuburl") or r.get("link") or ""
        if not href:
            continue
        title = r.get("title") or r.get("doctitle") or ""
        date = norm_date(str(r.get("time") or r.get("docreltime") or r.get("pubDate") or ""))
        links.append(Link(urljoin(url, href), re.sub(r"\s+", "", title), date))
    total = None
    if isinstance(data, dict):
        for k in ("recordCount", "total", "totalRecord"):
            if str(data.get(k, "")).strip().isdigit():
                total = int(str(data[k]).strip())
                break
    return ListPage(links=links, total=total)


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text, r"class=\"[^\"]*TRS_Editor")
