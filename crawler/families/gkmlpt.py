"""Guangdong gkmlpt: the index page's `window._CONFIG` names SID and the category TREE;
the list is JSON (/gkmlpt/api/all/{cat}?page=N&sid=SID); the detail body is escaped
HTML inside `window._CONFIG.DETAIL`, so it is handed back as a derived body."""
from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urljoin, urlsplit

from nianbao.pipeline.page_images import article_images
from nianbao.pipeline.titles import title_year

from .base import Detail, Link, ListPage, PageRequest, attachment_links, detail_meta, norm_date

NAME = "gkmlpt"
API_LIST = True  # the column page lists nothing itself: its records come from the API it names
CATEGORY_NAME = re.compile(r"年报|年度报告")


def detect(url: str, text: str) -> bool:
    return "/gkmlpt/" in url or ("window._CONFIG" in text and "TREE" in text)


def _config(text: str) -> dict:
    m = re.search(r"window\._CONFIG\s*=\s*(\{.*?\})\s*;\s*</script>", text, re.S)
    if not m:
        return {}
    try:
        return json.loads(m.group(1))
    except json.JSONDecodeError:
        return {}


def find_category(tree: list, pattern: re.Pattern = CATEGORY_NAME) -> int | None:
    for node in tree or []:
        if pattern.search(node.get("name", "")):
            return node.get("id")
        found = find_category(node.get("children") or [], pattern)
        if found is not None:
            return found
    return None


def parse_list(url: str, text: str, category: int | None = None) -> ListPage:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        data = json.loads(stripped)
        arts = data.get("articles") or []
        links = [Link(urljoin(url, a.get("url") or a.get("post_url") or ""), a.get("title", ""),
                      norm_date(a.get("created_at") or str(a.get("display_publish_time") or ""))) for a in arts]
        total = data.get("total")
        if total is None:
            total = (data.get("classify") or {}).get("post_count")
        page = ListPage(links=links, total=int(total) if str(total).strip().isdigit() else None)
        q = parse_qs(urlsplit(url).query)
        if q.get("page", ["1"])[0] == "1" and arts:
            npages = -(-(page.total or 0) // len(arts))
            base = url.split("?")[0]
            sid = q.get("sid", [""])[0]
            page.pages = [PageRequest(f"{base}?page={p}&sid={sid}", via="gkmlpt api") for p in range(2, npages + 1)]
        return page
    cfg = _config(text)
    cat = category or find_category(cfg.get("TREE") or [])
    if cat is None or not cfg.get("SID"):
        return ListPage()
    # The column's count is the API's `total` (the tree's post_count may count what a
    # category's children hold as well: no count is better than a wrong one). A 年报
    # category split into sub-categories (one per year, often) is read whole: each
    # sub-category through the API too, its own total one part of the column's count.
    sid = cfg["SID"]
    pages = [PageRequest(urljoin(url, f"/gkmlpt/api/all/{cat}?page=1&sid={sid}"), via="gkmlpt api")]
    node = _node(cfg.get("TREE") or [], cat) or {}
    for sub in _descendants(node):
        pages.append(PageRequest(urljoin(url, f"/gkmlpt/api/all/{sub['id']}?page=1&sid={sid}"),
                                 via=f"gkmlpt api (sub-column {sub.get('name') or sub['id']})",
                                 scope=f"sub-column {sub['id']}"))
    return ListPage(pages=pages)


def _node(tree: list, cat) -> dict | None:
    for node in tree or []:
        if str(node.get("id")) == str(cat):
            return node
        found = _node(node.get("children") or [], cat)
        if found is not None:
            return found
    return None


def _descendants(node: dict) -> list[dict]:
    """The leaf sub-categories under `node` (a middle one lists what its leaves hold)."""
    out = []
    for child in node.get("children") or []:
        if child.get("id") is None:
            continue
        out.extend(_descendants(child) if child.get("children") else [child])
    return out


def parse_detail(url: str, text: str) -> Detail:
    d = detail_meta(text)
    m = re.search(r"window\._CONFIG\.DETAIL\s*=\s*(\{.*?\})\s*;\s*</script>", text, re.S)
    if m:
        try:
            detail = json.loads(m.group(1))
        except json.JSONDecodeError:
            detail = {}
        d.body_html = detail.get("content")
        d.body_is_derived = bool(d.body_html)
        d.title = detail.get("title") or d.title
        d.index_no = detail.get("identifier") or d.index_no
        d.publisher = detail.get("publisher") or d.publisher
        d.published = norm_date(detail.get("date")) or d.published
        d.report_year = title_year(d.title or "")
    d.attachments = attachment_links(url, d.body_html or text)
    d.page_images = article_images(d.body_html or text, url)
    return d
