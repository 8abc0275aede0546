"""Plain static sites (the fallback): pager links are real `<a>` (下一页 / numbered),
or the list sits in a same-host iframe."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html

from .base import Detail, ListPage, PageRequest, detail_with_body, links_in, stated_count

NAME = "static"
NEXT_TEXT = re.compile(r"^(下一页|下页|后一页|尾页|末页|\d{1,3}|>|»)$")


def detect(url: str, text: str) -> bool:
    return True


def parse_list(url: str, text: str) -> ListPage:
    page = ListPage(links=links_in(url, text), total=stated_count(text))
    try:
        tree = lxml.html.fromstring(text)
    except Exception:
        return page
    host = urlsplit(url).netloc
    pager = set()
    for a in tree.iter("a"):
        t = re.sub(r"\s+", "", a.text_content() or "")
        href = a.get("href") or ""
        if NEXT_TEXT.match(t) and href and not href.startswith("javascript"):
            target = urljoin(url, href)
            pager.add(target)
            if urlsplit(target).netloc == host:
                page.pages.append(PageRequest(target, via="下一页"))
    page.records = _records(url, page.links, pager)
    for fr in tree.iter("iframe"):
        src = fr.get("src")
        if src and urlsplit(urljoin(url, src)).netloc == host:
            page.pages.append(PageRequest(urljoin(url, src)))
    return page


def _records(url: str, links, pager: set) -> list[str] | None:
    """The column's entries among a page's links: those under the list page's folder
    that are not its pager (menus lead elsewhere on the site). None: none are."""
    folder = urlsplit(url).path.rsplit("/", 1)[0] + "/"
    recs = [link.url for link in links if link.url not in pager and link.url.split("#")[0] != url
            and urlsplit(link.url).netloc == urlsplit(url).netloc and urlsplit(link.url).path.startswith(folder)
            and not NEXT_TEXT.match(link.title)]
    return recs or None


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text)
