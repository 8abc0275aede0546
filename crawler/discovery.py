"""Find a portal's 年报 column from its home or 政府信息公开 page: by link text
(政府信息公开年报, 信息公开年报, 年度报告…) and path keywords (xxgknb, zfxxgknb,
zfxxgkndbg). Pure functions; the spider and `nianbao sites add` do the fetching."""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html

from nianbao.pipeline.titles import is_report_title

COLUMN_TEXT = [("政府信息公开工作年度报告", 10), ("政府信息公开年度报告", 10), ("政府信息公开年报", 10),
               ("信息公开年报", 8), ("信息公开年度报告", 8), ("年度报告", 5), ("年报", 4)]
COLUMN_PATH = re.compile(r"(zfxxgkndbg|zfxxgknb|xxgknb|xxgkndbg|gknb|ndbg)", re.I)
XXGK_TEXT = re.compile(r"政府信息公开|信息公开|政务公开")
XXGK_PATH = re.compile(r"(zfxxgk|xxgk|zwgk|gkml)", re.I)
NOT_COLUMN = re.compile(r"20\d\d|通知|指南|制度")  # a single report or a notice, not the column


def _anchors(url: str, text: str):
    try:
        tree = lxml.html.fromstring(text)
    except Exception:
        return
    host = urlsplit(url).hostname
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        target = urljoin(url, href)
        if urlsplit(target).hostname != host:
            continue
        yield target, re.sub(r"\s+", "", a.get("title") or a.text_content() or "")


def column_score(url: str, label: str) -> int:
    score = 0
    for words, w in COLUMN_TEXT:
        if words in label:
            score = max(score, w)
            break
    if score and NOT_COLUMN.search(label):
        return 0
    if COLUMN_PATH.search(urlsplit(url).path):
        score += 6
    return score


def find_column(url: str, text: str) -> str | None:
    """The best 年报 column link on this page, or None."""
    best = max(((column_score(u, t), u) for u, t in _anchors(url, text)), default=(0, None))
    return best[1] if best[0] >= 8 else None


def find_xxgk(url: str, text: str) -> list[str]:
    """Links to 政府信息公开 pages, most promising first (where the 年报 column lives)."""
    out = []
    for u, t in _anchors(url, text):
        s = (2 if XXGK_TEXT.search(t) else 0) + (1 if XXGK_PATH.search(urlsplit(u).path) else 0)
        if s and u not in (x for _, x in out):
            out.append((s, u))
    return [u for _, u in sorted(out, key=lambda x: -x[0])]


def is_column(url: str, text: str) -> bool:
    """Is this page itself a 年报 column? Its family's list parser finds report entries
    (a CMS list page hides its records in scripts; gkmlpt's and other API families' in an API it names)."""
    from . import families
    from .families.base import links_in

    fam = families.detect(url, text)
    try:
        page = fam.parse_list(url, text) if fam is not families.static else None
    except Exception:
        return False
    if page is not None and page.pages and getattr(fam, "API_LIST", False):  # the list is behind an API it names
        return True
    links = page.links if page is not None else links_in(url, text)
    entries = sum(is_report_title(link.title) for link in links)
    # One report title on a page whose path does not say 年报 is a portal's news box.
    return entries >= 2 or (entries == 1 and bool(COLUMN_PATH.search(urlsplit(url).path)))


def column_on(url: str, text: str) -> str | None:
    """The 年报 column this page is or links to: the page itself when it lists reports
    (a column's side menu links to other columns), else its best column link."""
    return url if is_column(url, text) else find_column(url, text)
