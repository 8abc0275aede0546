"""Politeness and the list-page cap hold for the whole frontier, not per worker.

Real parts: a real redis-server (test_cluster.Redis), three `nianbao crawl --frontier`
worker processes, `nianbao archiver`, two mock portals over real HTTP that record when
each request arrived and how many they were answering at once. One cycle crawls both:

- a slow portal (0.5 s per answer) whose site YAML says `delay: 0.2`, `concurrency: 2`:
  no two of its request starts closer than 0.2 s as the portal saw them (less a small
  tolerance for the loopback and a busy machine) nor as the workers let them go (on
  Redis's clock), never more than 2 in flight, though 3 workers fetch from it
  (per-worker politeness: 3 at once here, starts 0.007 s apart);
- an endless pager (`max_pages: 12`, no record count) read by several workers: the
  archive holds the 12 list pages and the one gap a one-machine crawl of the same portal
  records (per-worker counting read 18 list pages here and recorded 2 gaps).
"""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml
from test_cluster import Redis, rows

from nianbao.devkit.portals import start_portals, stop_portals

NIANBAO = [sys.executable, "-m", "nianbao"]
DELAY, CONCURRENCY, MAX_PAGES = 0.2, 2, 12
TOLERANCE = 0.05  # seconds: a grant becomes a request on the wire through the event loop and the loopback


def _run(cmd, timeout=120, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


@pytest.fixture(scope="module")
def polite(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("polite")
    redis = Redis(tmp / "redis")
    redis.start()
    slow, endless = portals = start_portals(("static",), count=2, n_reports=14, n_other=2, seed=900,
                                            first_host=230, forms=("html",))
    try:
        slow.delay = 0.5
        # Each page links two further ones and answers slower than idle workers look at the
        # queue: its pages are read by several workers.
        endless.delay = 0.3
        endless.quirks.update({"endless_pager", "no_count", "fanout"})
        sites = tmp / "sites"
        sites.mkdir()
        (sites / "slow.yaml").write_text(yaml.safe_dump({**slow.site_config(), "delay": DELAY,
                                                         "concurrency": CONCURRENCY}), encoding="utf-8")
        (sites / "endless.yaml").write_text(yaml.safe_dump({**endless.site_config(), "max_pages": MAX_PAGES}),
                                            encoding="utf-8")
        # The reference for the cap: the endless pager crawled on one machine.
        single = tmp / "single" / "archive.db"
        single.parent.mkdir()
        p = _run(NIANBAO + ["crawl", "--db", str(single), "--sites", str(sites), "--site", endless.name, "--fast"])
        assert p.returncode == 3, p.stdout + p.stderr  # partial: the cap is a gap
        single_lists = [path for _, path, _ in endless.requests if path.startswith("/xxgk/nb/index")]
        for x in portals:
            x.requests.clear()
            x.starts.clear()
            x.max_inflight = 0
        # The cluster: one cycle, three workers, one archiver.
        db = tmp / "cluster" / "archive.db"
        db.parent.mkdir()
        raw = db.parent / "raw"
        p = _run(NIANBAO + ["cluster", "seed", "--frontier", redis.url, "--sites", str(sites), "--db", str(db)])
        assert p.returncode == 0, p.stderr
        logs = [tmp / f"worker{i}.log" for i in range(3)]
        workers = [subprocess.Popen(NIANBAO + ["crawl", "--frontier", redis.url, "--db", str(db), "--raw", str(raw),
                                               "--fast", "--idle-exit", "1.5", "-s", "NIANBAO_FRONTIER_POLL=0.2",
                                               "-s", "CONCURRENT_REQUESTS=1",  # one request at a time each: shared
                                               "-s", "NIANBAO_WORKER_TTL=5", "-s", "LOG_LEVEL=DEBUG",
                                               "-s", "NIANBAO_POLITE_TRACE=true"],
                                    stdout=subprocess.DEVNULL, stderr=open(log, "w")) for log in logs]
        try:
            arch = _run(NIANBAO + ["archiver", "--once", "--frontier", redis.url, "--db", str(db), "--raw", str(raw)],
                        timeout=90)
            for w in workers:
                w.wait(30)
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
                    w.wait()
        from nianbao.crawler.cluster.politeness import TRACE
        departed = {}  # host → when the workers let its requests go, on Redis's clock
        for x in redis.r.lrange(TRACE, 0, -1):
            host, at = x.decode().split()
            departed.setdefault(host, []).append(float(at))
        yield {"slow": slow, "endless": endless, "db": db, "single": single, "single_lists": single_lists,
               "departed": departed,
               "archiver": arch, "logs": [log.read_text(errors="replace") for log in logs], "redis": redis}
    finally:
        stop_portals(portals)
        redis.stop()


def _fetched_by_worker(logs: list[str], portal) -> list[list[str]]:
    """Per worker, the paths of `portal` it downloaded (Scrapy's DEBUG "Crawled (…) <GET url>")."""
    pat = re.compile(r"Crawled \(\d+\) <(?:GET|POST) " + re.escape(portal.base_url) + r"(/[^ >]*)>")
    return [pat.findall(text) for text in logs]


def test_delay_and_concurrency_hold_across_workers(polite, reliability):
    slow = polite["slow"]
    starts = sorted(slow.starts)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    by_worker = _fetched_by_worker(polite["logs"], slow)
    assert sum(1 for paths in by_worker if paths) >= 2, [len(p) for p in by_worker]  # the load was shared
    assert len(starts) >= 18, len(starts)
    assert min(gaps) >= DELAY - TOLERANCE, sorted(gaps)[:5]
    # What the workers let go, on Redis's clock: never closer than the delay (to its millisecond).
    left = sorted(polite["departed"][slow.host])
    assert len(left) == len(starts), (len(left), len(starts))
    assert min(b - a for a, b in zip(left, left[1:])) >= DELAY - 0.001
    assert slow.max_inflight <= CONCURRENCY, slow.max_inflight
    site = rows(polite["db"], f"SELECT status, found FROM sites WHERE name = '{slow.name}'")
    assert site == [("ok", 14)], rows(polite["db"], "SELECT url, error FROM fetches WHERE error IS NOT NULL")
    reliability("3 frontier workers on one portal (site delay 0.2 s, concurrency 2)",
                "the delay and the concurrency hold for the cluster, not per worker",
                f"{len(starts)} requests from {sum(1 for p in by_worker if p)} workers; closest starts "
                f"{min(gaps):.3f} s apart; at most {slow.max_inflight} in flight; site ok", group="fault")


def test_max_pages_counts_for_the_whole_cluster(polite, reliability):
    endless, db, single = polite["endless"], polite["db"], polite["single"]
    lists = [path for _, path, _ in endless.requests if path.startswith("/xxgk/nb/index")]
    by_worker = [[p for p in paths if p.startswith("/xxgk/nb/index")]
                 for paths in _fetched_by_worker(polite["logs"], endless)]
    assert sum(1 for paths in by_worker if paths) >= 2, by_worker  # the pager was read by several workers
    assert sorted(lists) == sorted(polite["single_lists"]), (lists, polite["single_lists"])
    listed = "SELECT DISTINCT url FROM fetches WHERE site = '{}' AND role = 'list'".format(endless.name)
    assert len(rows(db, listed)) == 1 + MAX_PAGES, rows(db, listed)  # the column's page, then max_pages more
    assert rows(db, listed) == rows(single, listed)
    site = "SELECT status, reason, found, expected, reached FROM sites WHERE name = '{}'".format(endless.name)
    got = rows(db, site)
    assert got == rows(single, site), (got, rows(single, site))
    want = (f"1 gap(s): list {endless.base_url}/xxgk/nb/index_{MAX_PAGES + 1}.htm: pager did not end after "
            f"{MAX_PAGES} list pages (max_pages); stopped there")
    assert got[0][:2] == ("partial", want), got
    # The cycle's counts are gone with the cycle.
    assert not list(polite["redis"].r.scan_iter(match="nianbao:list*"))
    reliability("endless pager read by 3 frontier workers (max_pages 12)",
                "the cap counts for the cluster: the pages and the gap of a one-machine crawl",
                f"{len(lists)} list requests ({', '.join(str(len(p)) for p in by_worker)} per worker), "
                f"1 + {MAX_PAGES} list pages in the archive, one gap, site row equal to one machine's", group="fault")


def test_a_killed_workers_slot_expires_and_a_running_download_keeps_its_own(tmp_path):
    """The lease behind a slot: renewed while its download runs (longer than the lease),
    expired once its worker is gone (here: a gate that stops renewing, as kill -9 does)."""
    import asyncio
    import time

    from scrapy import Request

    from nianbao.crawler.cluster.politeness import ClusterGate

    redis = Redis(tmp_path / "redis")
    redis.start()
    try:
        req = Request("http://127.0.0.250/page")

        async def scenario():
            a = ClusterGate(redis.url, delay=0, concurrency=1, lease=1.0)
            b = ClusterGate(redis.url, delay=0, concurrency=1, lease=1.0)
            held = await a.acquire(req)
            with pytest.raises(TimeoutError):  # the slot stays a's while its download runs, 2.5 leases
                await asyncio.wait_for(b.acquire(req), 2.5)
            a._renewer.cancel()  # a's worker dies: nothing renews, nothing gives back
            t = time.monotonic()
            await asyncio.wait_for(b.acquire(req), 3)
            waited = time.monotonic() - t
            await a.close()
            await b.close()
            return held, waited

        held, waited = asyncio.run(scenario())
        assert held[0] == "127.0.0.250"
        assert waited <= 1.5, waited  # at most one lease after the last renewal
    finally:
        redis.stop()


def test_one_machine_keeps_a_sites_delay_and_concurrency(tmp_path):
    """`nianbao crawl` on one machine honours the site YAML's `delay:` and `concurrency:`
    too (Scrapy's download slots; AutoThrottle kept off the stated delay). Three portals
    in one crawl: one with a delay (answering fast, so only the delay spaces the starts),
    one with concurrency 1 (answering slowly, so a second request would overlap), one with
    neither: it gets the defaults, 2 in flight."""
    spaced, single, other = portals = start_portals(("static",), count=3, n_reports=8, n_other=0, seed=940,
                                                    first_host=240, forms=("html",))
    try:
        spaced.delay, single.delay, other.delay = 0.02, 0.3, 0.3
        sites = tmp_path / "sites"
        sites.mkdir()
        for portal, keys in ((spaced, {"delay": DELAY}), (single, {"concurrency": 1}), (other, {})):
            (sites / f"{portal.name}.yaml").write_text(yaml.safe_dump({**portal.site_config(), **keys}),
                                                       encoding="utf-8")
        db = tmp_path / "archive.db"
        p = _run(NIANBAO + ["crawl", "--db", str(db), "--sites", str(sites), "--fast"])
        assert p.returncode == 0, p.stdout + p.stderr
    finally:
        stop_portals(portals)
    starts = sorted(spaced.starts)
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert len(starts) >= 10 and min(gaps) >= DELAY - TOLERANCE, sorted(gaps)[:3]
    assert single.max_inflight == 1 and len(single.starts) >= 10
    assert other.max_inflight == 2, other.max_inflight
    assert rows(db, "SELECT status, count(*) FROM sites GROUP BY status") == [("ok", 3)]
