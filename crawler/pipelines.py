"""The crawler's one writer on one machine: every item goes into the archive
(NIANBAO_ARCHIVE), through recorder.py (the write path the shared frontier's archiver
uses too).

Bytes go to the raw store and `documents`; each URL's current version, validators
and metadata to `fetches`; failures to `fetches.error` and the run's counters; what
the spider learnt about a site to `sites`. The archive and the run row are opened with
the first item (so `scrapy parse` and `scrapy shell`, which send no item here, write
nothing) and closed with each site's outcome; closing the archive brings its derived
data (primary reports, figures, site counts) up to date.
"""
from __future__ import annotations

import logging
import sqlite3

from scrapy import signals
from scrapy.exceptions import DropItem
from scrapy.utils.defer import deferred_from_coro

from nianbao.pipeline.store import Archive

from .recorder import Recorder, open_run

log = logging.getLogger(__name__)


class ArchivePipeline:
    def __init__(self, crawler):
        self.crawler = crawler
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.stopped: str | None = None  # why the crawl was stopped by the archive

    @classmethod
    def from_crawler(cls, crawler):
        pipeline = cls(crawler)
        # The run's end needs Scrapy's close reason, which only the signal carries.
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def _open(self):
        spider = self.crawler.spider
        self.archive = Archive(self.crawler.settings.get("NIANBAO_ARCHIVE"))
        # Another writer (an ingest, a reparse's refresh) may hold the archive for a while:
        # wait for it rather than lose what was fetched meanwhile.
        wait = self.crawler.settings.getfloat("NIANBAO_DB_WAIT", 600)
        self.archive.conn.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        self.log = self.archive.crawl
        self.run_id = open_run(self.archive, spider.sites, self.crawler.settings.get("JOBDIR"))
        spider.run_id = self.run_id  # the runner reports this run when the crawl is over
        self.recorder = Recorder(self.archive, self.run_id, not_stored=self._not_stored,
                                 warc_stopped=lambda: self.crawler.stats.get_value("nianbao/stopped"))

    def process_item(self, item):
        try:
            return self._process(item)
        except sqlite3.OperationalError as e:
            # Still locked after NIANBAO_DB_WAIT seconds (or the disk is gone): never drop
            # items one by one in silence. Stop the crawl, loudly; the next crawl fetches
            # what this one could not record (nothing was marked as fetched).
            why = f"archive unavailable: {e}"
            log.error("%s: stopping the crawl", why)
            self.stopped = why
            deferred_from_coro(self.crawler.engine.close_spider_async(reason=why))
            raise DropItem(why) from None

    def _process(self, item):
        if self.archive is None:
            self._open()
        self.recorder.record(item)
        self._count_pages()
        # Commit the counters too: an open transaction between items would hold the
        # archive's write lock for the whole crawl, starving any other writer.
        self.archive.conn.commit()
        return item

    def _not_stored(self, item, why: str) -> None:
        """The raw store refused the bytes: a gap of the site, like any lost page."""
        outcome = getattr(self.crawler.spider, "outcome", {}).get(item.site)
        if outcome is not None:
            outcome.gap(item.role, item.url, why)
            if item.role == "detail":
                outcome.found -= 1
                outcome.detail_failed += 1

    def _count_pages(self) -> None:
        self.log.set_count(self.run_id, "pages", self.crawler.stats.get_value("nianbao/pages", 0))

    def close_spider(self):
        spider = self.crawler.spider
        for item in getattr(spider, "late_failures", []):  # found outside a callback (redirect loops)
            self.process_item(item)
        if self.archive is None:
            return
        self._close_warc()
        self._count_pages()
        expected = reached = None
        for name, outcome in spider.outcome.items():
            if hasattr(spider, "counted"):  # with the records a resumed crawl read before its stop
                outcome = spider.counted(name)
            status, why = outcome.final()
            self.log.set_site(name, status=status, reason=why, found=outcome.found, last_run=self.run_id,
                              expected=outcome.expected, reached=outcome.reached)
            if outcome.expected is not None:  # the run's ratio: over the columns that state a count
                expected = (expected or 0) + outcome.expected
                reached = (reached or 0) + min(outcome.reached, outcome.expected)
        self.log.set_completeness(self.run_id, expected, reached)
        self.log.count(self.run_id, "blocked", len(spider.blocked))

    def _close_warc(self) -> None:
        """Close the run's last WARC file (and index it), and record its files with the run."""
        warc = getattr(self.crawler, "nianbao_warc", None)
        if warc is None:
            return
        writer = warc.writer
        try:
            files = warc.close()
        except OSError as e:
            files = list(writer.files)
            log.error("closing the WARC file failed: %s", e)
            self.stopped = self.stopped or f"WARC not closed: {e.strerror or e}"
        self.log.record_warc_files(self.run_id, [(f.name, f.stat().st_size, writer.counts.get(f.name, 0))
                                                 for f in files if f.exists()])

    def spider_closed(self, spider, reason):
        """After close_spider (Scrapy sends the signal once the pipelines are closed)."""
        if self.archive is None:
            return
        # A crawl another part stopped (crawler/warc.py: a WARC record could not be written).
        self.stopped = self.stopped or self.crawler.stats.get_value("nianbao/stopped")
        # A crawl the archive stopped is `failed`, not `shutdown`: its JOBDIR must not be
        # resumed (the dropped item's URL is in the seen-requests file).
        status = "finished" if reason == "finished" else "failed" if self.stopped else "shutdown"
        self.log.finish_run(self.run_id, status, None if reason == "finished" else reason)
        self.archive.finish()
        self.archive.close()

