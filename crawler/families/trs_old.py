"""TRS WCM old static generator: index.html, index_1.html … (0-based), the pager only
in JavaScript (`var countPage = N` or `createPageHTML(N, cur, "index", "html")`)."""
from __future__ import annotations

import re
from urllib.parse import urljoin

from .base import Detail, ListPage, PageRequest, detail_with_body, links_in

NAME = "trs_old"
_COUNT = re.compile(r"var\s+countPage\s*=\s*(\d+)")
_CREATE = re.compile(r"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["'](\w+)["']\s*,\s*["'](\w+)["']""")


def detect(url: str, text: str) -> bool:
    return bool(_COUNT.search(text) or _CREATE.search(text))


def pager(text: str) -> tuple[int, str, str]:
    """(page count, prefix, extension)."""
    m = _CREATE.search(text)
    if m:
        return int(m.group(1)), m.group(3), m.group(4)
    m = _COUNT.search(text)
    return (int(m.group(1)) if m else 1), "index", "html"


def parse_list(url: str, text: str) -> ListPage:
    page = ListPage(links=links_in(url, text))
    if not re.search(r"_\d+\.\w+$", url.split("?")[0]):  # only the first page fans out
        count, prefix, ext = pager(text)
        page.pages = [PageRequest(urljoin(url, f"{prefix}_{k}.{ext}")) for k in range(1, count)]
    return page


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text, r"class=\"[^\"]*TRS_Editor")
