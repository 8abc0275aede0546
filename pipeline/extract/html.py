"""HTML page → Extracted: body text in reading order, every <table> as a Grid, meta tags.

Portals lie about encodings (a GBK page with <meta charset="utf-8">), so the declared
charset is only a first guess that must decode cleanly (see `_decode`). The national
standard for government sites puts SiteName/ColumnName/ArticleTitle/PubDate/
ContentSource in <meta>; the xxgk platforms print an 索引号/发布机构 block in the page.
"""
from __future__ import annotations

import re

import lxml.html
from lxml import etree

from nianbao.pipeline.model import Extracted, Grid, GridCell

from ._decode import decode_text

_META_NAMES = ("SiteName", "SiteDomain", "SiteIDCode", "ColumnName", "ColumnType", "ArticleTitle",
               "PubDate", "ContentSource", "Keywords", "Description", "Author")
_BLOCK = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
          "section", "article", "header", "footer", "blockquote", "pre", "dd", "dt", "dl", "hr",
          "tbody", "thead", "center", "form", "caption", "title"}
_CELL = {"td", "th"}
_DROP = "//script|//style|//noscript|//template|//head"
_XXGK_KEYS = ("索引号", "发布机构", "发文机关", "名称", "文号", "主题分类", "成文日期", "发布日期")
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)


def _declared_charset(data: bytes) -> str | None:
    m = _CHARSET.search(data[:8192])
    return m.group(1).decode("ascii", "replace") if m else None


def _clean(s: str) -> str:
    return re.sub(r"\s+", " ", s.replace("\xa0", " ").replace("\u3000", " ")).strip()


def _span(v: str | None) -> int:
    # At most 9 digits: int() refuses longer digit strings (Python's 4300-digit limit)
    # and no table is that wide. Spans past the grid's bounds are clipped, with a
    # warning, by `Grid.matrix`.
    m = re.match(r"\s*0*(\d{1,9})", v or "")
    return max(1, int(m.group(1))) if m else 1


def _text_lines(root) -> list[str]:
    """Visible text, a line per block element; table cells separated by a space.
    Iterative: junk pages nest unclosed tags thousands deep."""
    parts: list[str] = []
    for event, el in etree.iterwalk(root, events=("start", "end")):
        tag = el.tag if isinstance(el.tag, str) else ""
        if event == "start":
            if tag in _BLOCK:
                parts.append("\n")
            elif tag in _CELL:
                parts.append(" ")
            if el.text and tag:
                parts.append(el.text)
        else:
            if tag in _BLOCK:
                parts.append("\n")
            if el.tail and el is not root:
                parts.append(el.tail)
    lines = [_clean(x) for x in "".join(parts).split("\n")]
    return [x for x in lines if x]


def _grids(root) -> list[Grid]:
    """Every table's own rows and cells. Linear in the page: each row is given to its
    nearest table in one pass, and a cell's text leaves out the tables nested in it
    (they are grids of their own) — asking each table for all rows below it, or each
    cell for all text below it, costs nesting depth × page size (fuzzing found 250
    nested tables around 16,000 rows: 40 s)."""
    tables = list(root.iter("table"))
    own: dict = {t: [] for t in tables}
    for tr in root.iter("tr"):
        owner = next(tr.iterancestors("table"), None)
        if owner is not None:
            own[owner].append(tr)
    grids: list[Grid] = []
    for i, table in enumerate(tables):
        rows: list[list[GridCell]] = []
        trs = own[table]
        for r, tr in enumerate(trs):
            row = []
            for c, td in enumerate(x for x in tr if isinstance(x.tag, str) and x.tag in _CELL):
                row.append(GridCell(text=_clean(_own_text(td)), source={"table": i, "row": r, "cell": c},
                                    rowspan=min(_span(td.get("rowspan")), len(trs) - r), colspan=_span(td.get("colspan"))))
            rows.append(row)
        if any(rows):
            grids.append(Grid(rows=rows, source={"table": i}))
    return grids


def _own_text(el) -> str:
    """The element's text without the text of tables nested in it."""
    if el.find(".//table") is None:
        return el.text_content()
    out: list[str] = [el.text or ""]
    stack = [c for c in reversed(el)]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            out.append(node)
            continue
        if node.tag != "table" and isinstance(node.tag, str):
            out.append(node.text or "")
            if node.tail:
                stack.append(node.tail)
            stack.extend(reversed(list(node)))
        elif node.tail:
            out.append(node.tail)
    return "".join(out)


# A page that only points to its attachment: the figures are there, not here.
_ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|wps|xlsx?|et|ofd|zip|rar|7z)(\?.*)?$", re.I)
_ATTACHMENT_WORDS = re.compile(r"(全文|详情|具体内容|报告全文)?(详见|请见|见|查看|参见)附件|附件\s*[:：]|附件下载|相关附件|点击下载|请下载")


def _attachment_pointer(root, lines: list[str]) -> dict | None:
    """Links to files (附件 links, .pdf/.doc… hrefs) and sentences such as 「详见附件」."""
    links = []
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        text = _clean(a.text_content())
        if _ATTACHMENT_EXT.search(href.split("#")[0]) or "附件" in text:
            links.append(href or text)
    said = next((m.group(0) for line in lines if (m := _ATTACHMENT_WORDS.search(line))), None)
    if not links and not said:
        return None
    return {"links": links[:20], **({"text": said} if said else {})}


def _strip_site(title: str | None, site: str | None) -> str | None:
    """「某某局2023年…年度报告_某某市人民政府」 → the article's own title."""
    if not title:
        return title
    parts = re.split(r"\s*(?:_|\||｜| - | — |--|——)\s*", title)
    if len(parts) > 1:
        keep = [p for p in parts if p and p != site and not re.search(r"(网|门户|网站|政府信息公开)$", p)]
        if keep:
            return max(keep, key=len)
    return title


def _pick_title(article: str | None, page: str | None, candidates: list[str]) -> str | None:
    """The first title-like text that names a report; else the most official one.
    Site headers in <h1> (「某某市人民政府」) must not win over the article's title."""
    ordered = [t for t in (article, page, *candidates) if t and len(t) <= 120]
    for t in ordered:
        if "报告" in t or "年报" in t:
            return t
    return article or page or (ordered[0] if ordered else None)


def extract_html(data: bytes, url_or_name: str | None = None) -> Extracted:
    declared = _declared_charset(data)
    text, warnings = decode_text(data, declared)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str input with an encoding declaration
    try:
        # huge_tree: libxml2 otherwise drops everything below 256 levels of (unclosed) tags.
        parser = lxml.html.HTMLParser(huge_tree=True)
        root = lxml.html.document_fromstring(text or "<html></html>", parser=parser)
    except (etree.ParserError, ValueError) as e:
        return Extracted(container="html", text="", warnings=warnings + [f"unparsable HTML: {e}"])
    # libxml2 stops at a fatal error and hands back what it read so far (markup
    # nested 2,048 deep ends the page there, silently): the rest was never seen.
    fatal = [e for e in parser.error_log if e.level >= etree.ErrorLevels.FATAL]
    incomplete = (f"HTML parser stopped part-way (line {fatal[0].line}): {fatal[0].message}; "
                  "the rest of the page was not read") if fatal else None
    meta: dict[str, str] = {}
    for m in root.iter("meta"):
        name = (m.get("name") or "").strip()
        for key in _META_NAMES:
            if name.lower() == key.lower() and m.get("content"):
                meta.setdefault(key, _clean(m.get("content")))
    page_title = _clean(root.findtext(".//title") or "") or None
    for el in root.xpath(_DROP):
        el.drop_tree()
    body = root.find("body")
    lines = _text_lines(body if body is not None else root)
    for line in lines[:200]:
        m = re.match(r"^(%s)\s*[:：]\s*(.{1,100})$" % "|".join(_XXGK_KEYS), line)
        if m:
            meta.setdefault(m.group(1), m.group(2).strip())
    headings = [_clean(h.text_content()) for h in root.iter("h1", "h2", "h3")]
    title = _pick_title(meta.get("ArticleTitle"), _strip_site(page_title, meta.get("SiteName")),
                        [h for h in headings if h] + lines[:5])
    if page_title:
        meta.setdefault("html_title", page_title)
    if url_or_name:
        meta["source"] = url_or_name
    if not lines and re.search(r"[\u4e00-\u9fff]", text):
        warnings.append("HTML parsed to no visible text although the page has Chinese text (markup too deep?)")
    pointer = _attachment_pointer(root, lines)
    if pointer:
        meta["attachment_pointer"] = pointer
    return Extracted(container="html", text="\n".join(lines), tables=_grids(root), title=title,
                     meta=meta, warnings=warnings, incomplete=incomplete)
