"""Downloader middlewares: conditional requests, anti-bot walls, retries with backoff,
robots.txt as RFC 9309 reads it, redirects that stay on the site."""
from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.response import response_status_message

from nianbao.pipeline.store import RawStore, raw_root_for

from .antibot import detect_wall
from .errors import describe

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


class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt handling, with RFC 9309 §2.3.1 on failures: Scrapy parses
    whatever body a 5xx answer has (nothing: allow all) and allows all when robots.txt
    cannot be fetched. An unreachable robots.txt (5xx after retries, a network error,
    a timeout) means complete disallow; a 4xx means no rules (allow all). The reason is
    kept per host, and every request there fails with it ("robots.txt unreachable …"),
    which the spider records as the site's failure."""

    def __init__(self, crawler):
        super().__init__(crawler)
        self.unreachable: dict[str, str] = {}

    async def _parse_robots(self, response, netloc, request):
        if response.status >= 500:
            self.unreachable[netloc] = f"robots.txt unreachable (HTTP {response.status})"
            self._stats.inc_value(f"robotstxt/response_status_count/{response.status}")
            self._robots_error(IgnoreRequest(self.unreachable[netloc]), netloc)
            return
        if 400 <= response.status < 500:
            response = response.replace(body=b"")  # §2.3.1.3: unavailable, no rules
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc, netloc):
        if netloc not in self.unreachable and not isinstance(exc, IgnoreRequest):
            self.unreachable[netloc] = f"robots.txt unreachable ({describe(exc)})"
        super()._robots_error(exc, netloc)

    def process_request_2(self, rp, request):
        if rp is None:
            why = self.unreachable.get(urlsplit(request.url).netloc)
            if why:
                raise IgnoreRequest(f"{why}: treated as disallow all (RFC 9309 §2.3.1.4)")
            return
        super().process_request_2(rp, request)


class OffsiteRedirectMiddleware:
    """Follow a redirect only within the site: to the same host, or a host of the same
    domain (www.x.gov.cn → files.x.gov.cn), or one the site config allows
    (`allowed_domains`). A portal that sends its report's URL to another domain (an
    expired domain, a hijacked link, a redirect to a private address) has not published
    what is there: the redirect is not followed and the fetch fails with the reason.
    Sits above RedirectMiddleware (priority 600) so it sees the 3xx first."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        if response.status not in (301, 302, 303, 307, 308) or b"Location" not in response.headers:
            return response
        target = urljoin(request.url, response.headers[b"Location"].decode("latin-1"))
        here, there = urlsplit(request.url).hostname or "", urlsplit(target).hostname or ""
        if there == here or _same_domain(here, there) or self._allowed(request, there):
            return response
        raise IgnoreRequest(f"redirected off the site to {target}: not followed")

    def _allowed(self, request, host: str) -> bool:
        sites = getattr(self.crawler.spider, "sites", {}) or {}
        allowed = (sites.get(request.meta.get("site")) or {}).get("allowed_domains") or []
        return any(host == d or host.endswith("." + d) for d in allowed)


def _same_domain(a: str, b: str) -> bool:
    """Two host names under one organisation's domain: the same last three labels for
    *.gov.cn-style names (hd.gov.cn), the last two otherwise. IP addresses: never."""
    if not a or not b or a.replace(".", "").isdigit() or b.replace(".", "").isdigit():
        return False
    la, lb = a.split("."), b.split(".")
    n = 3 if len(la) >= 3 and la[-2] in ("gov", "com", "org", "edu", "net") and len(la[-1]) == 2 else 2
    return len(la) >= n and la[-n:] == lb[-n:]


class SiteDelayMiddleware:
    """Keeps AutoThrottle off a delay a site's YAML states (DOWNLOAD_SLOTS, config.
    download_slots): it would otherwise bring the delay down towards DOWNLOAD_DELAY as
    soon as the portal answers fast, and the operator's `delay:` would hold for the
    first request only."""

    def __init__(self, hosts: set[str]):
        self.hosts = hosts

    @classmethod
    def from_crawler(cls, crawler):
        slots = crawler.settings.getdict("DOWNLOAD_SLOTS")
        return cls({host for host, keys in slots.items() if "delay" in keys})

    def process_request(self, request, spider=None):
        if self.hosts and urlsplit(request.url).hostname in self.hosts:
            request.meta.setdefault("autothrottle_dont_adjust_delay", True)
