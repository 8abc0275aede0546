"""Downloader middlewares: conditional requests, anti-bot walls, retries with backoff."""
from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.response import response_status_message

from nianbao.pipeline.store import RawStore, raw_root_for

from .antibot import detect_wall

log = logging.getLogger(__name__)


class SiteBlocked(IgnoreRequest):
    pass


class ConditionalMiddleware:
    """Ask only for what changed: a request marked `conditional` carries the validators
    (ETag, Last-Modified) of the version the archive holds, and a 304 answer is handed
    to the spider with those stored bytes (status still 304, `known_sha256` in meta).

    Reads the archive (NIANBAO_ARCHIVE) through its own read-only connection; writing
    is the item pipeline's job. No archive yet: every request is plain."""

    def __init__(self, archive: str):
        self.path = Path(archive)
        self.raw = RawStore(raw_root_for(self.path))
        self._conn: sqlite3.Connection | None = None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.get("NIANBAO_ARCHIVE"))

    def _known(self, url: str) -> tuple | None:
        if self._conn is None:
            if not self.path.exists():
                return None
            self._conn = sqlite3.connect(f"file:{self.path.resolve()}?mode=ro", uri=True)
        try:
            return self._conn.execute("SELECT sha256, etag, last_modified, content_type FROM fetches WHERE url = ?",
                                      (url,)).fetchone()
        except sqlite3.OperationalError:  # an archive without crawl tables yet
            return None

    def process_request(self, request):
        if not request.meta.get("conditional") or "known_sha256" in request.meta:
            return None
        known = self._known(request.url)
        if known and known[0] and known[0] in self.raw:
            request.meta["known_sha256"], request.meta["known_ctype"] = known[0], known[3]
            if known[1]:
                request.headers["If-None-Match"] = known[1]
            if known[2]:
                request.headers["If-Modified-Since"] = known[2]
        return None

    def process_response(self, request, response):
        sha = request.meta.get("known_sha256")
        if response.status != 304 or not sha:
            return response
        headers = response.headers.copy()
        if request.meta.get("known_ctype"):
            headers["Content-Type"] = request.meta["known_ctype"]
        return response.replace(body=self.raw.get(sha), headers=headers)


class AntiBotMiddleware:
    """Sits below redirect and retry (priority 650) so it sees a wall's 412/521/307
    before anything retries or follows it. A walled host is remembered and every
    further request to it is dropped: no loop, no hammering. The spider, if it keeps
    score of its sites, is told once (`mark_blocked`)."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.walls: dict[str | None, str] = {}

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_request(self, request):
        host = urlsplit(request.url).hostname
        if host in self.walls:
            raise SiteBlocked(f"{host} is blocked: {self.walls[host]}")
        return None

    def process_response(self, request, response):
        headers = {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1", "replace")
                   for k, v in response.headers.items()}
        reason = detect_wall(response.status, headers, response.body)
        if reason:
            self.walls.setdefault(urlsplit(request.url).hostname, reason)
            tell = getattr(self.crawler.spider, "mark_blocked", None)
            if tell is not None:
                tell(request.meta.get("site"), reason, request.url)
            raise SiteBlocked(f"{request.url}: {reason}")
        return response


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but waiting before the retry (exponential with jitter, or the
    server's Retry-After), so a struggling site is given time instead of a burst."""

    base = 1.0
    cap = 60.0

    def __init__(self, settings):
        super().__init__(settings)
        self.base = settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    def _delay(self, request, retry_after: str | None = None) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.cap)
        n = request.meta.get("retry_times", 0)
        return min(self.cap, self.base * 2 ** n) * (0.5 + random.random() / 2)

    async def process_response(self, request, response):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        ra = response.headers.get("Retry-After")
        await asyncio.sleep(self._delay(request, ra.decode() if ra else None))
        return retry

    async def process_exception(self, request, exception):
        if isinstance(exception, self.exceptions_to_retry) and not request.meta.get("dont_retry", False):
            retry = self._retry(request, exception)
            if retry is not None:
                await asyncio.sleep(self._delay(request))
            return retry
        return None
