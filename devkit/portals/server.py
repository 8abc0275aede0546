"""HTTP machinery shared by every mock portal: one ThreadingHTTPServer per portal on
its own 127.0.0.N host, per-response delay, conditional GET (ETag/Last-Modified →
304), robots.txt variants and anti-bot walls. Families (trs_old.py, …) only say
which paths exist and what their bytes are."""
from __future__ import annotations

import gzip
import html
import re
import socket
import struct
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from . import content as C
from . import faults as F
from . import image_article

ROBOTS = {
    "none": None,  # 404, like most government sites
    "admin": "User-agent: *\nDisallow: /admin/\nDisallow: /manage/\n",
    "all": "User-agent: *\nDisallow: /\n",
    "403": 403,
}


@dataclass
class Resp:
    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    conditional: bool = True  # documents (not API answers) carry ETag/Last-Modified


def html_resp(text: str, *, encoding: str = "utf-8", charset_header: bool = True, status: int = 200) -> Resp:
    ctype = f"text/html; charset={encoding}" if charset_header else "text/html"
    return Resp(status, text.encode(encoding, "xmlcharrefreplace"), {"Content-Type": ctype})


def not_found() -> Resp:
    return Resp(404, "<html><body><h1>404 页面不存在</h1></body></html>".encode(), {"Content-Type": "text/html; charset=utf-8"},
                conditional=False)


def wall_resp(kind: str) -> Resp:
    """What 瑞数 / 加速乐 / WZWS answer to a client without a browser."""
    if kind == "rs":
        body = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">'
                '<script type="text/javascript" charset="utf-8" id="9DhefwqGPrzGxEp9hPaoag">$_ts=window[\'$_ts\'];'
                'if(!$_ts)$_ts=window[\'$_ts\']={};$_ts.nsd=39127;$_ts.cd="qEcrrpAlcaGqhqrr";</script>'
                '<script type="text/javascript" r=\'m\' src="/4QbVtADbnLVIc/c.FxJzG50F.dfe1675.js"></script>'
                '</head><body></body></html>')
        return Resp(412, body.encode(), {"Content-Type": "text/html; charset=utf-8",
                                         "Set-Cookie": "FSSBBIl1UgzbN7NS=5Rx8cOlhYjEkbXWAO; Path=/; HttpOnly"}, False)
    if kind == "jsl":
        body = ("<script>document.cookie=('_')+('_')+('j')+('s')+('l')+('_')+('c')+('l')+('e')+('a')+('r')+('a')+"
                "('n')+('c')+('e')+('=')+('1732600000.123|0|')+('abcdEFGH')+';max-age=3600;path=/';"
                "location.href=location.pathname+location.search</script>")
        return Resp(521, body.encode(), {"Content-Type": "text/html",
                                         "Set-Cookie": "__jsluid_h=4e2b1f0c0b5a; max-age=31536000; path=/; HttpOnly"}, False)
    if kind == "wzws":
        return Resp(307, b"", {"Location": "/WZWSREL3p4Z2svenZ4Z2tuYi8=?wzwschallenge=V1pXU19DT05GSVJNX1BSRUZJWF9MQUJFTA==",
                               "Set-Cookie": "wzws_cid=7b9bd3c2e2a1f; path=/; HttpOnly"}, False)
    raise ValueError(kind)


class Portal:
    """One mock site. Subclasses define `family`, `column_url` and `route()`."""

    family = "base"
    encoding = "utf-8"
    charset_header = True
    column_path = "/"

    def __init__(self, name: str, column: C.Column, *, host: str, port: int = 0, delay: float = 0.0,
                 robots: str = "none", wall: str | None = None, site_title: str | None = None):
        self.name, self.column, self.host, self.delay = name, column, host, delay
        self.robots, self.wall = robots, wall
        self.site_title = site_title or f"{column.region}人民政府"
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status) for tests
        self.user_agents: set[str] = set()
        self.times: list[float] = []  # monotonic time each answer went out (benchmarks)
        self.starts: list[float] = []  # monotonic time each request arrived (politeness tests)
        self.inflight = self.max_inflight = 0  # concurrent requests being answered (politeness tests)
        self.quirks: set[str] = set()  # family variants: "from_2" (trs_new), "one_page" (gkmlpt), "page_only" (hanweb),
        # "create_page", "dynamic" (TRS 动静结合 pager) and "api_empty" (trs_old)
        self.soft404 = False  # the first attachment answers 200 with an HTML error page (magic-bytes test)
        self.flaky = 0  # answer the first `flaky` requests of every detail page 503 (retry tests)
        self.faults: dict[tuple[str, int | None], F.Fault] = {}  # per-request faults (faults.py)
        self.served_faults: list[tuple[str, str]] = []  # (path, fault kind) injected so far
        self.mirror_paths: dict[int, list[str]] = {}  # item id → further paths serving its detail page
        self._rechromed: set[str] = set()  # mirror paths whose page chrome differs
        self._tries: dict[str, int] = {}
        self._seen: dict[str, int] = {}  # requests per path, for the fault table's nth
        self._lock = threading.Lock()
        self._local = threading.local()  # the request being answered, per server thread (headers, raw body)
        self._server = _Server((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"portal-{name}", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ public API
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def column_url(self) -> str:
        return self.base_url + self.column_path

    @property
    def home_url(self) -> str:
        return self.base_url + "/"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if getattr(self, "_cdn", None) is not None:
            self._cdn.shutdown()
            self._cdn.server_close()

    def cdn_base(self) -> str:
        """A second host serving the portal's files, as a CDN or file server does (started
        when first asked: 127.0.0.(N+100), an ephemeral port)."""
        with self._lock:
            if getattr(self, "_cdn", None) is None:
                a, b, c, d = self.host.split(".")
                self._cdn = _Server((f"{a}.{b}.{c}.{(int(d) + 100) % 254 or 1}", 0), _handler_for(self))
                self._cdn.daemon_threads = True
                threading.Thread(target=self._cdn.serve_forever, name=f"cdn-{self.name}", daemon=True).start()
            host, port = self._cdn.server_address[:2]
        return f"http://{host}:{port}"

    def reports(self) -> list[C.Item]:
        return [it for it in self.column.items if it.is_report]

    def expected_reports(self) -> list[dict]:
        """One dict per report publication: what a perfect crawl + parse finds."""
        from nianbao.devkit import generate
        out = []
        for it in self.reports():
            out.append({"url": self.base_url + self.detail_path(it), "title": it.title, "agency": it.spec.agency,
                        "report_year": it.spec.report_year, "form": it.form, "published": it.date,
                        "publisher": it.publisher, "index_no": it.index_no,
                        "attachment_url": (self.base_url + self.attachment_path(it))
                        if it.form not in ("html", "images") else None,
                        "page_images": [image_article.page_url(self, it, k)
                                        for k in range(1, len(image_article.page_images(it)) + 1)]
                        if it.form == "images" else None,
                        "cells": generate.expected_cells(it.spec),
                        "status": "figures_inconsistent" if it.spec.broken_rules else "ok"})
        return out

    def site_config(self) -> dict:
        """The crawler/sites/*.yaml entry for this portal."""
        return {"name": self.name, "agency": self.site_title, "region": self.column.region,
                "start_url": self.column_url, "family": self.family}

    def fault_for(self, path: str) -> F.Fault | None:
        """The fault the table holds for this request (counted per path), if any."""
        with self._lock:
            n = self._seen[path] = self._seen.get(path, 0) + 1
        if not self.faults:
            return None
        role = F.role_of(self, path)
        for key in ((path, n), (path, None), (role, n), (role, None)):
            if key in self.faults:
                with self._lock:
                    self.served_faults.append((path, self.faults[key].kind))
                return self.faults[key]
        return None

    def duplicate(self, item: C.Item, path: str, *, same_bytes: bool = True) -> None:
        """Publish the same report at a second path too: the same bytes, or (same_bytes
        False) the same page in another column's chrome, as a portal listing one report
        under two columns does."""
        self.mirror_paths.setdefault(item.id, []).append(path)
        if not same_bytes:
            self._rechromed.add(path)

    def change(self, item: C.Item) -> None:
        """Publish a corrected version of an HTML report: new bytes at the same URL."""
        item.version += 1

    def request_header(self, name: str) -> str | None:
        """A header of the request being answered (TrueCMS checks the Referer)."""
        headers = getattr(self._local, "headers", None)
        return headers.get(name) if headers is not None else None

    def request_body(self) -> str:
        """The raw body of the request being answered (Epoint's JSON is no form)."""
        return getattr(self._local, "body", "")

    # ------------------------------------------------------------ to override
    def detail_path(self, item: C.Item) -> str:
        raise NotImplementedError

    def attachment_path(self, item: C.Item) -> str:
        raise NotImplementedError

    def route(self, method: str, path: str, query: dict, form: dict) -> Resp | None:
        raise NotImplementedError

    # ------------------------------------------------------------ shared pages
    def route_paged(self, path: str, pages: list, first: str, stem: str, ext: str, offset: int = 0) -> Resp | None:
        """A static column paged as `first`, `{stem}_N.{ext}`, … (the TRS-style pagers),
        plus its detail pages. `offset` 1: the site numbers its second page _2."""
        k = 0 if path == first else None
        m = re.fullmatch(re.escape(stem) + r"_(\d+)\." + re.escape(ext), path)
        if m:
            k = int(m.group(1)) - offset
            if k < 1:
                return None
        if k is not None:
            return self.list_page(pages[k], k, len(pages)) if k < len(pages) else None
        for it in self.column.items:
            if path == self.detail_path(it):
                return self.detail(it)
        return None

    def handle(self, method: str, path: str, query: dict, form: dict) -> Resp:
        if self.wall:
            return wall_resp(self.wall)
        if self.flaky and any(path == self.detail_path(it) for it in self.column.items):
            with self._lock:
                n = self._tries[path] = self._tries.get(path, 0) + 1
            if n <= self.flaky:
                return Resp(503, b"Service Temporarily Unavailable", {"Content-Type": "text/plain", "Retry-After": "1"}, False)
        if path == "/robots.txt":
            rule = ROBOTS[self.robots]
            if rule is None:
                return not_found()
            if rule == 403:
                return Resp(403, b"Forbidden", {"Content-Type": "text/plain"}, False)
            return Resp(200, rule.encode(), {"Content-Type": "text/plain"}, False)
        if path in ("/", "/index.html"):
            return self.page("首页", '<ul class="nav"><li><a href="/">首页</a></li><li><a href="/news/">新闻动态</a></li>'
                                   '<li><a href="/zwgk/index.html">政府信息公开</a></li><li><a href="/hdjl/">互动交流</a></li></ul>')
        if path == "/zwgk/index.html":
            return self.page("政府信息公开", '<div class="xxgk-nav"><a href="/zwgk/zn.html">政府信息公开指南</a>'
                                         '<a href="/zwgk/zd.html">政府信息公开制度</a>'
                                         f'<a href="{self.column_path}">政府信息公开年报</a>'
                                         '<a href="/zwgk/fdzdgknr.html">法定主动公开内容</a></div>')
        for it in self.column.items:
            if path in self.mirror_paths.get(it.id, ()):
                resp = self.detail(it)
                if path in self._rechromed:
                    crumb = '<div class="crumb">当前位置：首页 &gt; 通知公告</div></body>'.encode(self.encoding)
                    resp.body = resp.body.replace(b"</body>", crumb, 1)
                return resp
            if it.form == "images" and path.startswith(self.detail_path(it).rsplit("/", 1)[0] + "/W0"):
                pages = image_article.page_images(it)
                for k, data in enumerate(pages, 1):
                    if path == image_article.page_path(self, it, k):
                        ctype = "image/jpeg" if path.endswith(".jpg") else "image/png"
                        return Resp(200, data, {"Content-Type": ctype})
            if it.is_report and it.form not in ("html", "images") and path == self.attachment_path(it):
                if self.soft404 and it is next(x for x in self.reports() if x.form != "html"):
                    return html_resp("<html><head><title>提示信息</title></head><body>对不起，您访问的文件不存在或已被删除！</body></html>")
                return self.attachment(it)
        deco = image_article.decoration(path)
        if deco is not None:
            return Resp(200, deco[0], {"Content-Type": deco[1]})
        resp = self.route(method, path, query, form)
        if resp is not None and any(it.form == "images" and path == self.detail_path(it) for it in self.column.items):
            resp.body = image_article.chrome(resp.body, self.encoding)  # a logo above, share buttons below
        return resp or not_found()

    def page(self, title: str, body: str, head: str = "") -> Resp:
        text = (f'<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset={self.meta_charset()}">'
                f'<title>{html.escape(title)}_{self.site_title}</title>'
                f'<meta name="SiteName" content="{self.site_title}"><meta name="SiteDomain" content="{self.host}">'
                f'<meta name="SiteIDCode" content="{1100000000 + sum(map(ord, self.name)) % 99999}">{head}</head>'
                f'<body><div class="header">{self.site_title}</div>{body}'
                f'<div class="footer">网站标识码：{1100000000 + sum(map(ord, self.name)) % 99999} 主办：{self.site_title}</div>'
                f'<script src="https://pucha.kaipuyun.cn/exposure/jiucuo.js"></script></body></html>')
        return html_resp(text, encoding=self.encoding, charset_header=self.charset_header)

    def meta_charset(self) -> str:
        return "utf-8"

    def detail_head(self, it: C.Item, column_name: str = "政府信息公开年报") -> str:
        return (f'<meta name="ColumnName" content="{column_name}"><meta name="ColumnType" content="{column_name}">'
                f'<meta name="ArticleTitle" content="{html.escape(it.title)}"><meta name="PubDate" content="{it.date} 10:00">'
                f'<meta name="ContentSource" content="{it.publisher}">')

    def xxgk_block(self, it: C.Item) -> str:
        return (f'<table class="xxgk_table"><tr><td>索引号：</td><td>{it.index_no}</td><td>发布机构：</td><td>{it.publisher}</td></tr>'
                f'<tr><td>名称：</td><td colspan="3">{html.escape(it.title)}</td></tr>'
                f'<tr><td>文号：</td><td></td><td>主题分类：</td><td>政务公开</td></tr>'
                f'<tr><td>发布日期：</td><td>{it.date[:4]}年{it.date[5:7]}月{it.date[8:10]}日</td><td>生成日期：</td><td>{it.date}</td></tr></table>')

    def body_of(self, it: C.Item, attachment_markup: str) -> str:
        """The article body: tables inline, or a short text and the attachment."""
        if it.form == "html":
            body = C.report_html(it)
        elif it.form == "images":
            body = image_article.markup(self, it)
        elif it.form in ("xlsx", "xls"):  # the text in the page, the tables in the attached workbook
            body = C.report_text_html(it) + f"<p>附件：</p>{attachment_markup}"
        elif it.form == "none":
            body = f"<p>{html.escape(it.title)}。各有关单位：现将有关事项通知如下。</p><p>特此通知。</p>"
        else:
            body = (f"<p>根据《中华人民共和国政府信息公开条例》要求，现公布{html.escape(it.title)}，全文见附件。</p>"
                    f"{attachment_markup}")
        if it.version:
            body += f"<p>（{it.date}发布，第{it.version}次更正：更正了部分数据的表述。）</p>"
        return body

    def attachment(self, it: C.Item) -> Resp:
        if it.form in ("xlsx", "xls"):
            name = f'attachment; filename="{it.id}.{it.form}"'
            return Resp(200, C.report_workbook(it), {"Content-Type": "application/octet-stream",
                                                     "Content-Disposition": name})
        if it.form == "pdf":
            return Resp(200, C.report_pdf(it), {"Content-Type": "application/pdf"})
        return Resp(200, C.report_docx(it), {"Content-Type": "application/octet-stream",
                                              "Content-Disposition": f'attachment; filename="{it.id}.docx"'})


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that hangs up mid-answer (a killed crawl) is normal here, not a server fault.
        import sys
        # Injected resets and drips close sockets under the handler's feet: OSError too.
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


def _handler_for(portal: Portal):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "TRS WCM/7.0" if portal.family.startswith("trs") else "nginx"

        def log_message(self, *a):  # quiet: tests read portal.requests instead
            pass

        def _serve(self, method: str) -> None:
            arrived = time.monotonic()  # the request line and headers are read: it has started
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            form, raw = {}, ""
            if method == "POST":
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n).decode("utf-8", "replace") if n else ""
                form = {k: v[-1] for k, v in parse_qs(raw, keep_blank_values=True).items()}
            portal._local.headers, portal._local.body = self.headers, raw
            with portal._lock:
                portal.starts.append(arrived)
                portal.inflight += 1
                portal.max_inflight = max(portal.max_inflight, portal.inflight)
            fault = portal.fault_for(parts.path)
            try:
                if portal.delay:
                    time.sleep(portal.delay)
                resp = portal.handle(method, parts.path, query, form)
                if fault is not None:
                    resp = _apply(fault, resp, parts, portal)
            except Exception as e:  # a bug in a mock must look like a server error, not hang the client
                resp = Resp(500, f"mock error: {type(e).__name__}: {e}".encode(), {"Content-Type": "text/plain"}, False)
            finally:
                with portal._lock:
                    portal.inflight -= 1
            if fault is not None and fault.kind in _RAW_FAULTS:
                with portal._lock:
                    portal.requests.append((method, self.path, -1))
                _RAW_FAULTS[fault.kind](self, fault, resp)
                return
            headers = dict(resp.headers)
            status, body = resp.status, resp.body
            if status == 200 and resp.conditional:
                tag = C.etag(body)
                headers["ETag"] = tag
                headers["Last-Modified"] = formatdate(1700000000 + int(tag[1:9], 16) % 10**7, usegmt=True)
                if self.headers.get("If-None-Match") == tag or (
                        not self.headers.get("If-None-Match") and self.headers.get("If-Modified-Since") == headers["Last-Modified"]):
                    status, body = 304, b""
            with portal._lock:
                portal.requests.append((method, self.path, status))
                portal.user_agents.add(self.headers.get("User-Agent", ""))
                portal.times.append(time.monotonic())
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(body)

        def do_GET(self):
            self._serve("GET")

        def do_HEAD(self):
            self._serve("HEAD")

        def do_POST(self):
            self._serve("POST")

    return Handler


# ---------------------------------------------------------------- faults (faults.py)
def _apply(fault: F.Fault, resp: Resp, parts, portal: Portal) -> Resp:
    """Faults that are a different (well-formed) answer."""
    if fault.kind == "status":
        headers = {"Content-Type": "text/html; charset=utf-8"}
        if fault.arg:
            headers["Retry-After"] = str(fault.arg)
        return Resp(fault.status, f"<html><body><h1>{fault.status}</h1>服务器错误</body></html>".encode(), headers, False)
    if fault.kind == "redirect":
        return Resp(fault.status, b"", {"Location": fault.arg}, False)
    if fault.kind == "redirect_loop":
        there = parts.path if "loop=1" in (parts.query or "") else parts.path + "?loop=1"
        return Resp(302, b"", {"Location": there}, False)
    if fault.kind == "soft404":
        return Resp(200, F.SOFT_404.encode(), {"Content-Type": "text/html; charset=utf-8"}, False)
    if fault.kind == "charset":
        real, claimed = fault.arg
        ctype = resp.headers.get("Content-Type", "")
        if "html" not in ctype:
            return resp
        m = re.search(r"charset=([\w-]+)", ctype)
        text = resp.body.decode((m.group(1) if m else portal.encoding).replace("gb2312", "gbk"))
        text = re.sub(r'charset=[\w-]+', f"charset={claimed}", text, count=1)
        return Resp(resp.status, text.encode(real, "xmlcharrefreplace"), {**resp.headers, "Content-Type": f"text/html; charset={claimed}"},
                    resp.conditional)
    if fault.kind == "gzipped":
        return Resp(resp.status, gzip.compress(resp.body, mtime=0), {**resp.headers, "Content-Encoding": "gzip"},
                    resp.conditional)
    if fault.kind == "gzip_bomb":
        return Resp(200, F.bomb_bytes(fault.arg), {"Content-Type": "text/html; charset=utf-8", "Content-Encoding": "gzip"}, False)
    return resp


def _reset(handler, fault, resp) -> None:
    # SO_LINGER 0: close() sends RST instead of FIN, as a crashing proxy does.
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.close_connection = True
    handler.connection.close()


def _drip(handler, fault, resp) -> None:
    interval, limit = fault.arg
    handler.send_response(resp.status)
    handler.send_header("Content-Type", resp.headers.get("Content-Type", "text/html"))
    handler.send_header("Content-Length", str(len(resp.body)))
    handler.end_headers()
    handler.close_connection = True
    start = time.monotonic()
    try:
        for i in range(len(resp.body)):
            if time.monotonic() - start > limit:
                break
            handler.wfile.write(resp.body[i:i + 1])
            handler.wfile.flush()
            time.sleep(interval)
    except OSError:  # the client gave up: that is the point
        pass


def _truncate(handler, fault, resp) -> None:
    handler.send_response(resp.status)
    handler.send_header("Content-Type", resp.headers.get("Content-Type", "text/html"))
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    half = resp.body[: max(1, len(resp.body) // 2)]
    handler.wfile.write(b"%x\r\n%s\r\n" % (len(half), half))  # no terminating 0-chunk
    handler.wfile.flush()
    handler.close_connection = True


def _bad_length(handler, fault, resp) -> None:
    handler.send_response(resp.status)
    handler.send_header("Content-Type", resp.headers.get("Content-Type", "text/html"))
    handler.send_header("Content-Length", str(len(resp.body) + fault.arg))
    handler.end_headers()
    handler.wfile.write(resp.body)
    handler.wfile.flush()
    handler.close_connection = True


_RAW_FAULTS = {"reset": _reset, "drip": _drip, "truncate": _truncate, "bad_length": _bad_length}
