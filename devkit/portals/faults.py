"""Per-request faults for the mock portals: what a real portal does on a bad day.

A portal's fault table maps `(target, nth)` to a `Fault`:

    from nianbao.devkit.portals import faults as F
    p.faults[("list", None)] = F.status(500)          # every list page but the column's first
    p.faults[("detail", 1)] = F.reset()                # first request of each detail page
    p.faults[(p.detail_path(it), None)] = F.drip(0.5)  # one page, every time
    p.faults[("robots", None)] = F.status(503)

`target` is a page role — `robots`, `home`, `list1` (the column's first page), `list`
(any further list page or list API call), `detail`, `attachment` — or an exact path.
`nth` counts requests per path (1 = the first request of that path); None = every one.
A path's own entry wins over its role's. The table can be changed while the portal
serves (tests set it between crawls); `p.served_faults` lists what was injected.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fault:
    kind: str
    status: int = 200
    arg: Any = None


def status(code: int, retry_after: int | None = None) -> Fault:
    """Answer with this HTTP status and a small error page."""
    return Fault("status", code, retry_after)


def reset() -> Fault:
    """Read the request, then close the connection with a TCP RST (no answer at all)."""
    return Fault("reset")


def drip(interval: float = 0.5, limit: float = 30.0) -> Fault:
    """Send the headers, then one byte of the body every `interval` seconds (a stalled server)."""
    return Fault("drip", arg=(interval, limit))


def truncate() -> Fault:
    """Chunked answer cut off half way: the connection closes before the last chunk."""
    return Fault("truncate")


def bad_length(extra: int = 1000) -> Fault:
    """Content-Length claims `extra` bytes more than are sent, then the connection closes."""
    return Fault("bad_length", arg=extra)


def redirect(location: str, code: int = 302) -> Fault:
    """Redirect elsewhere (e.g. another host: an off-domain redirect)."""
    return Fault("redirect", code, location)


def redirect_loop() -> Fault:
    """path → path?loop=1 → path → …, for ever."""
    return Fault("redirect_loop", 302)


SOFT_404 = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>页面不存在</title></head><body>'
            '<div class="error"><h1>404</h1><p>对不起，您访问的页面不存在或已被删除！</p>'
            '<a href="/">返回首页</a></div></body></html>')


def gzipped() -> Fault:
    """The same answer, gzip-compressed with Content-Encoding: gzip, as most real portals'
    servers send it (the WARC keeps it compressed, the raw store decoded)."""
    return Fault("gzipped")


def soft404() -> Fault:
    """200 OK with an error page ("页面不存在") instead of the document."""
    return Fault("soft404")


def charset_lie(real: str, claimed: str) -> Fault:
    """Serve the page's text encoded in `real` while the header and the meta tag say `claimed`."""
    return Fault("charset", arg=(real, claimed))


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(expanded: int = 2 << 30) -> Fault:
    """~2 MB of gzip (Content-Encoding: gzip) that expand to `expanded` bytes of zeros:
    one 16 MiB member repeated (a gzip stream may hold many members; every decoder reads
    them all), so building it costs milliseconds, not a minute of deflate."""
    if expanded not in _BOMBS:
        member = gzip.compress(bytes(16 << 20), compresslevel=9, mtime=0)
        _BOMBS[expanded] = member * max(1, expanded // (16 << 20))
    return Fault("gzip_bomb", arg=expanded)


def bomb_bytes(expanded: int) -> bytes:
    return _BOMBS[expanded]


def role_of(portal, path: str) -> str:
    """Which kind of page `path` is on this portal."""
    if path == "/robots.txt":
        return "robots"
    if path in ("/", "/index.html", "/zwgk/index.html"):
        return "home"
    if path == portal.column_path:
        return "list1"
    for it in portal.column.items:
        if path == portal.detail_path(it) or path in portal.mirror_paths.get(it.id, ()):
            return "detail"
        if it.is_report and it.form not in ("html", "images") and path == portal.attachment_path(it):
            return "attachment"
        if it.form == "images" and path.startswith(portal.detail_path(it).rsplit("/", 1)[0] + "/W0"):
            return "attachment"
    return "list"
