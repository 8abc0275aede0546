"""Resource caps of the public site: no anonymous request may take the server's memory
or all of its time.

Three kinds of cap, all configurable under `plugins.nianbao.limits` in the metadata
(`nianbao serve --limit NAME=VALUE`), defaults in `DEFAULTS`:

- SQL functions the plugin registers check the size of what they are given: a call past
  the cap fails at once with SQLite's own "string or blob too big" instead of building
  gigabytes of bigrams. They also keep the SQL time limit themselves: Datasette's
  progress handler looks at the clock only every 1,000 SQLite instructions, and 1,000
  instructions can hold a hundred calls of a Python function (a query of 200 calls on
  1 MB each ran 47 s past a 5 s limit). Each statement's start is noted (trace
  callback); a call that finds the statement past sql_time_limit_ms interrupts it, and
  Datasette answers with its usual "SQL query took too long". SQLite's own length limit
  (SQLITE_LIMIT_LENGTH) caps any string or blob a query builds, e.g. with zeroblob().
- Page images are drawn in a child process (render.py) with at most
  `page_image_max_pixels` pixels, a memory limit and a time limit, so a tiny PDF with a
  huge page can cost neither 3.7 GB nor a stuck thread.
- Expensive routes (page images, arbitrary SQL, CSV exports, search) run at most
  `expensive_per_client` at once per client and `expensive_total` at once in all, fewer
  than Datasette's SQL threads: a client past that gets 429 with Retry-After, and
  ordinary pages always find a free thread.
"""
from __future__ import annotations

import re
import sqlite3
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from .. import search

DEFAULTS: dict[str, Any] = {
    # nianbao_bigrams / nianbao_snippet text argument: a whole report is ~200,000 characters.
    "function_max_chars": 1_000_000,
    # nianbao_fts_query / nianbao_snippet query argument: what a person types in a search box.
    "function_max_query_chars": 1_000,
    # SQLITE_LIMIT_LENGTH of the site's connections: the largest string or blob a query may
    # hold or build (stored section texts are far below it).
    "max_value_bytes": 16_000_000,
    "page_image_max_pixels": 4_000_000,  # 2000 × 2000: an A4 page at 1.5× is 1.3 MP
    "page_image_timeout_s": 10.0,
    "page_image_memory_mb": 512,  # address space of the drawing process (an A4 page needs < 200)
    "expensive_per_client": 2,
    "expensive_total": 3,  # below num_sql_threads (4): one thread stays for ordinary pages
    "retry_after_s": 2,
    # Behind a reverse proxy every request comes from the proxy: name the header that
    # carries the client's address (e.g. "x-forwarded-for"; its first entry is used).
    "client_header": None,
}


def configured(config: dict | None) -> dict[str, Any]:
    """DEFAULTS overridden by `limits` of the plugin config; unknown names are an error."""
    given = dict((config or {}).get("limits") or {})
    unknown = set(given) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown site limit(s) {sorted(unknown)}; known: {sorted(DEFAULTS)}")
    out = dict(DEFAULTS)
    for k, v in given.items():
        out[k] = v if v is None or DEFAULTS[k] is None else type(DEFAULTS[k])(v)
    return out


def parse_assignments(pairs: list[str] | tuple[str, ...]) -> dict[str, Any]:
    """`["page_image_max_pixels=2000000"]` → {"page_image_max_pixels": 2000000}, checked."""
    out: dict[str, Any] = {}
    for p in pairs:
        name, sep, value = p.partition("=")
        if not sep:
            raise ValueError(f"{p!r}: expected NAME=VALUE")
        out[name.strip()] = value.strip() or None
    return {k: v for k, v in configured({"limits": out}).items() if k in out}


# ---------------------------------------------------------------- SQL functions
def register_functions(conn: sqlite3.Connection, limits: dict[str, Any], time_limit_ms: float | None = None) -> None:
    """The search functions of pipeline.search, each refusing input past its cap and
    interrupting its statement once that has run `time_limit_ms`.

    OverflowError is what Python's sqlite3 turns into SQLITE_TOOBIG: the query fails with
    "string or blob too big", the same error SQLite gives for its own length limit."""
    max_text, max_q = int(limits["function_max_chars"]), int(limits["function_max_query_chars"])
    started = [time.perf_counter()]
    if time_limit_ms:
        # Called as each statement starts to run (the site never writes, so no trigger
        # statements restart the clock mid-query).
        conn.set_trace_callback(lambda _sql: started.__setitem__(0, time.perf_counter()))

    def check(value: Any, cap: int) -> bool:
        if isinstance(value, (str, bytes)) and len(value) > cap:
            raise OverflowError(f"argument of {len(value)} characters is over the site's cap of {cap}")
        if time_limit_ms and (time.perf_counter() - started[0]) * 1000 > time_limit_ms:
            conn.interrupt()  # the statement stops at its next instruction: SQLITE_INTERRUPT
            return False
        return True

    def bigrams(text):
        return search.bigrams(text) if check(text, max_text) else None

    def fts_query(q):
        return search.fts_query(q) if check(q, max_q) else None

    def snippet(text, q):
        return search.snippet(text, q) if check(text, max_text) and check(q, max_q) else None

    conn.create_function("nianbao_fts_query", 1, fts_query, deterministic=True)
    conn.create_function("nianbao_bigrams", 1, bigrams, deterministic=True)
    conn.create_function("nianbao_snippet", 2, snippet, deterministic=True)
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, int(limits["max_value_bytes"]))


# ---------------------------------------------------------------- expensive routes
_PAGE_IMAGE = re.compile(r"^/report/[0-9a-f]{64}/page/\d+\.png$")
_SEARCH_QUERY = re.compile(r"^/[^/]+/fulltext(\.\w+)?$")


def expensive(path: str, query_string: bytes | str) -> str | None:
    """Which kind of expensive request this is, or None for an ordinary page."""
    if _PAGE_IMAGE.match(path):
        return "page_image"
    qs = query_string.decode("latin-1") if isinstance(query_string, bytes) else query_string
    params = {k for k, _ in parse_qsl(qs, keep_blank_values=True)}
    if "sql" in params:
        return "sql"
    if path.endswith(".csv"):
        return "csv"
    if path == "/search" or _SEARCH_QUERY.match(path) or "_search" in params or any(
            p.startswith("_search_") for p in params):
        return "search"
    return None


class Gate:
    """Counts expensive requests in flight, per client and in all. Used only from the
    event loop's thread, so plain counters need no lock."""

    def __init__(self, per_client: int, total: int):
        self.per_client, self.total = per_client, total
        self.active: Counter[str] = Counter()
        self.in_flight = 0

    def enter(self, client: str) -> bool:
        if self.active[client] >= self.per_client or self.in_flight >= self.total:
            return False
        self.active[client] += 1
        self.in_flight += 1
        return True

    def leave(self, client: str) -> None:
        self.active[client] -= 1
        self.in_flight -= 1
        if self.active[client] <= 0:
            del self.active[client]


def client_of(scope: dict, header: str | None) -> str:
    if header:
        for k, v in scope.get("headers") or []:
            if k.decode("latin-1").lower() == header.lower():
                return v.decode("latin-1").split(",")[0].strip()
    client = scope.get("client")
    return client[0] if client else "?"


ASGIApp = Callable[[dict, Callable, Callable], Awaitable[None]]


def concurrency_limiter(app: ASGIApp, limits: dict[str, Any]) -> ASGIApp:
    """ASGI middleware: past the caps, an expensive request is answered 429 at once."""
    gate = Gate(int(limits["expensive_per_client"]), int(limits["expensive_total"]))
    retry = str(int(limits["retry_after_s"]))
    header = limits.get("client_header")

    async def limited(scope, receive, send):
        kind = expensive(scope.get("path", ""), scope.get("query_string", b"")) if scope["type"] == "http" else None
        if kind is None:
            return await app(scope, receive, send)
        client = client_of(scope, header)
        if not gate.enter(client):
            body = (f"429 请求过多：同一客户端同时进行的检索、SQL 查询、CSV 导出和页面图片请求已达上限，请 {retry} 秒后重试。\n"
                    f"Too many expensive requests ({kind}) at once; retry after {retry} s.\n").encode()
            await send({"type": "http.response.start", "status": 429,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", retry.encode()),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        try:
            await app(scope, receive, send)
        finally:
            gate.leave(client)

    return limited
