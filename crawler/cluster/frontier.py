"""The shared frontier in Redis, and the single-writer path to archive.db.

Why it looks like this: SQLite has one writer, and a crawl worker may die (kill -9, a
lost machine) or lose Redis at any moment; nothing it took may be lost, nothing may be
written twice.

- **Requests** wait in one Redis sorted set (`nianbao:requests`, scrapy-redis's
  PriorityQueue encoding). Seeding (`nianbao cluster seed`) puts each site's start
  request there with a crawl-cycle id; a per-cycle duplicate filter
  (`nianbao:dupefilter:<cycle>`) lets every cycle fetch each URL once, and the next
  cycle fetch it again.
- A worker **takes** a request atomically into its own in-flight set
  (`nianbao:inflight:<worker>`, a Lua script: ZRANGE+ZREM+ZADD in one step) while its
  heartbeat key (`nianbao:worker:<worker>`, a TTL) says it is alive. A worker whose
  heartbeat expired has its in-flight requests put back on the queue by whoever notices
  first (workers when idle, the archiver): a killed worker loses nothing.
- A worker runs a request's callback to the end, puts fetched **bytes** in the
  content-addressed raw store (sha256 names, atomic rename: a shared directory, or an
  S3-compatible bucket mounted there in production), then **settles** the request in
  one Lua script: its new links go on the queue (through the cycle's duplicate
  filter), one message with the items the one-machine item pipeline would have written
  goes on `nianbao:items`, the request leaves the in-flight set and the cycle's count
  of open requests goes down. A request settled once is never settled again
  (`nianbao:settled:<cycle>`), so a request redone after a crash adds nothing twice.
- One **archiver** (`nianbao archiver`) is the only writer of archive.db. It moves a
  message to `nianbao:items:processing` (LMOVE), applies it in one SQLite transaction
  together with a marker row (`frontier_applied`), commits, and only then removes it
  (LREM). Restarted, it first re-applies what is still in its processing list: a
  message taken but not committed is never lost, one committed but not removed is
  recognised by its marker and not applied twice.
- A cycle is over when its open count is 0 and the archiver has applied every
  message: the archiver then writes each site's status from what the workers reported
  (found, failed, gaps, blocked …, the same `SiteOutcome.final()` a one-machine crawl
  uses), closes the run and brings derived data up to date (`Archive.finish()`).
- What a one-machine crawl keeps per process is kept per cluster where a portal would
  feel the difference: its politeness slot (politeness.py: the delay and the requests
  in flight per host) and its list-page count per cycle (pagecap.py: `max_pages`).
- Redis gone: a worker keeps what it must tell Redis in an outbox (in order) and stops
  taking requests; when Redis is back it sends the outbox and carries on. What it had
  not settled is still in its in-flight set, so even a worker killed during the outage
  loses nothing. Redis itself must keep its data across a restart (appendonly yes).
"""
from __future__ import annotations

import json
import logging
import os
import socket
import time
import uuid

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.scheduler import Scheduler

log = logging.getLogger(__name__)

P = "nianbao"
QUEUE = f"{P}:requests"
ITEMS = f"{P}:items"
PROCESSING = f"{P}:items:processing"
REJECTED = f"{P}:items:rejected"  # messages the archiver could not apply, with why
SITES = f"{P}:sites"          # name → site config (JSON), written by the seed
SEEDED = f"{P}:seeded"        # name → when it was last seeded (ISO, UTC)
CYCLES = f"{P}:cycles"        # cycles not yet closed by the archiver
WORKERS = f"{P}:workers"      # worker id → what it is (JSON), for `cluster status`
START_URLS = f"{P}:start_urls"  # scrapy-redis's own start key (unused: seeding goes to the queue)
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, redis.exceptions.BusyLoadingError,
                redis.exceptions.ReadOnlyError)


def alive_key(worker: str) -> str:
    return f"{P}:worker:{worker}"


def inflight_key(worker: str) -> str:
    return f"{P}:inflight:{worker}"


def dupefilter_key(cycle: str) -> str:
    return f"{P}:dupefilter:{cycle}"


def open_key(cycle: str) -> str:
    return f"{P}:open:{cycle}"


def settled_key(cycle: str) -> str:
    return f"{P}:settled:{cycle}"


def progress_key(cycle: str) -> str:
    return f"{P}:progress:{cycle}"


def no_retry() -> Retry:
    """redis-py retries a command whose connection broke, by default: a script that ran
    but whose answer was lost would then run twice. We retry ourselves, knowing which
    calls are safe to repeat (settle, enqueue) and tidying up after the one that is not
    (taking a request: reconcile())."""
    return Retry(NoBackoff(), 0)


def connect(url: str) -> redis.Redis:
    # Short timeouts: a Redis that went away is noticed in seconds, not minutes.
    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=3, retry=no_retry())


def new_id() -> str:
    return uuid.uuid4().hex


# Take the best request into the worker's in-flight set, atomically.
_POP = """
local r = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #r == 0 then return false end
redis.call('ZREM', KEYS[1], r[1])
redis.call('ZADD', KEYS[2], r[2], r[1])
return r
"""

# A request the engine made (a retry, a redirect hop): through the cycle's filter onto
# the queue; the in-flight entries of the request it replaces go (it lives on here).
_ENQUEUE = """
if ARGV[1] ~= '' and redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
if ARGV[4] == '1' then redis.call('INCR', KEYS[3]) end
for i = 5, #ARGV do redis.call('ZREM', KEYS[4], ARGV[i]) end
return 1
"""

# A request done: its links, its message, its in-flight entries and its open count, as one.
# KEYS: queue, dupefilter, open, settled, items, inflight, progress
# ARGV: fid, message, site, pages, n_raws, raws…, then (fp, score, raw) per new request
_SETTLE = """
local nraw = tonumber(ARGV[5])
if redis.call('SADD', KEYS[4], ARGV[1]) == 0 then
  for i = 6, 5 + nraw do redis.call('ZREM', KEYS[6], ARGV[i]) end
  return 0
end
local i = 6 + nraw
while i <= #ARGV do
  if ARGV[i] == '' or redis.call('SADD', KEYS[2], ARGV[i]) == 1 then
    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i + 2])
    redis.call('INCR', KEYS[3])
  end
  i = i + 3
end
redis.call('RPUSH', KEYS[5], ARGV[2])
for j = 6, 5 + nraw do redis.call('ZREM', KEYS[6], ARGV[j]) end
if ARGV[3] ~= '' then redis.call('HINCRBY', KEYS[7], ARGV[3], ARGV[4]) end
redis.call('DECR', KEYS[3])
return 1
"""

# A dead worker's in-flight requests back on the queue (unless it came back to life).
_RECOVER = """
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local m = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
for i = 1, #m, 2 do redis.call('ZADD', KEYS[2], m[i + 1], m[i]) end
redis.call('DEL', KEYS[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return #m / 2
"""


# Requests in our in-flight set that we do not hold (a take whose answer was lost) go back.
_RETURN = """
local n = 0
for i = 1, #ARGV do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score then
    redis.call('ZADD', KEYS[2], score, ARGV[i])
    redis.call('ZREM', KEYS[1], ARGV[i])
    n = n + 1
  end
end
return n
"""


def recover_dead(r: redis.Redis) -> int:
    """Put the in-flight requests of every worker whose heartbeat expired back on the
    queue; returns how many."""
    moved = 0
    for key in r.scan_iter(match=inflight_key("*"), count=100):
        worker = key.decode().rsplit(":", 1)[1]
        n = r.eval(_RECOVER, 4, key, QUEUE, alive_key(worker), WORKERS, worker)
        if n and n > 0:
            log.warning("worker %s is gone: %d request(s) it had taken are back on the queue", worker, n)
            moved += n
    return moved


def frontier_idle(r: redis.Redis) -> bool:
    """Nothing queued and nothing taken by any worker."""
    return not r.zcard(QUEUE) and not any(True for _ in r.scan_iter(match=inflight_key("*"), count=100))


class CycleDupeFilter(RFPDupeFilter):
    """scrapy-redis's fingerprints, kept per crawl cycle: the next cycle fetches again."""

    def request_seen(self, request):
        key = dupefilter_key(request.meta.get("cycle") or "adhoc")
        return self.server.sadd(key, self.request_fingerprint(request)) == 0


class FrontierScheduler(Scheduler):
    """scrapy-redis's scheduler with reliable taking and settling (see the module text).

    Settings: NIANBAO_FRONTIER (redis://…, also REDIS_URL), NIANBAO_WORKER_TTL (seconds
    without a heartbeat before a worker counts as dead), NIANBAO_FRONTIER_POLL (seconds
    between looks at an empty queue)."""

    def open(self, spider):
        super().open(spider)
        settings = spider.crawler.settings
        self.ttl = max(2, settings.getint("NIANBAO_WORKER_TTL", 15))
        self.worker = f"{socket.gethostname()}-{os.getpid()}-{new_id()[:6]}"
        self.outbox: list[tuple] = []  # Redis calls still to make, in order (Redis was away)
        self.raws: dict[str, list[bytes]] = {}  # request id → its encodings in our in-flight set
        self.parked: list = []  # requests taken while a site config could not be read
        self.down_since: float | None = None
        spider.frontier = self
        self.beat()
        try:
            recover_dead(self.server)
        except REDIS_ERRORS as e:
            self._down(e)

    # ---------------------------------------------------------------- Redis health
    def _down(self, e: Exception) -> None:
        if self.down_since is None:
            self.down_since = time.monotonic()
            log.warning("Redis unavailable (%s): pausing; nothing is lost, %d call(s) wait", e, len(self.outbox))

    def _up(self) -> None:
        if self.down_since is not None:
            log.warning("Redis is back after %.1f s: resuming", time.monotonic() - self.down_since)
            self.down_since = None
            try:
                self.reconcile()
            except REDIS_ERRORS as e:
                self._down(e)

    def reconcile(self) -> int:
        """Put back on the queue what our in-flight set holds that this process does not:
        a request taken by a script whose answer the broken connection lost."""
        known = {raw for raws in self.raws.values() for raw in raws}
        lost = [m for m in self.server.zrange(inflight_key(self.worker), 0, -1) if m not in known]
        if not lost:
            return 0
        n = self.server.eval(_RETURN, 2, inflight_key(self.worker), QUEUE, *lost)
        if n:
            log.warning("%d request(s) taken while the connection broke are back on the queue", n)
        return n

    def call(self, script: str, keys: list, args: list):
        """Run a script now, or keep it for later, after the ones already waiting."""
        self.outbox.append((script, keys, args))
        self.flush()

    def flush(self) -> bool:
        """Send what waits in the outbox, in order; False while Redis is away."""
        while self.outbox:
            script, keys, args = self.outbox[0]
            try:
                self.server.eval(script, len(keys), *keys, *args)
            except REDIS_ERRORS as e:
                self._down(e)
                return False
            self.outbox.pop(0)
        return True

    def beat(self) -> None:
        try:
            self.server.set(alive_key(self.worker), "1", ex=self.ttl)
            self.server.hset(WORKERS, self.worker, json.dumps({"host": socket.gethostname(), "pid": os.getpid(),
                                                               "seen": time.time()}))
        except REDIS_ERRORS as e:
            self._down(e)
            return
        if self.flush():
            self._up()

    # ---------------------------------------------------------------- Scheduler API
    def has_pending_requests(self):
        # Never "the queue has some": another worker may take them first, and the engine
        # would then wait for its 5 s heartbeat. Idle → spider_idle → we poll again.
        return bool(self.parked)

    def __len__(self):
        return len(self.parked)

    def enqueue_request(self, request):
        """Requests the engine hands us: retries and redirect hops of a request taken
        here (they keep its id), or new ones (start requests, scrapy-redis style)."""
        meta = request.meta
        new = "fid" not in meta
        if new:
            meta["fid"] = new_id()
        cycle = meta.setdefault("cycle", "adhoc")
        fp = "" if request.dont_filter else self.df.request_fingerprint(request)
        raw = self.queue._encode_request(request)
        old = self.raws.pop(meta["fid"], [])
        keys = [QUEUE, dupefilter_key(cycle), open_key(cycle), inflight_key(self.worker)]
        args = [fp, -request.priority, raw, "1" if new else "0", *old]
        if self.outbox or self.down_since is not None:
            self.call(_ENQUEUE, keys, args)  # kept in order; the filter is asked when Redis is back
            return True
        try:
            added = self.server.eval(_ENQUEUE, len(keys), *keys, *args)
        except REDIS_ERRORS as e:
            self._down(e)
            self.outbox.append((_ENQUEUE, keys, args))
            return True
        if not added:
            self.raws[meta["fid"]] = old  # still ours: the spider settles it (on_dropped)
        if self.stats and added:
            self.stats.inc_value("scheduler/enqueued/redis")
        return bool(added)

    def next_request(self):
        if self.parked:
            req = self.parked[0]
            if not self._know_site(req):
                return None
            return self.parked.pop(0)
        if not self.flush():
            return None
        try:
            got = self.server.eval(_POP, 2, QUEUE, inflight_key(self.worker))
        except REDIS_ERRORS as e:
            self._down(e)
            return None
        self._up()
        if not got:
            return None
        raw = got[0]
        req = self.queue._decode_request(raw)
        self.raws.setdefault(req.meta.get("fid"), []).append(raw)
        if self.stats:
            self.stats.inc_value("scheduler/dequeued/redis")
        if not self._know_site(req):
            self.parked.append(req)
            return None
        return req

    def _know_site(self, req) -> bool:
        try:
            return self.spider.know_site(req.meta.get("site"))
        except REDIS_ERRORS as e:
            self._down(e)
            return False

    def settle(self, request, message: dict, children: list, site: str | None, pages: int) -> None:
        """The request is done: see _SETTLE. `children`: (fingerprint or '', score, encoding)."""
        fid, cycle = request.meta.get("fid"), request.meta.get("cycle", "adhoc")
        raws = self.raws.pop(fid, [])
        keys = [QUEUE, dupefilter_key(cycle), open_key(cycle), settled_key(cycle), ITEMS, inflight_key(self.worker),
                progress_key(cycle)]
        args = [fid, json.dumps(message, ensure_ascii=False), site or "", pages, len(raws), *raws]
        for fp, score, raw in children:
            args += [fp, score, raw]
        self.call(_SETTLE, keys, args)

    def encode(self, request) -> tuple[str, int, bytes]:
        return ("" if request.dont_filter else self.df.request_fingerprint(request), -request.priority,
                self.queue._encode_request(request))

    def close(self, reason):
        # Persist (SCHEDULER_PERSIST): the queue is everyone's. Our in-flight set is put
        # back at once when nothing of it is left to settle; else its heartbeat expires.
        self.flush()
        try:
            if not self.outbox:
                self.server.delete(alive_key(self.worker))
                recover_dead(self.server)
        except REDIS_ERRORS:
            pass
        super().close(reason)
