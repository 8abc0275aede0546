"""Plain static sites (the fallback): pager links are real `<a>` (下一页 / numbered),
or the list sits in a same-host iframe."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html

from .base import Detail, ListPage, PageRequest, detail_with_body, links_in, stated_count

NAME = "static"
NEXT_TEXT = re.compile(r"^(下一页|下页|后一页|尾页|末页|\d{1,3}|>|»)$")
# Links of a pager, forwards or back: never column entries.
PAGER_TEXT = re.compile(r"^(上一页|上页|前一页|首页|第一页|下一页|下页|后一页|尾页|末页|最后一页"
                        r"|\d{1,3}|[<>«»]+|GO|跳转)$", re.I)
LIST_PAGE = re.compile(r"/(index|list|default)(_\d+)?\.\w+$")


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


def _records(url: str, links, pager: set) -> list[str]:
    """The column's entries among a page's links: not its pager (forwards or back),
    and, when some are, those under the list page's folder (menus lead elsewhere)."""
    host = urlsplit(url).netloc
    entries = [link.url for link in links if link.url not in pager and link.url.split("#")[0] != url
               and urlsplit(link.url).netloc == host and not PAGER_TEXT.match(link.title)
               and not LIST_PAGE.search(urlsplit(link.url).path)]
    folder = urlsplit(url).path.rsplit("/", 1)[0] + "/"
    inside = [u for u in entries if urlsplit(u).path.startswith(folder)]
    return inside or entries


def parse_detail(url: str, text: str) -> Detail:
    return detail_with_body(url, text)
