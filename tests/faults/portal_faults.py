"""Shared helpers of the crawl fault tests: mock portals with a fault table, a crawl
in a `nianbao` subprocess with short retries and timeouts, and archive queries.

Kept out of a conftest on purpose (tests/faults/ is shared with the kill tests)."""
from __future__ import annotations

import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from dbq import q, rows  # noqa: F401  (one query helper for every crawl test)

# Retries and timeouts short enough for a test, long enough to be real: every retried
# fault is still retried (2 times), a stalled answer still times out.
FAST_FAULTS = ("-s", "RETRY_TIMES=2", "-s", "RETRY_BACKOFF_BASE=0.05", "-s", "DOWNLOAD_TIMEOUT=3",
               "-s", "CRAWL_PROGRESS_INTERVAL=600")


@dataclass
class Crawl:
    code: int
    out: str
    err: str
    took: float
    max_rss_mb: float  # peak resident memory of the biggest child process so far


def write_sites(d: Path, portals, extra: dict | None = None) -> Path:
    """One site YAML per portal; `extra` maps a portal name to more config keys."""
    d.mkdir(parents=True, exist_ok=True)
    for p in portals:
        cfg = {**p.site_config(), **((extra or {}).get(p.name) or {})}
        (d / f"{p.name}.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return d


def crawl(db: Path, sites: Path, *args: str, command: str = "crawl", timeout: float = 240, env=None,
          python: list[str] | None = None) -> Crawl:
    t = time.time()
    cmd = [*(python or [sys.executable, "-m", "nianbao"]), command, "--fast", "--db", str(db), "--sites", str(sites),
           *FAST_FAULTS, *args]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return Crawl(p.returncode, p.stdout, p.stderr, time.time() - t, rss)




def site(db: Path, name: str) -> dict:
    (row,) = rows(db, "SELECT * FROM sites WHERE name = ?", name)
    return row


def fetch(db: Path, url: str) -> dict | None:
    got = rows(db, "SELECT * FROM fetches WHERE url = ?", url)
    return got[0] if got else None


def stored_urls(db: Path, site_name: str, role: str) -> set[str]:
    return {u for (u,) in q(db, "SELECT url FROM documents WHERE site = ? AND role = ?", site_name, role)}


def hits(portal, path: str) -> int:
    """How many requests the portal received for this path (query strings aside)."""
    return sum(1 for _, p, _ in portal.requests if p.split("?")[0] == path)
