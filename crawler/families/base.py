"""What every CMS family shares: the data a family parser returns, decoding, the
national-standard meta tags and 信息公开 block, title selection, attachment links.

Family modules are pure: (url, text) in, dataclasses out. The spider does the I/O,
so each family is unit-tested on saved pages (tests/fixtures/portals/)."""
from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import lxml.html

from nianbao.pipeline.page_images import article_images
from nianbao.pipeline.titles import title_year


@dataclass
class Link:
    url: str
    title: str
    date: str | None = None


@dataclass
class PageRequest:
    """A further list page: GET url, or POST `formdata` (a form) or `body` (raw, e.g. JSON) to url."""
    url: str
    method: str = "GET"
    formdata: dict | None = None
    fallback: list["PageRequest"] | None = None  # tried when this answers with no entries
    probe: bool = False  # a guess that may not exist: its 404 is no gap (TRS new _1 / _2 numbering)
    # The mechanism this request uses to reach records (list2.trsapi, dataproxy.jsp,
    # gkmlpt api, index_N): a column reached below its count names it in its reason.
    via: str | None = None
    # The part of the column this request lists when the CMS splits a column into
    # sub-columns or years that each state their own count ("sub-column 2020"): the
    # column's count is then the sum of its parts' (or its own, if larger). The pages
    # that follow from this one belong to the same part.
    scope: str | None = None
    body: str | None = None  # a raw request body (Epoint's JSON), sent as is with method POST
    headers: dict | None = None  # headers the CMS insists on (TrueCMS answers 404 without a Referer)


@dataclass
class ListPage:
    links: list[Link] = field(default_factory=list)
    pages: list[PageRequest] = field(default_factory=list)
    # The column's own count of its records as this page states it (TRS recordCount,
    # Hanweb totalRecord, gkmlpt total, 共N条, a JSON API's total): the crawl compares
    # what it reached with it, so half a column is never reported as a whole one.
    total: int | None = None
    # The URLs of the column's records on this page, when the family can tell them from
    # the page's chrome (menus, 热点 boxes); None: every link is a record (a JSON or XML
    # list API). The crawl counts the distinct ones it reached against `total`.
    records: list[str] | None = None
    # Why records the column counts may be out of this crawl's reach, when the family
    # knows it (a mechanism it cannot follow): said in the site's reason when short.
    rest: str | None = None

    def record_urls(self) -> list[str]:
        return list(self.records) if self.records is not None else [link.url for link in self.links]


@dataclass
class Attachment:
    url: str
    name: str
    fallback: str | None = None  # tried when url fails (TRS OLDSRC)


@dataclass
class Detail:
    title: str | None = None
    published: str | None = None
    publisher: str | None = None
    index_no: str | None = None
    report_year: int | None = None
    body_html: str | None = None  # the article body when the page hides it in a script (gkmlpt)
    body_is_derived: bool = False
    attachments: list[Attachment] = field(default_factory=list)
    # An article whose body is a sequence of images (photographed or scanned pages):
    # their URLs in page order, fetched as attachments of the publication when it
    # links no document (pipeline/page_images.py decides, for crawler and parser alike).
    page_images: list[str] = field(default_factory=list)


DOC_EXT = ("pdf", "doc", "docx", "wps", "ofd", "xls", "xlsx", "rtf", "et")
_DOC_RE = re.compile(r"\.(%s)$" % "|".join(DOC_EXT), re.I)


# ---------------------------------------------------------------- decoding
_GB = ("gbk", "gb2312", "gb_2312-80", "gb18030", "x-gbk")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_-]+)""", re.I)


def decode(body: bytes, content_type: str | None = None) -> str:
    """HTTP charset, then the meta tag, then strict UTF-8, then GB18030. GBK/GB2312
    labels decode as GB18030 (a superset: pages labelled gb2312 hold GBK characters)."""
    cands = []
    if content_type:
        m = re.search(r"charset=([\w-]+)", content_type, re.I)
        if m:
            cands.append(m.group(1))
    m = _META_CHARSET.search(body[:4096])
    if m:
        cands.append(m.group(1).decode("ascii", "ignore"))
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", "replace")
    if any(c.lower() in _GB for c in cands) and not body.isascii():
        # A page labelled GBK whose bytes are valid UTF-8 is UTF-8 (a template changed its
        # encoding, not its label): GBK text is practically never valid UTF-8, while
        # UTF-8 text often decodes as GB18030 without an error, into mojibake.
        try:
            return body.decode("utf-8")
        except UnicodeDecodeError:
            pass
    for enc in cands:
        enc = enc.lower()
        if enc in _GB:
            enc = "gb18030"
        try:
            return body.decode(enc)
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return body.decode("gb18030", "replace")


# ---------------------------------------------------------------- what a column says about itself
_NUM = r"(\d[\d,，]*)"
# "共20条", "共 20 条记录", "共有20条信息", "总记录数：20", "记录总数: 20", "共<span>20</span>条"
_STATED = [re.compile(r"共\s*有?\s*(?:<[^>]{0,80}>\s*)*" + _NUM + r"\s*(?:<[^>]{0,80}>\s*)*条"),
           re.compile(r"(?:总记录数|记录总数|总条数|信息总数)\s*[:：]?\s*(?:<[^>]{0,80}>\s*)*" + _NUM)]


def stated_count(text: str) -> int | None:
    """The record count a list page writes for people ("共20条", "总记录数：20"), or None.
    Several (a page repeating its pager): the largest, the column's rather than a page's."""
    text = re.sub(r"(?s)<!--.*?-->", " ", text)  # a template's commented-out counter says 0
    found = [int(re.sub(r"[,，]", "", m.group(1))) for rx in _STATED for m in rx.finditer(text)]
    return max(found) if found else None


def js_number(text: str, name: str) -> int | None:
    """`name` as a JavaScript property or variable holds a number: `recordCount: '20'`,
    `"recordCount":20`, `var recordCount = "20";`, `recordCount=20` (quotes of either
    kind or none, any spacing); the first one, or None."""
    m = re.search(r"""(?<![\w$])["']?%s["']?\s*[:=]\s*["']?\s*(\d+)\s*["']?""" % re.escape(name), text)
    return int(m.group(1)) if m else None


def js_string(text: str, name: str) -> str | None:
    """`name: 'value'` / `"name": "value"` / `var name = "value"`: the first value, or None."""
    m = re.search(r"""(?<![\w$])["']?%s["']?\s*[:=]\s*(["'])(.*?)\1""" % re.escape(name), text, re.S)
    return m.group(2).strip() if m else None


# ---------------------------------------------------------------- detail metadata
def norm_date(s: str | None) -> str | None:
    if not s:
        return None
    s = s.strip()
    m = re.search(r"(\d{4})\s*[-年/.]\s*(\d{1,2})\s*[-月/.]\s*(\d{1,2})", s)
    if m:
        return f"{int(m.group(1)):04d}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
    if re.fullmatch(r"\d{10}", s):
        from datetime import datetime, timezone
        return datetime.fromtimestamp(int(s), timezone.utc).strftime("%Y-%m-%d")
    return None


def meta_tags(text: str) -> dict[str, str]:
    out = {}
    for m in re.finditer(r"<meta\s+([^>]+)>", text, re.I):
        attrs = dict((k.lower(), v) for k, _, v in re.findall(r"""([\w:-]+)\s*=\s*(["'])(.*?)\2""", m.group(1)))
        if "name" in attrs and "content" in attrs:
            out.setdefault(attrs["name"], htmllib.unescape(attrs["content"]).strip())
    return out


def plain_text(text: str) -> str:
    t = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    t = re.sub(r"<[^>]+>", " ", t)
    return re.sub(r"[ \t\r\f\v\u3000\xa0]+", " ", htmllib.unescape(t))


def _labelled(text: str, label: str) -> str | None:
    m = re.search(label + r"\s*[:：]\s*([^\s：:]{1,60})", text)
    return m.group(1).strip() if m else None


def detail_meta(text: str) -> Detail:
    """Title, date, publisher, 索引号 and year from meta tags and the 信息公开 block."""
    meta = meta_tags(text)
    pt = plain_text(text)
    title = meta.get("ArticleTitle")
    if not title:
        m = re.search(r"(?is)<title>(.*?)</title>", text)
        title = htmllib.unescape(m.group(1)).strip().split("_")[0] if m else None
    published = norm_date(meta.get("PubDate")) or norm_date(_labelled(pt, "发布日期") or _labelled(pt, "发布时间")
                                                           or _labelled(pt, "成文日期"))
    publisher = _labelled(pt, "发布机构") or meta.get("ContentSource") or _labelled(pt, "信息来源")
    index_no = _labelled(pt, "索引号")
    return Detail(title=title, published=published, publisher=publisher, index_no=index_no,
                  report_year=title_year(title))


def attachment_links(base_url: str, fragment: str, *, extra_href: re.Pattern | None = None) -> list[Attachment]:
    """Links to documents: by extension, or by a family's download-script pattern.
    Attributes are read by an HTML parser, so `src=` never matches `oldsrc=`."""
    if not fragment.strip():
        return []
    try:
        tree = lxml.html.fromstring(fragment)
    except Exception:
        return []
    out: list[Attachment] = []
    seen = set()
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "mailto:", "#")):
            continue
        path = urlsplit(href).path
        if not (_DOC_RE.search(path) or (extra_href and extra_href.search(href))):
            continue
        url = urljoin(base_url, href)
        if url in seen:
            continue
        seen.add(url)
        old = a.get("oldsrc")
        name = sane_name((a.text_content() or "").strip() or path.rsplit("/", 1)[-1])
        out.append(Attachment(url=url, name=name, fallback=urljoin(base_url, old) if old else None))
    return out


def detail_with_body(url: str, text: str, body_tag: str | None = None,
                     extra_href: re.Pattern | None = None) -> Detail:
    """A detail page the usual way: its metadata, and the attachments linked from the
    article body (the first element whose opening tag matches `body_tag`). Where the
    template lost its body marker, the whole page is searched rather than nothing."""
    d = detail_meta(text)
    body = (body_between(text, body_tag) if body_tag else None) or text
    d.attachments = attachment_links(url, body, extra_href=extra_href)
    d.page_images = article_images(body, url)
    return d


def sane_name(name: str, limit: int = 120) -> str:
    """A file name safe to show and to save: no path, no control characters, bounded."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"[\x00-\x1f\x7f<>:\"|?*]", "_", name).strip(" .") or "file"
    if len(name) > limit:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: limit - len(ext) - 1] + "." + ext) if dot and len(ext) <= 5 else name[:limit]
    return name


_TRAILING_DATE = re.compile(r"[\s\[(（【]*((?:19|20)\d\d\s*[-年/.]\s*\d{1,2}\s*[-月/.]\s*\d{1,2}\s*日?)[\s\])）】]*$")
# A TRS WCM document: ./202009/t20200903_2748784.html (what a TRS column's records look like)
TRS_DOC = re.compile(r"/t\d{8}_\d+\.\w+$")


def links_in(base_url: str, fragment: str) -> list[Link]:
    """Every <a> with a title (attribute first: list items often truncate the text)."""
    try:
        tree = lxml.html.fromstring(fragment)
    except Exception:
        return []
    out = []
    for a in tree.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        title = (a.get("title") or "").strip()
        date = None
        if not title:
            # The date is often inside the anchor (`<a><div>title</div><div>2021-01-29</div></a>`):
            # it is the entry's date, not part of its title.
            title = (a.text_content() or "").strip()
            m = _TRAILING_DATE.search(title)
            if m and m.start() > 0:
                date, title = norm_date(m.group(1)), title[:m.start()].strip()
        parent = a.getparent()
        if date is None and parent is not None:
            date = norm_date(parent.text_content().replace(title, ""))
        out.append(Link(urljoin(base_url, href), re.sub(r"\s+", "", title), date))
    return out


def as_count(value) -> int | None:
    """A record count from an API answer (a number or a digit string); None when absent."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdigit() else None


def page_size(asked: int, shown: int, total: int | None) -> int:
    """Records per page as the server really pages: the size asked for, unless the first
    page came back shorter while the column counts more (the server caps the size)."""
    if total is not None and 0 < shown < asked and total > shown:
        return shown
    return asked


def first_match(pattern: str, text: str, flags=re.S) -> str | None:
    m = re.search(pattern, text, flags)
    return m.group(1) if m else None


def body_between(text: str, pattern: str) -> str | None:
    """The inner HTML of the first element whose opening tag matches `pattern`."""
    try:
        tree = lxml.html.fromstring(text)
    except Exception:
        return None
    for el in tree.iter():
        if not isinstance(el.tag, str):
            continue
        attrs = " ".join(f'{k}="{v}"' for k, v in el.attrib.items())
        if re.search(pattern, f"<{el.tag} {attrs}>"):
            return lxml.html.tostring(el, encoding="unicode")
    return None
