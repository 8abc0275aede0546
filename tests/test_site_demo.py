"""`nianbao demo --no-serve`: mock portals → real crawl → parse → an archive the site
serves. Slow (LibreOffice renders the portals' PDFs once, then they are cached)."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import urllib.request

import pytest

from nianbao.pipeline.site import server

pytestmark = pytest.mark.slow


def test_demo_builds_an_archive_the_site_serves(tmp_path):
    out = subprocess.run([sys.executable, "-m", "nianbao", "demo", "--no-serve", "--dir", str(tmp_path),
                          "--reports", "3"], check=False, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    db = tmp_path / "archive.db"
    assert out.stdout.strip().splitlines()[-1] == str(db)
    con = sqlite3.connect(db)
    n, pdf = con.execute("SELECT COUNT(*), MAX(CASE WHEN container = 'pdf' THEN id END) FROM reports "
                         "WHERE is_primary = 1 AND status != 'not_a_report'").fetchone()
    con.close()
    assert n >= 5 and pdf
    proc, url = server.start(db)
    try:
        with urllib.request.urlopen(f"{url}/report/{pdf}") as r:
            assert "三、收到和处理政府信息公开申请情况" in r.read().decode()
        with urllib.request.urlopen(f"{url}/raw/{pdf}") as r:
            assert r.headers["content-type"] == "application/pdf" and r.read(5) == b"%PDF-"
    finally:
        server.stop(proc)
