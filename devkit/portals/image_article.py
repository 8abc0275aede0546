"""Report articles whose body is a sequence of images (form "images").

County portals publish many reports as an HTML article of photographed or scanned
pages. Each such mock article shows the report's printed pages (devkit.scan at 100 dpi,
JPEG or PNG) with a layout drawn from the report's seed, so no two look alike:
- the picture's address in `src`, or lazy-loaded (`data-src`, `data-original`,
  `original`, `_src`) with a placeholder GIF in `src`;
- each page in a <p>, a <div>, a <center>, bare, or linked to itself;
- relative (./x.jpg), root-relative (/path/x.jpg) or absolute (http://host/x.jpg) URLs,
  or the pages on another host (the portal's CDN, Portal.cdn_base);
- decorative images before, among and after the pages: a spacer GIF, a "print" icon,
  a QR code, and in the page's chrome a logo and share buttons.
The decorations are real files (the crawl fetches what the page shows as its body), so
a test can tell pages from decorations by what the parser keeps.
"""
from __future__ import annotations

import html
import io
import random

from . import content as C

LOADING = "/images/loading.gif"
DECORATIONS = {"/images/logo.png": (520, 90), "/images/qr.png": (180, 180), "/images/spacer.gif": (1, 1),
               "/images/print.png": (48, 48), "/images/share_weibo.png": (24, 24), LOADING: (32, 32)}


def layout(item) -> dict:
    rng = random.Random(item.seed or item.id)
    return {"attr": rng.choice(["src", "data-src", "data-original", "original", "_src"]),
            "wrap": rng.choice(["p", "div", "center", "bare", "link"]),
            "urls": rng.choice(["relative", "root", "absolute", "cdn"]),
            "fmt": rng.choice(["jpeg", "png"]),
            "spacer": rng.random() < 0.7, "among": rng.random() < 0.7, "qr": rng.random() < 0.7,
            "declared": rng.random() < 0.5, "caption": rng.random() < 0.5}


def page_images(item) -> list[bytes]:
    """The report's printed pages as image files (memoised on the item)."""
    key = "images"
    if key not in item._bytes:
        from nianbao.devkit.scan import Damage, as_images

        item._bytes[key] = as_images(C.report_pdf(item), layout(item)["fmt"], Damage(dpi=100, seed=item.seed or 0))
    return item._bytes[key]


def page_path(portal, item, n: int) -> str:
    folder = portal.detail_path(item).rsplit("/", 1)[0]
    ext = "jpg" if layout(item)["fmt"] == "jpeg" else "png"
    return f"{folder}/W0{item.id}_{n:02d}.{ext}"


def page_url(portal, item, n: int) -> str:
    """Where page n is fetched from: the portal, or its CDN host (layout "cdn")."""
    base = portal.cdn_base() if layout(item)["urls"] == "cdn" else portal.base_url
    return base + page_path(portal, item, n)


def markup(portal, item) -> str:
    """The article body: a line of text, the pages, the decorations."""
    lay = layout(item)
    folder = portal.detail_path(item).rsplit("/", 1)[0]

    def address(path: str) -> str:
        if lay["urls"] == "root":
            return path
        if lay["urls"] == "absolute":
            return portal.base_url + path
        if lay["urls"] == "cdn" and "/W0" in path:  # the pages on a file server, decorations at home
            return portal.cdn_base() + path
        return "./" + path[len(folder) + 1:] if path.startswith(folder + "/") else path

    def img(path: str, extra: str = "") -> str:
        if lay["attr"] == "src":
            return f'<img src="{address(path)}"{extra}>'
        return f'<img src="{LOADING}" {lay["attr"]}="{address(path)}"{extra}>'

    def wrapped(tag: str, path: str) -> str:
        w = lay["wrap"]
        if w == "bare":
            return tag
        if w == "link":
            return f'<a href="{address(path)}" target="_blank">{tag}</a>'
        if w == "center":
            return f"<center>{tag}</center>"
        return f'<{w} style="text-align: center;">{tag}</{w}>'

    parts = [f"<p>{html.escape(item.title)}</p>"]
    if lay["spacer"]:
        size = ' width="1" height="1"' if lay["declared"] else ""
        parts.append(f'<p><img src="/images/spacer.gif"{size}></p>')
    n = len(page_images(item))
    for k in range(1, n + 1):
        parts.append(wrapped(img(page_path(portal, item, k)), page_path(portal, item, k)))
        if lay["caption"]:
            parts.append(f"<p>第{k}页</p>")
        if lay["among"] and k == max(1, n // 2):
            parts.append('<p><img src="/images/print.png"></p>')  # no declared size: only its pixels tell
    if lay["qr"]:
        parts.append('<p><img src="/images/qr.png"></p><p>扫一扫在手机打开当前页</p>')
    return "".join(parts)


def chrome(page: bytes, encoding: str) -> bytes:
    """A logo in the page header and share buttons before the footer."""
    page = page.replace('<div class="header">'.encode(encoding),
                        '<div class="header"><img src="/images/logo.png" alt="">'.encode(encoding), 1)
    share = ('<div class="share">分享到：<a href="http://service.weibo.com/share/share.php">'
             '<img src="/images/share_weibo.png"></a></div><div class="footer">')
    return page.replace('<div class="footer">'.encode(encoding), share.encode(encoding), 1)


def decoration(path: str) -> tuple[bytes, str] | None:
    if path not in DECORATIONS:
        return None
    from PIL import Image, ImageDraw

    w, h = DECORATIONS[path]
    im = Image.new("RGB", (w, h), (255, 255, 255))
    d = ImageDraw.Draw(im)
    if path.endswith("qr.png"):  # a QR-like pattern of squares
        rng = random.Random(7)
        for y in range(0, h, 10):
            for x in range(0, w, 10):
                if rng.random() < 0.5:
                    d.rectangle([x, y, x + 9, y + 9], fill=(0, 0, 0))
    elif w > 4:
        d.rectangle([2, 2, w - 3, h - 3], outline=(200, 30, 30), width=3)
        d.text((6, h // 3), "LOGO" if "logo" in path else "icon", fill=(200, 30, 30))
    buf = io.BytesIO()
    fmt = "GIF" if path.endswith(".gif") else "PNG"
    im.save(buf, fmt)
    return buf.getvalue(), "image/gif" if fmt == "GIF" else "image/png"
