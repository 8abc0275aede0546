"""`nianbao sites add`: a few polite synchronous requests to find a column and its family."""
from __future__ import annotations

import urllib.error
import urllib.request
import urllib.robotparser
from urllib.parse import urlsplit

from . import discovery, families
from .antibot import detect_wall
from .families.base import decode
from .settings import USER_AGENT


class ProbeError(RuntimeError):
    pass


def _get(url: str, robots: urllib.robotparser.RobotFileParser | None) -> tuple[str, str]:
    if robots is not None and not robots.can_fetch("nianbao", url):
        raise ProbeError(f"robots.txt forbids {url}")
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            body, status, headers = r.read(), r.status, {k.lower(): v for k, v in r.headers.items()}
            final = r.geturl()
    except urllib.error.HTTPError as e:
        body, status, headers, final = e.read(), e.code, {k.lower(): v for k, v in e.headers.items()}, url
    wall = detect_wall(status, headers, body)
    if wall:
        raise ProbeError(f"{url}: blocked by {wall}")
    if status != 200:
        raise ProbeError(f"{url}: HTTP {status}")
    return final, decode(body, headers.get("content-type"))


def _robots(url: str):
    """The host's robots.txt, read as RFC 9309 says and as the crawl reads it
    (crawler/middlewares.py): a 4xx answer (401 and 403 included) means there are no
    rules, allow all (§2.3.1.3); a 5xx or no answer means disallow all (§2.3.1.4).
    urllib's own `read()` disallows everything on 401/403, so it is not used."""
    parts = urlsplit(url)
    robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
    rp = urllib.robotparser.RobotFileParser(robots_url)
    req = urllib.request.Request(robots_url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            rp.parse(decode(r.read(), r.headers.get("content-type")).splitlines())
    except urllib.error.HTTPError as e:
        if not 400 <= e.code < 500:
            raise ProbeError(f"robots.txt answered HTTP {e.code}: treated as disallow all (RFC 9309); "
                             "try again later") from None
        rp.allow_all = True
    except (OSError, ValueError) as e:
        raise ProbeError(f"robots.txt unreachable ({e}): treated as disallow all (RFC 9309)") from None
    return rp


def probe_site(url: str, *, name: str | None = None) -> dict:
    robots = _robots(url)
    column = None
    todo, seen = [url], set()
    for _ in range(4):
        if not todo:
            break
        page = todo.pop(0)
        if page in seen:
            continue
        seen.add(page)
        final, text = _get(page, robots)
        column = discovery.column_on(final, text)
        if column:
            break
        todo.extend(u for u in discovery.find_xxgk(final, text)[:3] if u not in seen)
    if not column:
        raise ProbeError(f"no 年报 column found from {url}")
    final, text = _get(column, robots)
    fam = families.detect(final, text)
    from .config import slug
    return {"name": name or slug(urlsplit(url).netloc), "start_url": column, "family": fam.NAME,
            "discovered_from": url}
