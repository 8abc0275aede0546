"""Hanweb 大汉 JPaaS (the new platform): the column page is a shell; a script tag
(`…/AuthorizedRead/unitbuild.js`) carries the API path in `url="…"` and the unit's
parameters in `queryData="{'webId':…,'pageId':…,'tplSetId':…,'tagId':…}"` (single-quoted
JSON). The list comes from GET /api-gateway/jpaas-publish-server/front/page/build/unit
?…&paramJson={"pageNo":N,"pageSize":"15"} as JSON whose `data.html` is the list
fragment, pager included. Paging lives only inside paramJson: a bare pageNo is ignored
(every page would be page 1)."""
from __future__ import annotations

import html as htmllib
import json
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from .base import Detail, ListPage, PageRequest, detail_with_body, links_in, page_size

NAME = "jpaas"
API_LIST = True
API_PATH = "/api-gateway/jpaas-publish-server/front/page/build/unit"
PAGE_SIZE = 15
_KEYS = ("webId", "pageId", "tplSetId", "tagId")
_QUERYDATA = re.compile(r"""queryData\s*=\s*(["'])(.*?)\1""", re.S)
_UNIT_URL = re.compile(r"""\burl\s*=\s*["']([^"']*jpaas-publish-server[^"']*)["']""")
_TOTAL = [re.compile(p) for p in (r"共\s*(?:<[^>]+>\s*)*(\d+)\s*(?:<[^>]+>\s*)*条",
                                  r"""data-total\s*=\s*["']?(\d+)""",
                                  r"""\btotal(?:Record|Count)?["']?\s*[:=]\s*["']?(\d+)""")]
_DATA_PAGE = re.compile(r"""data-page\s*=\s*["']?(\d{1,6})""")
_PAGER_TEXT = re.compile(r"\d{1,6}|[<>«»‹›]+|\.{2,}|…|上一?页|下一?页|首页|尾页|末页|跳转|跳至|GO|go|确定")


def detect(url: str, text: str) -> bool:
    return urlsplit(url).path.endswith(API_PATH) or ("jpaas-publish-server" in text and "queryData" in text)


def _query_data(text: str) -> dict[str, str]:
    """The unit's parameters: queryData's single-quoted JSON (or key:value pairs when it
    is not JSON at all), falling back to keys written anywhere in the page's scripts."""
    for m in _QUERYDATA.finditer(text):
        raw = htmllib.unescape(m.group(2))
        try:
            data = json.loads(raw.replace("'", '"'))
        except json.JSONDecodeError:
            data = dict(re.findall(r"""["']?(\w+)["']?\s*:\s*["']([^"']*)["']""", raw))
        if isinstance(data, dict) and all(k in data for k in ("webId", "pageId")):
            return {k: str(v) for k, v in data.items()}
    found = {}
    for k in _KEYS:
        m = re.search(r"""["']?%s["']?\s*[:=]\s*["']([^"']+)["']""" % k, text)
        if m:
            found[k] = m.group(1)
    return found if {"webId", "pageId", "tplSetId"} <= found.keys() else {}


def unit_request(origin: str, params: dict[str, str], page_no: int, size: int | str = PAGE_SIZE) -> PageRequest:
    q = {k: v for k, v in params.items() if k not in ("paramJson", "pageNo", "pageSize")}
    q.setdefault("parseType", "bulidstatic")  # sic: the platform's own spelling
    q.setdefault("pageType", "column")
    q["paramJson"] = json.dumps({"pageNo": page_no, "pageSize": str(size)}, separators=(",", ":"))
    return PageRequest(f"{origin}{API_PATH}?{urlencode(q)}")


def _fragment(text: str) -> str:
    data = json.loads(text.lstrip("\ufeff \t\r\n"))  # an error page instead of JSON raises: a gap
    inner = data.get("data") if isinstance(data, dict) else None
    if isinstance(inner, dict):
        return inner.get("html") or ""
    return inner if isinstance(inner, str) else ""


def total_in(fragment: str) -> int | None:
    for rx in _TOTAL:
        m = rx.search(fragment)
        if m:
            return int(m.group(1))
    return None


def parse_list(url: str, text: str) -> ListPage:
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    if not urlsplit(url).path.endswith(API_PATH):
        params = _query_data(text)
        if not params:
            return ListPage()
        m = _UNIT_URL.search(text)
        api = urlsplit(urljoin(url, m.group(1))) if m else None
        base = f"{api.scheme}://{api.netloc}" if api else origin
        return ListPage(pages=[unit_request(base, params, 1)])
    fragment = _fragment(text)
    # Only the records: the pager's links (javascript: ones are skipped anyway) are not entries.
    page = ListPage(links=[link for link in links_in(url, fragment) if not _PAGER_TEXT.fullmatch(link.title)],
                    total=total_in(fragment))
    asked = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    try:
        pj = json.loads(asked.get("paramJson") or "{}")
    except json.JSONDecodeError:
        pj = {}
    current = int(pj.get("pageNo") or 1)
    size = int(pj.get("pageSize") or PAGE_SIZE)
    numbers = [int(n) for n in _DATA_PAGE.findall(fragment)]
    if page.total is not None:
        last = -(-page.total // (page_size(size, len(page.links), page.total) if current == 1 else size))
    else:  # no count: the pager's highest page, else one more page while pages come back full
        last = max(numbers) if numbers else (current + 1 if len(page.links) >= size else current)
    if current == 1 or page.total is None:
        # The first answer fans out every page the column's count implies (later pages
        # would name the same ones: the spider asks once).
        for p in range(current + 1, last + 1):
            page.pages.append(unit_request(origin, asked, p, size))
    return page


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text, r'id="(zoom|Zoom|zoomcon)"|class="[^"]*article-content')
