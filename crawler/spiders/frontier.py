"""The column spider as a worker of the shared frontier (crawler/cluster/frontier.py).

Same callbacks, same families, same outcome rules as `column`; only where things go
differs. Each callback or errback runs to its end here, and what it produced is settled
in one step: new links onto the shared queue, items (bytes already in the raw store)
as one message for the archiver, and what it taught us about its site (pages read,
report pages found or failed, gaps, blocked …) as events, so the archiver can say
for the whole cluster what a one-machine crawl says for itself. The worker writes no
SQLite.

    scrapy crawl frontier -s NIANBAO_FRONTIER=redis://host:6379/0 -s NIANBAO_RAW=/shared/raw
    nianbao crawl --frontier redis://host:6379/0 --raw /shared/raw     # the same
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path

from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request
from scrapy_redis.spiders import RedisMixin

from nianbao.pipeline.store import RawStore, raw_root_for, sha256

from ..cluster import frontier as fr
from ..cluster import pagecap
from ..items import FetchedDoc, FetchFailed, NotModified, SiteUpdate
from .column import ColumnSpider, SiteOutcome


class TrackedOutcome(SiteOutcome):
    """A SiteOutcome that also reports every change as an event of the running callback."""

    def __setattr__(self, k, v):
        spider = self.__dict__.get("_spider")
        if spider is not None:
            if k in ("found", "detail_failed"):
                spider.event(self._site, k, v - getattr(self, k))
            elif k == "reason" and self.status:  # `o.status, o.reason = …` sets status first
                spider.event(self._site, "status", self.status, v)
        super().__setattr__(k, v)

    def gap(self, role, url, why):
        super().gap(role, url, why)
        spider = self.__dict__.get("_spider")
        if spider is not None:
            spider.event(self._site, "gap", f"{role or 'page'} {url}: {why}")


# What a site's outcome learns besides counts, gaps and status (completeness against the
# column's own count): sent as what changed during one callback, merged by the archiver.
_SETS = ("records",)
_DICTS = ("lost_via", "empty_via")
_VALUES = ("expected", "rest", "looped", "column", "capped")


def _snapshot(o) -> dict:
    snap = {k: set(getattr(o, k)) for k in _SETS if hasattr(o, k)}
    snap.update({k: dict(getattr(o, k)) for k in _DICTS if hasattr(o, k)})
    snap.update({k: getattr(o, k) for k in _VALUES if hasattr(o, k)})
    return snap


def _changes(o, snap: dict) -> dict:
    out = {}
    for k, before in snap.items():
        now = getattr(o, k)
        if k in _SETS:
            if now - before:
                out[k] = sorted(now - before)
        elif k in _DICTS:
            new = {kk: v for kk, v in now.items() if kk not in before}
            if new:
                out[k] = new
        elif now != before:
            out[k] = now
    return out


class _Batch:
    def __init__(self, request: Request):
        self.request = request
        self.items: list[dict] = []
        self.events: list[list] = []
        self.children: list[tuple] = []
        self.pages = 0


class FrontierSpider(RedisMixin, ColumnSpider):
    name = "frontier"
    redis_key = fr.START_URLS

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        url = settings.get("NIANBAO_FRONTIER") or settings.get("REDIS_URL")
        if url:
            settings.set("REDIS_URL", url, priority="spider")
        if settings.get("NIANBAO_RAW") and not settings.get("NIANBAO_WARC_DIR"):
            # The shared store's layout is the archive's: raw/ and warc/ side by side.
            settings.set("NIANBAO_WARC_DIR", str(Path(settings.get("NIANBAO_RAW")).parent / "warc"),
                         priority="spider")
        settings.setdict({
            "SCHEDULER": "nianbao.crawler.cluster.frontier.FrontierScheduler",
            "DUPEFILTER_CLASS": "nianbao.crawler.cluster.frontier.CycleDupeFilter",
            "SCHEDULER_QUEUE_CLASS": "scrapy_redis.queue.PriorityQueue",
            "SCHEDULER_QUEUE_KEY": fr.QUEUE,
            # The queue is everyone's: a worker that closes must not flush it.
            "SCHEDULER_PERSIST": True,
            "ITEM_PIPELINES": {},  # the archiver writes; a worker writes no SQLite
            # Validators for conditional requests from Redis (the archiver publishes them).
            "DOWNLOADER_MIDDLEWARES": {**settings.getdict("DOWNLOADER_MIDDLEWARES"),
                                       "nianbao.crawler.middlewares.ConditionalMiddleware": None,
                                       "nianbao.crawler.cluster.validators.FrontierConditional": 580},
            "REDIS_PARAMS": {"socket_timeout": 5, "socket_connect_timeout": 3, "retry": fr.no_retry()},
        }, priority="spider")
        if settings.getbool("NIANBAO_POLITE", True):
            # The delay and the concurrency per portal hold for the whole cluster
            # (cluster/politeness.py): every request starts with a grant from Redis.
            polite = "nianbao.crawler.cluster.politeness.PoliteHandler"
            settings.set("DOWNLOAD_HANDLERS", {**settings.getdict("DOWNLOAD_HANDLERS"), "http": polite,
                                               "https": polite}, priority="spider")

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self._current: _Batch | None = None
        self._loose: list[list] = []  # events outside any callback (a wall seen by a middleware)
        self.frontier: fr.FrontierScheduler | None = None
        self._idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.setup_redis(crawler)
        s = crawler.settings
        raw = s.get("NIANBAO_RAW") or raw_root_for(s.get("NIANBAO_ARCHIVE"))
        spider.raw = RawStore(raw)
        spider.idle_exit = s.getfloat("NIANBAO_WORKER_IDLE_EXIT", 0)
        spider.poll = s.getfloat("NIANBAO_FRONTIER_POLL", 0.5)
        from twisted.internet import task
        spider._beat = task.LoopingCall(spider._heartbeat)
        spider._beat.start(min(spider.poll, 1.0), now=False)
        return spider

    def _load_sites(self, settings) -> None:
        """Sites come with the requests (their configs in Redis, written by the seed)."""
        for s in self._sites_arg if isinstance(self._sites_arg, list) else []:
            self._add_site(s)

    def _download_slots(self) -> dict[str, dict]:
        return {}  # the PoliteHandler keeps each site's delay and concurrency for the whole cluster

    def _add_site(self, site: dict) -> dict:
        super()._add_site(site)
        o = TrackedOutcome()
        o.__dict__["_spider"], o.__dict__["_site"] = self, site["name"]
        self.outcome[site["name"]] = o
        return site

    def know_site(self, name: str | None) -> bool:
        if not name or name in self.sites:
            return True
        got = self.server.hget(fr.SITES, name)
        if got is None:
            self.logger.error("request for site %s, which no seed described: handled as an ad-hoc site", name)
            return True
        self._add_site(json.loads(got))
        return True

    async def start(self):
        # scrapy-redis reads its start key here (nothing is pushed there: `nianbao cluster
        # seed` puts start requests straight on the queue, with their cycle).
        for req in self.next_requests():
            yield req

    def _count_list_page(self, name: str, o, key: tuple, cap: int) -> tuple[bool, bool]:
        """max_pages for the whole cluster (cluster/pagecap.py). With Redis away the
        count goes in the outbox and this worker's own count stands in for the cap."""
        meta = self._current.request.meta if self._current is not None else {}
        cycle, fid = meta.get("cycle", "adhoc"), meta.get("fid") or ""
        f = self.frontier
        if not (f.outbox or f.down_since is not None):
            try:
                verdict = pagecap.count(self.server, cycle, name, key, cap, fid)
            except fr.REDIS_ERRORS as e:
                f._down(e)
            else:
                return verdict == pagecap.ALLOWED, verdict == pagecap.FIRST_REFUSED
        allowed, first = super()._count_list_page(name, o, key, cap)
        if allowed:
            f.call(*pagecap.later(cycle, name, key, cap, fid))
        return allowed, first

    # ------------------------------------------------------------ events
    def event(self, site: str, *e) -> None:
        (self._current.events if self._current is not None else self._loose).append([site, *e])

    def _count_page(self) -> None:
        super()._count_page()
        if self._current is not None:
            self._current.pages += 1

    # ------------------------------------------------------------ callbacks, shipped
    def parse_home(self, response):
        return self._ship(response, lambda: ColumnSpider.parse_home(self, response))

    def parse_list(self, response, counted: bool = False):
        return self._ship(response, lambda: ColumnSpider.parse_list(self, response, counted))

    def parse_detail(self, response):
        return self._ship(response, lambda: ColumnSpider.parse_detail(self, response))

    def parse_attachment(self, response):
        return self._ship(response, lambda: ColumnSpider.parse_attachment(self, response))

    def on_error(self, failure):
        return self._ship(None, lambda: ColumnSpider.on_error(self, failure), failure.request)

    def on_dropped(self, request, spider=None) -> None:
        """A redirect hop the filter refused ends its request here: settle it."""
        if request.meta.get("fid"):
            self._ship(None, lambda: ColumnSpider.on_dropped(self, request) or (), request)

    def _ship(self, response, produce, request: Request | None = None):
        if self._current is not None:  # parse_home handing its page to parse_list: one batch
            return produce()
        request = request if request is not None else response.request
        batch = self._current = _Batch(request)
        site = request.meta.get("site")
        snap = _snapshot(self.outcome[site]) if site in self.outcome else None
        error = None
        try:
            for out in produce() or ():
                self._take(batch, out, response)
        except Exception as e:  # a bug or a page no rule foresaw: a gap, never silence
            error = e
            if site in self.outcome:
                self.outcome[site].gap(request.meta.get("role"), request.url, f"spider error: {e!r}")
        finally:
            self._current = None
        if snap is not None:  # the callback ran whole here: what it learnt about its column
            changed = _changes(self.outcome[site], snap)
            if changed:
                batch.events.append([site, "merge", changed])
        for item in self.late_failures:
            self._take(batch, item, None)
        self.late_failures.clear()
        batch.events = self._loose + batch.events
        self._loose = []
        self._commit(batch)
        if error is not None:
            raise error
        return ()

    def _take(self, batch: _Batch, out, response) -> None:
        meta = batch.request.meta
        if isinstance(out, Request):
            # Whoever takes it settles it; the cycle's open count, not this process's
            # ticket, says whether it was answered (and the ticket would only grow here).
            ColumnSpider._settle(self, out.meta)
            out.meta["fid"], out.meta["cycle"] = fr.new_id(), meta.get("cycle", "adhoc")
            if (response is not None and out.meta.get("parent_url") and response.status in (200, 304)
                    and out.meta["parent_url"] == (response.meta.get("redirect_urls") or [response.url])[0]):
                out.meta["parent_sha256"] = sha256(response.body)  # the page that links it
            elif out.meta.get("parent_url") and out.meta["parent_url"] == meta.get("parent_url"):
                out.meta.setdefault("parent_sha256", meta.get("parent_sha256"))  # an attachment's other address
            batch.children.append(self.frontier.encode(out))
        elif isinstance(out, FetchedDoc):
            # As WarcRefMiddleware does on one machine (items never reach the spider
            # middlewares here): the first item starts the WARC writer, and a document
            # whose bytes are the response's names that response's record.
            warc = getattr(self.crawler, "nianbao_warc", None)
            if warc is not None and not warc.started:
                warc.start()
            if (response is not None and out.body is response.body and response.status != 304
                    and response.meta.get("warc") is not None):
                out.warc = response.meta["warc"]
            try:
                digest = self.raw.put(out.body)
            except OSError as e:
                why = f"not stored: {e.strerror or e}" + (f" ({e.filename})" if e.filename else "")
                o = self.outcome.get(out.site)
                before, self._current = self._current, batch
                try:
                    if o is not None:
                        o.gap(out.role, out.url, why)
                        if out.role == "detail":
                            o.found -= 1
                            o.detail_failed += 1
                finally:
                    self._current = before
                self._take(batch, FetchFailed(out.url, out.site, out.role, why, parent_url=out.parent_url), response)
                return
            d = asdict(out)
            del d["body"]
            parent = (meta.get("parent_sha256") if out.role == "attachment"
                      else sha256(response.body) if out.parent_url and response is not None else None)
            batch.items.append({"k": "doc", **d, "sha256": digest, "size": len(out.body), "parent_sha256": parent})
        elif isinstance(out, FetchFailed):
            batch.items.append({"k": "fail", **asdict(out), "parent_sha256": meta.get("parent_sha256")})
        elif isinstance(out, NotModified):
            batch.items.append({"k": "nm", **asdict(out)})
        elif isinstance(out, SiteUpdate):
            batch.items.append({"k": "site", **asdict(out)})

    def _commit(self, batch: _Batch) -> None:
        meta = batch.request.meta
        message = {"t": "batch", "fid": meta.get("fid"), "cycle": meta.get("cycle", "adhoc"),
                   "worker": self.frontier.worker, "url": batch.request.url, "pages": batch.pages,
                   "items": batch.items, "events": batch.events}
        self.frontier.settle(batch.request, message, batch.children, meta.get("site"), batch.pages)

    # ------------------------------------------------------------ idle, heartbeat
    def _heartbeat(self) -> None:
        if self.frontier is None:
            return
        self.frontier.beat()
        slot = getattr(self.crawler.engine, "_slot", None)
        if slot is not None:  # look at the shared queue again: others may have added to it
            slot.nextcall.schedule()

    def spider_idle(self):
        """Never close while the frontier has work or Redis is away; with
        NIANBAO_WORKER_IDLE_EXIT > 0, close once it stayed empty that long."""
        idle = False
        try:
            if self.frontier.flush():
                self.frontier.reconcile()  # idle: nothing of ours is in flight here
                fr.recover_dead(self.server)
                idle = fr.frontier_idle(self.server) and not self.frontier.parked
        except fr.REDIS_ERRORS as e:
            self.frontier._down(e)
        now = time.monotonic()
        if not idle:
            self._idle_since = None
        elif self._idle_since is None:
            self._idle_since = now
        if idle and self.idle_exit and now - self._idle_since >= self.idle_exit:
            return
        raise DontCloseSpider

    def closed(self, reason):
        if getattr(self, "_beat", None) is not None and self._beat.running:
            self._beat.stop()
