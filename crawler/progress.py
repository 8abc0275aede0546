"""A one-line crawl progress report on stderr, so a long crawl never looks stuck.

Scrapy's own LogStats speaks once a minute at INFO; a person running `nianbao crawl`
wants to see pages and files arrive. On a terminal the line is redrawn in place;
elsewhere (logs, CI) it is printed at most every `CRAWL_PROGRESS_INTERVAL` seconds.
"""
from __future__ import annotations

import sys
import time

from scrapy import signals


class CrawlProgress:
    def __init__(self, crawler, interval: float):
        self.stats = crawler.stats
        self.interval = interval
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    @classmethod
    def from_crawler(cls, crawler):
        ext = cls(crawler, crawler.settings.getfloat("CRAWL_PROGRESS_INTERVAL", 10.0))
        crawler.signals.connect(ext.tick, signal=signals.response_received)
        crawler.signals.connect(ext.closed, signal=signals.spider_closed)
        return ext

    def line(self) -> str:
        get = self.stats.get_value
        return (f"crawling: {get('response_received_count', 0)} responses, {get('item_scraped_count', 0)} documents "
                f"stored, {get('retry/count', 0)} retries, {get('downloader/exception_count', 0)} errors")

    def tick(self, *args, **kwargs) -> None:
        now = time.monotonic()
        if now - self.last < (0.5 if self.tty else self.interval):
            return
        self.last = now
        sys.stderr.write(("\r" + self.line() + "\033[K") if self.tty else self.line() + "\n")
        sys.stderr.flush()

    def closed(self, spider) -> None:
        if self.tty and self.last:
            sys.stderr.write("\r" + self.line() + "\033[K\n")
            sys.stderr.flush()
