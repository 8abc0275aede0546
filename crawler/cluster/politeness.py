"""Politeness per portal for the whole cluster, not per worker.

On one machine Scrapy's downloader keeps `DOWNLOAD_DELAY` between the starts of two
requests to a host and at most `CONCURRENT_REQUESTS_PER_DOMAIN` of them in flight. Each
frontier worker does the same for itself only: N workers would press a portal N times
as hard, and a government portal that throttles or bans us counts requests, not
processes. So every worker asks Redis before a request goes out:

- `nianbao:polite:<host>:inflight`, a sorted set of leases (token → when it expires):
  at most K of them at once (K: the site's `concurrency:`, else
  CONCURRENT_REQUESTS_PER_DOMAIN);
- `nianbao:polite:<host>:next`, the earliest time the next request may start: one
  start per delay (the site's `delay:`, else NIANBAO_POLITE_DELAY, else DOWNLOAD_DELAY).

Both are decided in one Lua script on Redis's own clock (`TIME`), so workers on
machines whose clocks differ still agree. No other start at the host is granted until
the granted request has actually left (its worker's event loop may have stalled in
between: a long callback, a starved process), and the next start counts from then. A request that may not start yet waits
(asyncio.sleep: the reactor is asyncio's) and asks again. Its lease is given back when
the response or the error comes back; a lease expires after NIANBAO_WORKER_TTL seconds
unless its worker renews it (every third of that), so a killed worker holds no slot
for longer than a dead worker holds its requests.

Why in the download handler rather than a downloader middleware: a middleware runs
before Scrapy's own per-worker slot queue, where AutoThrottle's delay is still waited
out, so a start granted there could leave later and land next to another worker's. The
handler is the last step before the wire: Scrapy's per-worker delay and AutoThrottle
still apply first (on top), and the cluster's grant is what the portal sees.

No grant, no request: while Redis is away, requests wait for it (the worker pauses, as
its scheduler does), and leases that could not be given back are given back when it
returns (or expire).
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from . import frontier as fr

log = logging.getLogger(__name__)


def inflight_key(host: str) -> str:
    return f"{fr.P}:polite:{host}:inflight"


def next_key(host: str) -> str:
    return f"{fr.P}:polite:{host}:next"


def leaving_key(host: str) -> str:
    return f"{fr.P}:polite:{host}:leaving"


# KEYS: inflight, next, leaving.  ARGV: token, concurrency (0: no limit), delay ms, lease ms.
# Returns 0 (granted), the milliseconds until the next start is allowed, or -1 (full, or
# the request granted last has not left yet: ask again soon).
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local k = tonumber(ARGV[2])
if k > 0 and redis.call('ZCARD', KEYS[1]) >= k then return -1 end
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local nxt = tonumber(redis.call('GET', KEYS[2]) or '0')
if now < nxt then return nxt - now end
redis.call('ZADD', KEYS[1], now + lease, ARGV[1])
redis.call('PEXPIRE', KEYS[1], lease)
local d = tonumber(ARGV[3])
if d > 0 then
  redis.call('SET', KEYS[2], now + d, 'PX', d)
  redis.call('SET', KEYS[3], ARGV[1], 'PX', lease)
end
return 0
"""

# A granted request leaves now: until it says so (or its lease runs out: a worker killed in
# between) nobody else is granted a start at its host, and the next start counts from
# here, not from the grant, so a worker whose event loop stalled between the two (a long
# callback, a starved process) does not bring another worker's start closer.
# KEYS: next, leaving, trace.  ARGV: delay ms, token, host (tracing on) or ''.
_DEPART = """
local d = tonumber(ARGV[1])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[3], ARGV[3] .. ' ' .. t[1] .. '.' .. string.format('%06d', t[2])) end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
if d <= 0 then return 0 end
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + d > nxt then redis.call('SET', KEYS[1], now + d, 'PX', d) end
return 1
"""
TRACE = f"{fr.P}:polite:trace"  # "host seconds.micros" per departure, with NIANBAO_POLITE_TRACE (benchmarks)

# Keep our leases alive while their downloads run. ARGV: lease ms, then (host key, token) pairs.
_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
for i = 2, #ARGV, 2 do
  redis.call('ZADD', ARGV[i], 'XX', now + lease, ARGV[i + 1])
  redis.call('PEXPIRE', ARGV[i], lease)
end
return 1
"""


class ClusterGate:
    """The worker's side of the shared politeness: acquire before a request starts,
    release when it ended, renew leases in between."""

    def __init__(self, url: str, *, delay: float, concurrency: int, lease: float, poll: float = 0.1,
                 sites=lambda request: None, trace: bool = False):
        self.url, self.delay, self.concurrency = url, delay, concurrency
        self.lease_ms = max(1000, int(lease * 1000))
        self.poll = poll
        self.sites = sites  # request → its site config (for `delay:` / `concurrency:`), or None
        self.trace = trace  # record each departure on Redis's clock (TRACE): what the gate let go, when
        self.worker = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.held: dict[str, str] = {}  # token → host
        self.unreleased: list[tuple[str, str]] = []  # (host, token) Redis was away to hear about
        self.r: aioredis.Redis | None = None
        self._renewer: asyncio.Task | None = None
        self._departing: set[asyncio.Task] = set()
        self._asking: dict[str, asyncio.Lock] = {}  # host → the lock its waiting requests queue on
        self._freed: dict[str, asyncio.Event] = {}  # host → set when one of our requests to it ended
        self._down_since: float | None = None
        self.waited = 0.0  # seconds requests waited for the cluster, for the stats

    def _redis(self) -> aioredis.Redis:
        if self.r is None:  # made on the running loop: redis.asyncio binds its connections to it
            # No retries of our own scripts by redis-py (frontier.no_retry says why); we ask again.
            self.r = aioredis.Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=3,
                                             retry=AsyncRetry(NoBackoff(), 0))
        return self.r

    def limits(self, request) -> tuple[float, int]:
        site = self.sites(request) or {}
        delay = site.get("delay")
        conc = site.get("concurrency")
        return (float(delay) if delay is not None else self.delay,
                int(conc) if conc is not None else self.concurrency)

    def depart(self, lease: tuple[str, str], request) -> None:
        """Move the host's next start to (about) when this request goes on the wire: sent
        without waiting for the answer, in the same turn of the event loop as the request."""
        delay, _ = self.limits(request)
        if delay > 0 or self.trace:
            task = asyncio.get_running_loop().create_task(self._depart(lease, delay))
            self._departing.add(task)  # the loop keeps only a weak reference to a task
            task.add_done_callback(self._departing.discard)

    async def _depart(self, lease: tuple[str, str], delay: float) -> None:
        host, token = lease
        try:
            await self._redis().eval(_DEPART, 3, next_key(host), leaving_key(host), TRACE, int(delay * 1000),
                                     token, host if self.trace else "")
        except fr.REDIS_ERRORS:
            pass  # the grant's own next start stands; the host waits for the lease to run out

    async def acquire(self, request) -> tuple[str, str]:
        host = urlsplit(request.url).hostname or ""
        delay, conc = self.limits(request)
        token = f"{self.worker}:{uuid.uuid4().hex[:12]}"
        started = time.monotonic()
        r = self._redis()
        # One request per host and worker asks Redis at a time (the others queue here, in
        # order): a worker holding many requests for a busy portal does not poll for each.
        async with self._asking.setdefault(host, asyncio.Lock()):
            while True:
                try:
                    await self._give_back(r)
                    wait = await r.eval(_ACQUIRE, 3, inflight_key(host), next_key(host), leaving_key(host),
                                        token, conc, int(delay * 1000), self.lease_ms)
                except fr.REDIS_ERRORS as e:
                    if self._down_since is None:
                        self._down_since = time.monotonic()
                        log.warning("Redis unavailable (%s): requests wait for the cluster's politeness slot", e)
                    await asyncio.sleep(0.5)
                    continue
                if self._down_since is not None:
                    log.warning("Redis is back: politeness slots granted again")
                    self._down_since = None
                if wait == 0:
                    break
                if wait > 0:  # the next start is known: sleep until then
                    await asyncio.sleep(wait / 1000)
                    continue
                # Full: ask again after a while (jittered, so workers do not ask in step),
                # or at once when one of our own requests to this host ends.
                freed = self._freed.setdefault(host, asyncio.Event())
                freed.clear()
                try:
                    await asyncio.wait_for(freed.wait(), self.poll * random.uniform(0.8, 1.2))
                except TimeoutError:
                    pass
        self.held[token] = host
        self.waited += time.monotonic() - started
        if self._renewer is None or self._renewer.done():
            self._renewer = asyncio.get_running_loop().create_task(self._renew())
        return host, token

    async def release(self, lease: tuple[str, str]) -> None:
        host, token = lease
        self.held.pop(token, None)
        self.unreleased.append((host, token))
        if host in self._freed:
            self._freed[host].set()
        try:
            await self._give_back(self._redis())
        except fr.REDIS_ERRORS:
            pass  # given back with the next call that reaches Redis, or it expires

    async def _give_back(self, r) -> None:
        # Taken off the list before the await: another request's coroutine may give back too.
        while self.unreleased:
            host, token = self.unreleased.pop(0)
            try:
                await r.zrem(inflight_key(host), token)
            except BaseException:
                self.unreleased.insert(0, (host, token))
                raise

    async def _renew(self) -> None:
        every = self.lease_ms / 3000
        while True:
            await asyncio.sleep(every)
            if not self.held:
                continue
            args = [self.lease_ms]
            for token, host in list(self.held.items()):
                args += [inflight_key(host), token]
            try:
                await self._redis().eval(_RENEW, 0, *args)
            except fr.REDIS_ERRORS:
                pass  # Redis away: nobody is granted anything meanwhile either

    async def close(self) -> None:
        if self._renewer is not None:
            self._renewer.cancel()
        for token, host in list(self.held.items()):
            self.unreleased.append((host, token))
        self.held.clear()
        if self.r is not None:
            try:
                await self._give_back(self.r)
            except fr.REDIS_ERRORS:
                pass
            await self.r.aclose()


class PoliteHandler(HTTP11DownloadHandler):
    """Scrapy's HTTP/1.1 handler, started only with the cluster's grant (see the module
    text). Frontier workers use it for http and https (spiders/frontier.py) unless
    NIANBAO_POLITE is false."""

    def __init__(self, crawler):
        super().__init__(crawler)
        s = crawler.settings
        delay = s.get("NIANBAO_POLITE_DELAY")
        conc = s.get("NIANBAO_POLITE_CONCURRENCY")
        self.gate = ClusterGate(
            s.get("NIANBAO_FRONTIER") or s.get("REDIS_URL"),
            delay=float(delay) if delay is not None else s.getfloat("DOWNLOAD_DELAY"),
            concurrency=int(conc) if conc is not None else s.getint("CONCURRENT_REQUESTS_PER_DOMAIN"),
            lease=s.getfloat("NIANBAO_WORKER_TTL", 15), poll=s.getfloat("NIANBAO_POLITE_POLL", 0.1),
            sites=self._site_of, trace=s.getbool("NIANBAO_POLITE_TRACE"))
        self.stats = crawler.stats

    def _site_of(self, request) -> dict | None:
        spider = self._crawler.spider
        sites = getattr(spider, "sites", None) or {}
        name = request.meta.get("site")
        if name is None and hasattr(spider, "site_for_url"):  # robots.txt: the site of its host
            name = spider.site_for_url(request.url)
        return sites.get(name)

    async def download_request(self, request):
        lease = await self.gate.acquire(request)
        try:
            self.gate.depart(lease, request)
            return await super().download_request(request)
        finally:
            await self.gate.release(lease)
            self.stats.set_value("nianbao/polite/waited_s", round(self.gate.waited, 3))

    async def close(self) -> None:
        await self.gate.close()
        await super().close()
