"""Downloader middlewares: anti-bot walls and retries with backoff."""
from __future__ import annotations

import asyncio
import logging
import random

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.response import response_status_message

from .antibot import detect_wall

log = logging.getLogger(__name__)


class SiteBlocked(IgnoreRequest):
    pass


class AntiBotMiddleware:
    """Sits below redirect and retry (priority 650) so it sees a wall's 412/521/307
    before anything retries or follows it. A walled site is marked blocked once and
    every further request to it is dropped: no loop, no hammering."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _site(self, request):
        spider = self.crawler.spider
        return request.meta.get("site") or spider.site_for_url(request.url)

    def process_request(self, request):
        spider = self.crawler.spider
        site = self._site(request)
        if site and site in spider.blocked:
            raise SiteBlocked(f"site {site} is blocked: {spider.blocked[site]}")
        return None

    def process_response(self, request, response):
        headers = {k.decode("latin-1").lower(): b", ".join(v).decode("latin-1", "replace")
                   for k, v in response.headers.items()}
        reason = detect_wall(response.status, headers, response.body)
        if reason:
            spider = self.crawler.spider
            site = self._site(request)
            spider.mark_blocked(site, reason, request.url)
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
