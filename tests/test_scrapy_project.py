"""Scrapy's own commands work on the project (scrapy.cfg → nianbao.crawler.settings):
`scrapy list`, `scrapy check` (callbacks against saved pages), `scrapy parse` and
`scrapy shell` against a mock portal over HTTP, `scrapy crawl` into an archive."""
from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
import sys

import pytest
import yaml

from nianbao.devkit.portals import start_portals, stop_portals

ROOT = Path(__file__).resolve().parents[1]
SCRAPY = str(Path(sys.executable).parent / "scrapy")


def scrapy(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    p = subprocess.run([SCRAPY, *args], cwd=cwd, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return p


@pytest.fixture(scope="module")
def portal():
    ps = start_portals(["trs_old"], n_reports=3, n_other=1, seed=500, first_host=81, forms=("html",))
    yield ps[0]
    stop_portals(ps)


def test_scrapy_list_names_the_spider():
    assert scrapy("list").stdout.split() == ["column", "frontier"]  # frontier: the shared-frontier worker


def test_scrapy_check_runs_the_callbacks_on_saved_pages():
    p = scrapy("check")
    assert "Ran 4 contracts" in p.stderr and "OK" in p.stderr


def test_scrapy_parse_shows_what_a_list_page_yields_and_writes_nothing(portal):
    before = set(ROOT.iterdir())
    p = scrapy("parse", "--spider", "column", "-c", "parse_list", "--nolog", portal.column_url)
    details = {e["url"] for e in portal.expected_reports()}
    assert sum(url in p.stdout for url in details) == len(details)
    assert set(ROOT.iterdir()) == before  # no archive.db, no sites/


def test_scrapy_shell_fetches_a_page(portal):
    p = scrapy("shell", portal.column_url, "-c", "(response.status, len(response.css('table a')))", "--nolog")
    status, links = eval(p.stdout.strip())  # noqa: S307 - our own repr of a tuple of ints
    assert status == 200 and links >= 3


def test_scrapy_crawl_fills_an_archive(portal, tmp_path):
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "p.yaml").write_text(yaml.safe_dump(portal.site_config(), allow_unicode=True), "utf-8")
    db = tmp_path / "archive.db"
    scrapy("crawl", "column", "-a", f"sites={sites}", "-s", f"NIANBAO_ARCHIVE={db}", "-s", "DOWNLOAD_DELAY=0",
           "-s", "LOG_LEVEL=WARNING")
    con = sqlite3.connect(db)
    got = {u for (u,) in con.execute("SELECT url FROM documents WHERE role = 'detail'")}
    assert got == {e["url"] for e in portal.expected_reports()}
    assert con.execute("SELECT status FROM sites").fetchall() == [("ok",)]
