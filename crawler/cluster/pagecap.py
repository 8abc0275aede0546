"""`max_pages` per site and crawl cycle, counted for the whole cluster.

On one machine the spider counts the further list pages it requested for a site and
stops an endless pager at `max_pages`, recording the cap as a gap. Each frontier worker
sees only the pages its own callbacks produced, so N workers would read N × max_pages
pages of a pager that never ends. The count lives in Redis instead, per cycle (like the
cycle's duplicate filter, frontier.dupefilter_key), so the cap, the page where it
stops and its one gap are what a one-machine crawl has:

- `nianbao:listpages:<cycle>`: the list pages counted (site + a digest of the request);
- `nianbao:listcount:<cycle>`: site → how many;
- `nianbao:listcap:<cycle>`: site → the request (its frontier id) whose callback was
  refused first: its refusal is the cap's one gap, as on one machine.

Redone callbacks (a worker killed before it settled) ask again with the same pages:
a page already counted is allowed again (the cycle's duplicate filter decides whether
it is fetched), and the request that was refused first is "the first" again (a redone
request keeps its id), so the gap is recorded by whichever run of its callback is
settled, once. The archiver deletes the keys with the cycle's others.
"""
from __future__ import annotations

import hashlib
import json

from . import frontier as fr

ALLOWED, FIRST_REFUSED, REFUSED = 1, 0, -1


def pages_key(cycle: str) -> str:
    return f"{fr.P}:listpages:{cycle}"


def count_key(cycle: str) -> str:
    return f"{fr.P}:listcount:{cycle}"


def first_key(cycle: str) -> str:
    return f"{fr.P}:listcap:{cycle}"


def keys(cycle: str) -> list[str]:
    return [pages_key(cycle), count_key(cycle), first_key(cycle)]


def member(site: str, key: tuple) -> str:
    """A list page as the one-machine spider tells them apart (method, URL, form, body)."""
    return site + "\x1f" + hashlib.sha1(json.dumps(key, ensure_ascii=False, default=str).encode()).hexdigest()


# KEYS: pages, counts, first.  ARGV: site, member, cap, the asking request's id.
_COUNT = """
if redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 1 then return 1 end
local n = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if n < tonumber(ARGV[3]) then
  redis.call('SADD', KEYS[1], ARGV[2])
  redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
  return 1
end
redis.call('HSETNX', KEYS[3], ARGV[1], ARGV[4])
if redis.call('HGET', KEYS[3], ARGV[1]) == ARGV[4] then return 0 end
return -1
"""


def count(r, cycle: str, site: str, key: tuple, cap: int, fid: str) -> int:
    """ALLOWED (counted, or counted before), FIRST_REFUSED (the cap's gap: record it) or
    REFUSED, for a list page that request `fid`'s callback links. Raises redis errors:
    the caller decides what to do without Redis."""
    return int(r.eval(_COUNT, 3, *keys(cycle), site, member(site, key), cap, fid))


def later(cycle: str, site: str, key: tuple, cap: int, fid: str) -> tuple[str, list, list]:
    """The same count as a script call for a worker's outbox (Redis away: counted when it is back)."""
    return _COUNT, keys(cycle), [site, member(site, key), cap, fid]
