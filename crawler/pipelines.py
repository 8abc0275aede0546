"""The crawler's one writer: every item goes into the archive (NIANBAO_ARCHIVE).

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

from nianbao.pipeline import agencies
from nianbao.pipeline.store import Archive

from .items import FetchedDoc, FetchFailed, NotModified, SiteUpdate

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
        self.run_id = self.log.start_run(list(spider.sites), self.crawler.settings.get("JOBDIR"))
        spider.run_id = self.run_id  # the runner reports this run when the crawl is over
        for name, s in spider.sites.items():
            # The portal's own region places the reports whose agency names no place.
            adcode = s.get("adcode") or agencies.identify(s.get("region") or s.get("agency"))["adcode"]
            self.log.set_site(name, start_url=s.get("start_url") or s.get("home_url"), family=s.get("family", "auto"),
                              agency=s.get("agency"), adcode=adcode, last_run=self.run_id)

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
        run, log = self.run_id, self.log
        if isinstance(item, SiteUpdate):
            log.set_site(item.name, **item.cols)
        elif isinstance(item, FetchFailed):
            self._failed(item)
        elif isinstance(item, NotModified):
            log.record_fetch(item.url, run_id=run, sha256=None, changed=False, http_status=304, error=None,
                             **_meta(item.meta))
            log.count(run, "unchanged")
        elif isinstance(item, FetchedDoc):
            self._store(item)
        self._count_pages()
        # Commit the counters too: an open transaction between items would hold the
        # archive's write lock for the whole crawl, starving any other writer.
        self.archive.conn.commit()
        return item

    def _failed(self, item: FetchFailed) -> None:
        log, run = self.log, self.run_id
        log.record_error(item.url, item.site, item.role, run, item.error, parent_url=item.parent_url)
        if item.counted:
            log.count(run, "failed")
        if item.role == "attachment" and item.parent_url:
            # The publication (its detail page, when stored) lacks its document: say so
            # where failures are read, against the page that links it.
            parent = log.fetch(item.parent_url)
            self.archive.record_failure(parent["sha256"] if parent else None, item.url, "crawl",
                                        f"attachment of {item.parent_url} not fetched: {item.error}")

    def _store(self, item: FetchedDoc) -> None:
        log, run = self.log, self.run_id
        prev = log.fetch(item.url)
        parent = log.fetch(item.parent_url) if item.parent_url else None
        try:
            if item.warc is not None and not item.warc:
                # Its WARC record was never written (the disk filled first): keep nothing
                # of it, so no row lacks its record; the next crawl fetches it again.
                raise OSError(f"WARC record not written ({self.crawler.stats.get_value('nianbao/stopped')})")
            digest = self._put(item, parent)
        except OSError as e:
            # Disk full, quota, read-only raw store: the bytes are not kept (the raw store
            # never leaves half a file), the fetch is a failure and the crawl goes on.
            why = f"not stored: {e.strerror or e}" + (f" ({e.filename})" if e.filename else "")
            outcome = getattr(self.crawler.spider, "outcome", {}).get(item.site)
            if outcome is not None:
                outcome.gap(item.role, item.url, why)
                if item.role == "detail":
                    outcome.found -= 1
                    outcome.detail_failed += 1
            self._failed(FetchFailed(item.url, item.site, item.role, why, parent_url=item.parent_url))
            return
        if item.warc:
            log.note_warc_file(item.warc["file"], run)
        changed = prev is None or prev["sha256"] != digest
        log.record_fetch(item.url, run_id=run, sha256=digest, changed=changed, site=item.site, role=item.role,
                         final_url=item.final_url, http_status=item.http_status, content_type=item.content_type,
                         etag=item.etag, last_modified=item.last_modified, parent_url=item.parent_url, error=None,
                         **_warc(item), **_meta(item.meta))
        if item.role != "list":
            log.count(run, "new" if prev is None or not prev["sha256"] else "changed" if changed else "unchanged")

    def _put(self, item: FetchedDoc, parent: dict | None) -> str:
        digest, _ = self.archive.add_document(
            item.body, type=item.type, original_name=item.original_name, url=item.url, final_url=item.final_url,
            http_status=item.http_status, content_type=item.content_type, etag=item.etag,
            last_modified=item.last_modified, fetched_at=item.fetched_at, site=item.site,
            parent_sha256=parent["sha256"] if parent else None, role=item.role, **_warc(item))
        return digest

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


def _warc(item: FetchedDoc) -> dict:
    """The columns naming the WARC response record of the item's bytes (none for a
    body derived from a page, which no response carried as such)."""
    w = item.warc
    return {"warc_file": w["file"], "warc_offset": w["offset"], "warc_length": w["length"]} if w else {}


def _meta(meta: dict) -> dict:
    keys = ("title", "published", "publisher", "index_no", "report_year")
    return {k: meta.get(k) for k in keys if meta.get(k) is not None}
