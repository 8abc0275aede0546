"""The one way a crawled item becomes rows of the archive.

Two processes call it: the item pipeline of a one-machine crawl (pipelines.py), and the
archiver of the shared frontier (cluster/archiver.py), which replays what remote workers
fetched. Both write exactly the same rows for the same items, so an archive built by
a cluster equals one built on one machine.
"""
from __future__ import annotations

from typing import Callable

from nianbao.pipeline import agencies
from nianbao.pipeline.store import Archive

from .items import FetchedDoc, FetchFailed, NotModified, SiteUpdate, StoredDoc


def open_run(archive: Archive, sites: dict[str, dict], jobdir: str | None = None, *, sweep: bool = True) -> int:
    """A `runs` row for a crawl of `sites`, and their `sites` rows pointing at it."""
    log = archive.crawl
    run_id = log.start_run(list(sites), jobdir, sweep=sweep)
    for name, s in sites.items():
        # The portal's own region places the reports whose agency names no place.
        adcode = s.get("adcode") or agencies.identify(s.get("region") or s.get("agency"))["adcode"]
        log.set_site(name, start_url=s.get("start_url") or s.get("home_url"), family=s.get("family", "auto"),
                     agency=s.get("agency"), adcode=adcode, last_run=run_id)
    return run_id


class Recorder:
    """Writes items of run `run_id`. `not_stored(item, why)` hears about bytes the raw
    store refused (disk full): the fetch is then recorded as a failure."""

    def __init__(self, archive: Archive, run_id: int, not_stored: Callable[[FetchedDoc, str], None] | None = None,
                 warc_stopped: Callable[[], str | None] = lambda: None):
        self.archive, self.run_id, self.log = archive, run_id, archive.crawl
        self.not_stored = not_stored
        self.warc_stopped = warc_stopped  # why the WARC writer stopped, when it did

    def record(self, item) -> None:
        run, log = self.run_id, self.log
        if isinstance(item, SiteUpdate):
            log.set_site(item.name, **item.cols)
        elif isinstance(item, FetchFailed):
            self.failed(item)
        elif isinstance(item, NotModified):
            log.record_fetch(item.url, run_id=run, sha256=None, changed=False, http_status=304, error=None,
                             **_meta(item.meta))
            log.count(run, "unchanged")
        elif isinstance(item, FetchedDoc):
            self.store(item)

    def failed(self, item: FetchFailed, parent_sha256: str | None = None) -> None:
        log, run = self.log, self.run_id
        log.record_error(item.url, item.site, item.role, run, item.error, parent_url=item.parent_url)
        if item.counted:
            log.count(run, "failed")
        if item.role == "attachment" and item.parent_url:
            # The publication (its detail page, when stored) lacks its document: say so
            # where failures are read, against the page that links it.
            if parent_sha256 is None:
                parent = log.fetch(item.parent_url)
                parent_sha256 = parent["sha256"] if parent else None
            self.archive.record_failure(parent_sha256, item.url, "crawl",
                                        f"attachment of {item.parent_url} not fetched: {item.error}")

    def store(self, item: FetchedDoc) -> None:
        log, run = self.log, self.run_id
        prev = log.fetch(item.url)
        parent_sha256 = getattr(item, "parent_sha256", None)
        if parent_sha256 is None and item.parent_url:
            parent = log.fetch(item.parent_url)
            parent_sha256 = parent["sha256"] if parent else None
        try:
            if item.warc is not None and not item.warc:
                # Its WARC record was never written (the disk filled first): keep nothing
                # of it, so no row lacks its record; the next crawl fetches it again.
                raise OSError(f"WARC record not written ({self.warc_stopped() or 'the WARC writer stopped'})")
            digest = self._put(item, parent_sha256)
        except OSError as e:
            # Disk full, quota, read-only raw store: the bytes are not kept (the raw store
            # never leaves half a file), the fetch is a failure and the crawl goes on.
            why = f"not stored: {e.strerror or e}" + (f" ({e.filename})" if e.filename else "")
            if self.not_stored is not None:
                self.not_stored(item, why)
            self.failed(FetchFailed(item.url, item.site, item.role, why, parent_url=item.parent_url))
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

    def _put(self, item: FetchedDoc, parent_sha256: str | None) -> str:
        fetch = dict(original_name=item.original_name, url=item.url, final_url=item.final_url,
                     http_status=item.http_status, content_type=item.content_type, etag=item.etag,
                     last_modified=item.last_modified, fetched_at=item.fetched_at, site=item.site,
                     parent_sha256=parent_sha256, role=item.role, **_warc(item))
        if isinstance(item, StoredDoc):  # a worker of the shared frontier put the bytes in the raw store
            digest, _ = self.archive.record_document(item.sha256, item.size, type=item.type, **fetch)
        else:
            digest, _ = self.archive.add_document(item.body, type=item.type, **fetch)
        return digest


def _warc(item: FetchedDoc) -> dict:
    """The columns naming the WARC response record of the item's bytes (none for a
    body derived from a page, which no response carried as such)."""
    w = item.warc
    return {"warc_file": w["file"], "warc_offset": w["offset"], "warc_length": w["length"]} if w else {}


def _meta(meta: dict) -> dict:
    keys = ("title", "published", "publisher", "index_no", "report_year")
    return {k: meta.get(k) for k in keys if meta.get(k) is not None}
