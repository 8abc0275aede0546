"""Seeding a crawl cycle onto the shared frontier, and which sites are due.

    nianbao cluster seed --frontier redis://… --sites DIR [--due]

A cycle is one `runs` row: its sites' start requests go on the queue with the cycle id
(the duplicate filter is per cycle, so every cycle reads every column afresh, with
conditional requests where the archive holds a version).

Schedule: the reports are due by 31 January and appear January–March, so in spring
(January–March) a column is due weekly, otherwise monthly. A site's YAML may say
otherwise: `schedule: daily | weekly | monthly | never | <N>d`, or
`schedule: {spring: weekly, rest: monthly}`. When each site was last seeded is kept in
Redis (`nianbao:seeded`).
"""
from __future__ import annotations

import asyncio
import json
import re
from datetime import datetime, timedelta, timezone

from scrapy_redis.queue import PriorityQueue

from . import frontier as fr

NAMED = {"daily": timedelta(days=1), "weekly": timedelta(days=7), "monthly": timedelta(days=30), "never": None}
DEFAULT = {"spring": "weekly", "rest": "monthly"}
SLACK = timedelta(hours=1)  # a timer firing at the same hour each week is never a few seconds early


def _interval(word) -> timedelta | None:
    word = str(word).strip().lower()
    if word in NAMED:
        return NAMED[word]
    m = re.fullmatch(r"(\d+)\s*d", word)
    if m:
        return timedelta(days=int(m.group(1)))
    raise ValueError(f"schedule {word!r}: use daily, weekly, monthly, never or <N>d")


def interval(site: dict, when: datetime) -> timedelta | None:
    """How often `site` is due at `when` (None: never, only when seeded by name)."""
    sched = site.get("schedule") or DEFAULT
    if not isinstance(sched, dict):
        return _interval(sched)
    unknown = set(sched) - {"spring", "rest"}
    if unknown:
        raise ValueError(f"site {site['name']}: schedule keys are spring and rest, not {', '.join(sorted(unknown))}")
    season = "spring" if when.month <= 3 else "rest"
    return _interval(sched.get(season, DEFAULT[season]))


def due(sites: list[dict], seeded: dict[str, str], when: datetime) -> list[dict]:
    out = []
    for s in sites:
        every = interval(s, when)
        last = seeded.get(s["name"])
        if every is None:
            continue
        if last is None or when - datetime.fromisoformat(last) >= every - SLACK:
            out.append(s)
    return out


def last_seeded(r) -> dict[str, str]:
    return {k.decode(): v.decode() for k, v in r.hgetall(fr.SEEDED).items()}


def seed(r, sites: list[dict], *, when: datetime | None = None, cycle: str | None = None) -> tuple[str, int]:
    """Put the start requests of `sites` on the frontier as one new cycle, atomically."""
    from ..spiders.column import ColumnSpider
    from ..spiders.frontier import FrontierSpider

    when = when or datetime.now(timezone.utc)
    cycle = cycle or f"{when:%Y%m%dT%H%M%SZ}-{fr.new_id()[:6]}"
    spider = FrontierSpider(sites=[])
    for s in sites:
        spider._add_site(dict(s))
    requests = _collect(ColumnSpider.start(spider))  # the start requests a one-machine crawl makes
    queue = PriorityQueue(r, spider, fr.QUEUE)
    stamp = when.replace(microsecond=0).isoformat()
    with r.pipeline(transaction=True) as p:
        for s in sites:
            p.hset(fr.SITES, s["name"], json.dumps(s, ensure_ascii=False))
        p.rpush(fr.ITEMS, json.dumps({"t": "cycle", "cycle": cycle, "sites": {s["name"]: s for s in sites}},
                                     ensure_ascii=False))
        for req in requests:
            req.meta["fid"], req.meta["cycle"] = fr.new_id(), cycle
            p.zadd(fr.QUEUE, {queue._encode_request(req): -req.priority})
        p.incrby(fr.open_key(cycle), len(requests))
        p.sadd(fr.CYCLES, cycle)
        for s in sites:
            p.hset(fr.SEEDED, s["name"], stamp)
        p.execute()
    return cycle, len(requests)


def _collect(agen) -> list:
    async def run():
        return [x async for x in agen]
    return asyncio.run(run())
