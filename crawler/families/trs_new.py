"""TRS new template: list.shtml, list_N.shtml, pager `createPageHTML('page_div', total,
cur, 'list', 'shtml', records)`. Sites number the extra pages from _1 or from _2, so
both are requested (a missing page is a 404, not an error)."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .base import TRS_DOC, Detail, ListPage, PageRequest, detail_with_body, links_in, stated_count

NAME = "trs_new"
_CREATE = re.compile(r"""createPageHTML\(\s*['"][\w-]+['"]\s*,\s*['"]?(\d+)['"]?\s*,\s*['"]?(\d+)['"]?\s*,"""
                     r"""\s*['"](\w+)['"]\s*,\s*['"](\w+)['"](?:\s*,\s*['"]?(\d+)['"]?)?""")


def detect(url: str, text: str) -> bool:
    return bool(_CREATE.search(text)) or "trs_editor_view" in text


def parse_list(url: str, text: str) -> ListPage:
    links = links_in(url, text)
    m = _CREATE.search(text)
    # The pager's last argument is the column's record count; else the "共N条" it writes.
    total = int(m.group(5)) if m and m.group(5) else stated_count(text)
    docs = [link.url for link in links if TRS_DOC.search(urlsplit(link.url).path)]
    page = ListPage(links=links, total=total, records=docs or None)
    if m and not re.search(r"_\d+\.\w+$", url.split("?")[0]):
        npages, prefix, ext = int(m.group(1)), m.group(3), m.group(4)
        # _1 exists only when numbering starts at _1, _{npages} only when it starts at _2.
        page.pages = [PageRequest(urljoin(url, f"{prefix}_{k}.{ext}"), probe=k in (1, npages), via=f"{prefix}_N.{ext}")
                      for k in range(1, npages + 1)]
    return page


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text, r"class=\"[^\"]*(trs_editor_view|TRS_UEDITOR|TRS_Editor)")
