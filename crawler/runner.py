"""Run the column spider in this process: what `nianbao crawl` calls.

Scrapy's reactor runs once per process, so a caller that crawls more than once (the
demo, tests) runs each crawl in a `nianbao crawl` subprocess.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from scrapy.settings import Settings

from nianbao.pipeline.store import Archive

# Local mock portals only (tests, demo, benchmarks): no artificial delay.
FAST = {"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_START_DELAY": 0, "RETRY_BACKOFF_BASE": 0.05, "LOG_LEVEL": "WARNING"}


def build_settings(archive: str | Path, overrides: dict | None = None, *, fast: bool = False,
                   jobdir: str | None = None) -> Settings:
    s = Settings()
    s.setmodule("nianbao.crawler.settings", priority="project")
    s.set("NIANBAO_ARCHIVE", str(archive), priority="cmdline")
    if fast:
        s.setdict(FAST, priority="cmdline")
    if jobdir:
        s.set("JOBDIR", jobdir, priority="cmdline")
    s.setdict(overrides or {}, priority="cmdline")
    return s


def _prepare_jobdir(archive: str, jobdir: str) -> None:
    """Keep a JOBDIR only to resume a crawl that was shut down gracefully (Ctrl-C,
    SIGTERM: `runs.status = 'shutdown'`). Any other JOBDIR holds a seen-requests file
    that would filter every page of the new crawl: after a finished crawl nothing would
    be fetched again (a corrected report never seen), after a kill pages nobody fetched
    would be skipped. Those start afresh; conditional requests keep them from
    downloading again what the archive holds."""
    if not Path(jobdir).exists():
        return
    row = None
    if Path(archive).exists():
        with Archive(archive) as a:
            row = a.crawl.last_run_with_jobdir(jobdir)
    if row is None or row["status"] != "shutdown":
        shutil.rmtree(jobdir, ignore_errors=True)


def crawl(sites: list[dict], archive: str | Path, *, jobdir: str | None = None, fast: bool = False,
          overrides: dict | None = None) -> tuple[dict, list[dict]]:
    """Crawl `sites` into `archive`; returns (the runs row, the sites rows of this run)."""
    from scrapy.crawler import AsyncCrawlerProcess

    from .spiders.column import ColumnSpider

    archive = str(archive)
    if jobdir:
        jobdir = str(Path(jobdir).resolve())
        _prepare_jobdir(archive, jobdir)
    process = AsyncCrawlerProcess(build_settings(archive, overrides, fast=fast, jobdir=jobdir))
    crawler = process.create_crawler(ColumnSpider)
    process.crawl(crawler, sites=sites)
    process.start()
    run_id = crawler.spider.run_id
    if run_id is None:
        raise RuntimeError("the crawl recorded nothing: no site was configured, or Scrapy stopped before the first page")
    with Archive(archive) as a:
        return a.crawl.run(run_id), a.crawl.sites_of_run(run_id)


def work(frontier: str, archive: str | Path, *, raw: str | Path | None = None, fast: bool = False,
         idle_exit: float = 0, overrides: dict | None = None) -> dict:
    """Be a worker of the shared frontier until stopped (or idle for `idle_exit` seconds).
    `archive` is only read (validators for conditional requests), never written."""
    from scrapy.crawler import AsyncCrawlerProcess

    from .spiders.frontier import FrontierSpider

    s = build_settings(archive, overrides, fast=fast)
    s.set("NIANBAO_FRONTIER", frontier, priority="cmdline")
    if raw:
        s.set("NIANBAO_RAW", str(raw), priority="cmdline")
    s.set("NIANBAO_WORKER_IDLE_EXIT", idle_exit, priority="cmdline")
    process = AsyncCrawlerProcess(s)
    crawler = process.create_crawler(FrontierSpider)
    process.crawl(crawler)
    process.start()
    return crawler.stats.get_stats()
