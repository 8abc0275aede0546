"""Articles whose body is a sequence of images: which images are the report's pages.

County agencies often publish the annual report as an HTML article whose body is
nothing but photographed or scanned pages (`<img>` tags, lazy-loaded or not, wrapped
in <p>/<div>/<center> or linked to a full-size file). The crawler fetches those images
as attachments of the publication and the parser reads them, in page order, as the
pages of one report. Both ask this module, so they agree on what a page is:

- by place (`article_images`): images inside the page's chrome (header, navigation,
  footer, share bars, logo and QR-code boxes, link buttons) are never pages; the pages
  are the longest run of body images with at most a caption's worth of text between
  them, and only when that run's container holds little text of its own (an article
  with a photo beside its text is not an image article);
- by size and shape (`not_a_page`), once the pixels are known: icons, spacer GIFs,
  QR codes, banners and other small or square images are not pages.

Pure functions of the page's text (lxml only): the crawler may import this module,
which runs no parser.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

# Where lazy-loading scripts keep the real address; `src` then holds a placeholder.
# Asked in this order, `src` last.
LAZY_ATTRS = ("data-original", "data-src", "data-lazy-src", "data-lazy", "lazy-src", "data-echo", "data-url",
              "data-actualsrc", "data-original-src", "original", "_src", "file", "src")
_IMAGE_FILE = re.compile(r"\.(jpe?g|png|gif|bmp|tiff?|webp)$", re.I)
# Elements that are page chrome by their tag or ARIA role, and container names old
# CMS templates give their chrome (class/id words, not file names).
_CHROME_TAGS = {"header", "nav", "footer", "aside", "form", "button", "select", "menu"}
_CHROME_ROLES = {"navigation", "banner", "contentinfo", "search", "complementary", "toolbar"}
_CHROME_WORDS = re.compile(r"(?:^|[\s_-])(header|footer|foot|nav|navbar|menu|banner|logo|share|bdshare|jiathis|"
                           r"toolbar|sidebar|crumb|breadcrumb|position|location|copyright|ewm|erweima|qrcode|qr)"
                           r"(?:$|[\s_-]|\d)", re.I)
_SKIP = {"script", "style", "template", "head", "title", "noscript"}
# Block containers an article body is made of; wrappers (p, center, a, span, font …) are climbed over.
_CONTAINERS = {"div", "td", "article", "section", "main", "body", "li", "dd", "table", "html"}
MAX_CAPTION = 40  # characters of text between two pages of one run (「第2页」, 「附件：」)
MAX_ARTICLE_TEXT = 400  # characters of its own text an image article's body holds at most
MIN_DECLARED = 64  # px: an image declared narrower or lower than this is an icon or a spacer
MAX_PAGES = 200  # images of one article fetched at most


def image_url(img, base_url: str) -> str | None:
    """The address of an <img>'s picture: the lazy-load attribute before `src`, the
    full-size file when the image is a link to one; None for data: URIs and the like."""
    for attr in LAZY_ATTRS:
        v = (img.get(attr) or "").strip()
        if v and not v.lower().startswith(("data:", "javascript:", "about:", "#")):
            url = urljoin(base_url, v) if base_url else v
            break
    else:
        return None
    link = _link(img)
    if link is not None:
        href = (link.get("href") or "").strip()
        if href and _IMAGE_FILE.search(urlsplit(href).path):
            url = urljoin(base_url, href) if base_url else href
    return url


def _link(el):
    for a in el.iterancestors("a"):
        return a
    return None


def _declared(img, attr: str) -> int | None:
    m = re.match(r"\s*(\d{1,6})\s*(px)?\s*$", img.get(attr) or "")
    if m:
        return int(m.group(1))
    m = re.search(rf"(?:^|;)\s*{attr}\s*:\s*(\d{{1,6}})\s*px", img.get("style") or "", re.I)
    return int(m.group(1)) if m else None


def _decorative(img, base_url: str) -> bool:
    """An icon by place or declared size: a link button (an image linking to a page, not
    to a picture: logos, share buttons), or an image declared tiny (spacers, icons)."""
    link = _link(img)
    if link is not None:
        href = (link.get("href") or "").strip()
        if href and not href.startswith(("#", "javascript:")) and not _IMAGE_FILE.search(urlsplit(href).path):
            return True
    w, h = _declared(img, "width"), _declared(img, "height")
    return (w is not None and w < MIN_DECLARED) or (h is not None and h < MIN_DECLARED)


def _root(html: str):
    try:
        return lxml.html.document_fromstring(html or "<html></html>", parser=lxml.html.HTMLParser(huge_tree=True))
    except (etree.ParserError, ValueError):
        return None


def _tokens(root):
    """The body in reading order as ("img", element) and ("text", n characters),
    chrome and scripts left out. Iterative: junk pages nest thousands deep."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, tuple):
            yield node
            continue
        if not isinstance(node.tag, str) or node.tag in _SKIP:
            if node.tail and node.tail.strip():
                yield ("text", len(re.sub(r"\s", "", node.tail)))
            continue
        if node.tag == "img":
            yield ("img", node)
        elif node.tag in _CHROME_TAGS or _chrome_here(node):
            pass  # its images are chrome; its text is not the article's either
        else:
            if node.text and node.text.strip():
                yield ("text", len(re.sub(r"\s", "", node.text)))
            if node.tail and node.tail.strip():
                stack.append(("text", len(re.sub(r"\s", "", node.tail))))
            stack.extend(reversed(list(node)))
            continue
        if node.tail and node.tail.strip():
            yield ("text", len(re.sub(r"\s", "", node.tail)))


def _chrome_here(el) -> bool:
    return ((el.get("role") or "").strip().lower() in _CHROME_ROLES
            or bool(_CHROME_WORDS.search(f"{el.get('class') or ''} {el.get('id') or ''}")))


def _runs(root, base_url: str) -> list[list]:
    """Body images grouped into runs: images with at most a caption between them."""
    runs: list[list] = []
    cur: list = []
    gap = 0
    for kind, v in _tokens(root):
        if kind == "text":
            gap += v
            continue
        if _decorative(v, base_url) or image_url(v, base_url) is None:
            continue
        if cur and gap > MAX_CAPTION:
            runs.append(cur)
            cur = []
        cur.append(v)
        gap = 0
    if cur:
        runs.append(cur)
    return runs


def _container(imgs: list):
    """The block element holding a run: their common ancestor, climbed past wrappers
    (a lone image's <p>, <center>, <a>) to the article's own block."""
    chains = [list(reversed([i, *i.iterancestors()])) for i in imgs]
    common = None
    for level in zip(*chains):
        if all(x is level[0] for x in level):
            common = level[0]
        else:
            break
    el = common if common is not None else imgs[0].getparent()
    while el is not None and (el.tag not in _CONTAINERS or el in imgs):
        el = el.getparent()
    return el


def _own_text(el) -> int:
    n = 0
    for kind, v in _tokens(el):
        if kind == "text":
            n += v
    return n


def article_images(html: str, base_url: str) -> list[str]:
    """The page images of an article whose body is a sequence of images, in page order
    (absolute URLs, each once); [] when the page is not such an article."""
    root = _root(html)
    if root is None:
        return []
    body = root.find("body")
    runs = _runs(body if body is not None else root, base_url)
    if not runs:
        return []
    run = max(runs, key=len)  # the first of the longest
    box = _container(run)
    if box is not None and _own_text(box) > MAX_ARTICLE_TEXT:
        return []  # a text article with pictures: its text is the report
    out: list[str] = []
    for img in run:
        url = image_url(img, base_url)
        if url and url not in out and urlsplit(url).scheme in ("http", "https", ""):
            out.append(url)
    return out[:MAX_PAGES]


def image_order(html: str, base_url: str) -> dict[str, int]:
    """Every picture the page shows (chrome included), by address → its place in the
    page: the order fetched images are read in when the crawler chose them (a site's
    `body_css` may widen the choice)."""
    root = _root(html)
    if root is None:
        return {}
    out: dict[str, int] = {}
    for img in root.iter("img"):
        url = image_url(img, base_url)
        if url and url not in out:
            out[url] = len(out)
    return out


def not_a_page(width: int, height: int) -> str | None:
    """Why an image of this size is not a page of a report (None: it may be one). A
    page, scanned or photographed, portrait or landscape, is a few hundred pixels on
    its short side at least and about 1.4 times as long as it is wide; icons, spacers
    and QR codes are small or square, banners and dividers long and thin."""
    short, long_ = min(width, height), max(width, height)
    if short < 300:
        return f"{width}×{height} px: too small for a page (an icon, a spacer or a QR code)"
    ratio = long_ / short
    if ratio < 1.15:
        return f"{width}×{height} px: square, not the shape of a page (a QR code or a logo)"
    if ratio > 3.0:
        return f"{width}×{height} px: {ratio:.1f} times as long as wide, not one page (a banner or a long image)"
    return None
