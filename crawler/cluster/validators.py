"""Conditional requests for workers that cannot read archive.db.

On one machine the crawler reads each known URL's validators (sha256, ETag,
Last-Modified) from `fetches` (middlewares.ConditionalMiddleware). A worker of the
shared frontier may run anywhere, so the archiver publishes those same values in
Redis (`nianbao:validators`, URL → JSON) after it commits them, and the worker reads
them from there; a 304 is answered with the stored bytes from the shared raw store,
as on one machine. Redis away, or a URL unknown: a plain request (never a wrong one).
"""
from __future__ import annotations

import json

from nianbao.pipeline.store import RawStore, raw_root_for

from ..middlewares import ConditionalMiddleware
from . import frontier as fr

KEY = f"{fr.P}:validators"


def publish(r, conn, urls: list[str]) -> None:
    """Copy the validators of `urls` from the archive's `fetches` to Redis."""
    if not urls:
        return
    rows = conn.execute("SELECT url, sha256, etag, last_modified, content_type FROM fetches "
                        "WHERE url IN (SELECT value FROM json_each(?)) AND sha256 IS NOT NULL", (json.dumps(urls),))
    mapping = {url: json.dumps([sha, etag, lm, ctype]) for url, sha, etag, lm, ctype in rows}
    if mapping:
        r.hset(KEY, mapping=mapping)


class FrontierConditional(ConditionalMiddleware):
    def __init__(self, crawler):
        s = crawler.settings
        super().__init__(s.get("NIANBAO_ARCHIVE"))
        self.raw = RawStore(s.get("NIANBAO_RAW") or raw_root_for(s.get("NIANBAO_ARCHIVE")))
        self.r = fr.connect(s.get("NIANBAO_FRONTIER") or s.get("REDIS_URL"))

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _known(self, url: str) -> tuple | None:
        try:
            got = self.r.hget(KEY, url)
        except fr.REDIS_ERRORS:
            return None
        return tuple(json.loads(got)) if got else None
