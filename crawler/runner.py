"""Run the column spider in this process (the CLI's side of Scrapy)."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from . import settings as S


def build_settings(overrides: dict | None = None, *, fast: bool = False, jobdir: str | None = None) -> dict:
    s = dict(S.SETTINGS)
    if fast:
        s.update(S.FAST)
    if jobdir:
        s["JOBDIR"] = jobdir
    s.update(overrides or {})
    return s


def _prepare_jobdir(archive: str, jobdir: str) -> None:
    """A JOBDIR left by a crawl that was killed (not shut down) holds a seen-requests
    file without the queue state to match: resuming from it would skip pages nobody
    fetched. Start that job afresh; the conditional requests keep it from
    downloading again what the killed crawl stored."""
    if not Path(jobdir).exists() or not Path(archive).exists():
        return
    con = sqlite3.connect(archive)
    try:
        row = con.execute("SELECT status FROM runs WHERE jobdir = ? ORDER BY id DESC LIMIT 1", (jobdir,)).fetchone()
    except sqlite3.OperationalError:
        row = None
    finally:
        con.close()
    if row and row[0] in ("running", "interrupted"):
        shutil.rmtree(jobdir, ignore_errors=True)


def crawl(sites: list[dict], archive: str, *, jobdir: str | None = None, fast: bool = False,
          overrides: dict | None = None, store_lists: bool = True) -> dict:
    """Crawl `sites` into `archive`; returns the runs row."""
    from scrapy.crawler import AsyncCrawlerProcess

    from .spiders.column import ColumnSpider

    if jobdir:
        jobdir = str(Path(jobdir).resolve())
        _prepare_jobdir(archive, jobdir)
    process = AsyncCrawlerProcess(build_settings(overrides, fast=fast, jobdir=jobdir))
    crawler = process.create_crawler(ColumnSpider)
    process.crawl(crawler, sites=sites, archive=str(archive), jobdir=jobdir, store_lists=store_lists)
    process.start()
    run_id = crawler.spider.run_id
    from pipeline.store import Archive

    from .state import CrawlState
    a = Archive(archive)
    try:
        return CrawlState(a).run(run_id)
    finally:
        a.close()
