"""WARC for every fetch: a downloader middleware that writes each HTTP exchange (request
and response records) to the WARC files beside the archive (pipeline/store/warc.py),
and a spider middleware that tells the items which record holds their bytes.

What is on the wire, and what Scrapy lets us see of it (so what the records hold):
- The middleware sits at priority 890, next to the downloader: it sees every response
  before HttpCompression (590) decodes it, before redirects (600) and retries (550) are
  followed and before a 304 is swapped for the stored bytes (580). So the response
  payload is the body as the server sent it, gzip/deflate/br still applied, and every
  hop of a redirect, every retried 5xx, every 304 and every robots.txt is recorded.
- Twisted removes the transfer coding: chunked bodies arrive de-chunked, and the
  hop-by-hop headers (Transfer-Encoding, Connection, Keep-Alive, TE, Trailers, Upgrade)
  never reach Scrapy; Content-Length is Scrapy's, from the length Twisted read. Header
  names come title-cased (Twisted and Scrapy both normalise them) and repeated headers
  keep their values in order. The status line's reason phrase is not kept by Scrapy:
  the standard phrase for the code is written. The HTTP version is the one Twisted read.
- The request record holds the headers Scrapy hands to the downloader (User-Agent,
  Accept*, cookies, conditional validators, …) plus the Host header Twisted adds; the
  request line is `METHOD path?query HTTP/1.1`, as Twisted sends it.

A record is written before the spider sees the response, and an item's row points at
it only after that: no row of the archive names a record that is not in a file. When a
record cannot be written (a full disk, a quota), the crawl stops at once with the
reason, and the run is `failed` (exit 1): a crawl that goes on fetching without its
WARC would archive less than it claims.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware
from scrapy.utils.defer import deferred_from_coro

from nianbao.pipeline.store.warc import DEFAULT_MAX_SIZE, Exchange, WarcWriter, warc_root_for

from .items import FetchedDoc

log = logging.getLogger(__name__)
STOPPED = "nianbao/stopped"  # stats key: why the crawl was stopped (read by the item pipeline)


def warc_dir(settings) -> Path:
    return Path(settings.get("NIANBAO_WARC_DIR") or warc_root_for(settings.get("NIANBAO_ARCHIVE")))


class WarcMiddleware:
    """Writes every exchange to WARC; `request.meta["warc"]` is where its response went
    ({file, offset, length}).

    Like the archive, the WARC files are opened with the first item (WarcRefMiddleware
    calls `start()` before any item pipeline sees it): until then exchanges wait in
    memory, their `meta["warc"]` an empty dict filled in place when written. So `scrapy
    parse`, `scrapy shell` and `scrapy fetch`, which send no item on, write no WARC file
    either. A crawl that goes long without an item starts writing anyway (PENDING_*)."""

    PENDING_MAX = 256  # exchanges held before the first item, at most …
    PENDING_BYTES = 64 << 20  # … and bytes of bodies

    def __init__(self, crawler):
        self.crawler = crawler
        s = crawler.settings
        self.writer = WarcWriter(warc_dir(s), max_size=s.getint("NIANBAO_WARC_MAX_SIZE", DEFAULT_MAX_SIZE),
                                 info={"robots": "obey" if s.getbool("ROBOTSTXT_OBEY") else "ignore",
                                       "http-header-user-agent": s.get("USER_AGENT")})
        self.failed: str | None = None
        self.started = False
        self.pending: list[tuple[Exchange, dict]] = []
        self.pending_bytes = 0
        # The item pipeline starts the writer, closes it and records its files with the
        # run; this is how it finds it.
        crawler.nianbao_warc = self
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    @classmethod
    def from_crawler(cls, crawler):
        from scrapy.exceptions import NotConfigured

        if not crawler.settings.getbool("NIANBAO_WARC", True):
            raise NotConfigured("NIANBAO_WARC is off")
        return cls(crawler)

    def process_response(self, request, response):
        if self.failed:  # the crawl is stopping: record nothing more, hand nothing more on
            raise IgnoreRequest(self.failed)
        if urlsplit(request.url).scheme not in ("http", "https"):
            return response  # a saved page read by `scrapy check` (file:): no HTTP exchange
        ref: dict = {}
        request.meta["warc"] = ref
        self.pending.append((_exchange(request, response), ref))
        self.pending_bytes += len(response.body)
        if self.started or len(self.pending) > self.PENDING_MAX or self.pending_bytes > self.PENDING_BYTES:
            self.start()
        if self.failed:
            raise IgnoreRequest(self.failed)
        return response

    def start(self) -> None:
        """Write what waits, and every exchange from now on as it comes."""
        self.started = True
        while self.pending and not self.failed:
            ex, ref = self.pending[0]
            try:
                ref.update(self.writer.write(ex).as_dict())
            except OSError as e:
                self._stop(e)
                break
            self.pending.pop(0)
        self.pending_bytes = 0

    def _stop(self, e: OSError) -> None:
        self.failed = (f"WARC not written: {e.strerror or e}"
                       + (f" ({e.filename})" if e.filename else f" (in {self.writer.root})"))
        self.pending.clear()  # their refs stay empty: the pipeline stores none of them
        log.error("%s: stopping the crawl", self.failed)
        self.crawler.stats.set_value(STOPPED, self.failed)
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=self.failed))

    def close(self) -> list[Path]:
        """Close the current file (and index it); returns every file written."""
        return self.writer.close()

    def spider_closed(self, spider=None, reason=None):
        try:
            self.writer.close()  # the pipeline may have closed it already: then a no-op
        except OSError as e:
            log.error("closing the WARC file failed: %s", e)


def _exchange(request, response) -> Exchange:
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, vs in request.headers.items() for v in vs]
    if not any(k.lower() == "host" for k, _ in headers):
        u = urlsplit(request.url)
        default = {"http": 80, "https": 443}.get(u.scheme)
        host = u.hostname + (f":{u.port}" if u.port and u.port != default else "")
        headers.insert(0, ("Host", host))
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    return Exchange(
        url=request.url, method=request.method, request_headers=headers, request_body=request.body or b"",
        status=response.status, reason=reason, protocol=getattr(response, "protocol", None) or "HTTP/1.1",
        response_headers=[(k.decode("latin-1"), v.decode("latin-1")) for k, vs in response.headers.items() for v in vs],
        body=response.body, ip_address=str(response.ip_address) if getattr(response, "ip_address", None) else None,
        date=datetime.now(timezone.utc))  # when it arrived, not when it is written (see start())


class WarcRefMiddleware(BaseSpiderMiddleware):
    """Gives a FetchedDoc the place of the response record its bytes came from: only a
    document whose body *is* the response's body (not a body derived from a page's
    script, nor a 304 answered from the raw store). The first item starts the WARC
    writer, so every ref is filled before any item pipeline (local or remote) sees it."""

    def get_processed_item(self, item, response):
        warc = getattr(self.crawler, "nianbao_warc", None)
        if warc is not None and not warc.started:
            warc.start()
        if (isinstance(item, FetchedDoc) and response is not None and item.body is response.body
                and response.status != 304 and response.meta.get("warc") is not None):
            item.warc = response.meta["warc"]  # the same dict: filled once the record is written
        return item
